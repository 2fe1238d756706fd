"""Each availability status × consultation: a deleted document is gone (FindDocuments whatever
the statuses asked, GetDocuments, ITI-43, further ITI-57), archived and deprecated ones keep
their documented behaviour (found when their status is asked, retrievable)."""

from __future__ import annotations

import pytest
from dmp_helpers import PATIENT

from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, minimal_cda, response_root, retrieved
from simulators.dmp_mock.models import APPROVED, ARCHIVED, DELETED, DEPRECATED
from simulators.dmp_mock.wire import GET_DOCUMENTS, RIM

pytestmark = pytest.mark.slow
ALL = (APPROVED, ARCHIVED, DEPRECATED, DELETED)


def found(response) -> set[str]:
    return {e.get("id") for e in response_root(response).iter(f"{{{RIM}}}ExtrinsicObject")}


@pytest.mark.parametrize("status", [APPROVED, ARCHIVED, DEPRECATED, DELETED],
                         ids=["approuve", "archive", "obsolete", "supprime"])
def test_status_and_consultation(dmp: DmpMock, nurse: DmpClient, status: str) -> None:
    nurse.set_authorization(PATIENT)
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", text=f"statut {status}")
    fed = nurse.provide(cda, PATIENT)
    assert b"ResponseStatusType:Success" in fed.response.content, fed.response.text[-1500:]
    entry_uuid = dmp.store.document(unique_id=fed.unique_id).entry_uuid
    if status == DEPRECATED:
        replaced = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE", text="v2"), PATIENT,
                                 replaces=entry_uuid)
        assert b"ResponseStatusType:Success" in replaced.response.content
    elif status != APPROVED:
        changed = nurse.update_status(PATIENT, entry_uuid, APPROVED, status)
        assert b"ResponseStatusType:Success" in changed.content, changed.text[-1500:]
    assert dmp.store.document(unique_id=fed.unique_id).status == status

    # ITI-18 FindDocuments asking every status, then GetDocuments by uniqueId
    listed = found(nurse.find_documents(PATIENT, statuses=ALL))
    by_id = found(nurse.query(PATIENT, GET_DOCUMENTS, {"$XDSDocumentEntryUniqueId": [fed.unique_id]}))
    # ITI-43
    response = nurse.retrieve(PATIENT, [fed.unique_id])
    if status == DELETED:
        assert entry_uuid not in listed and entry_uuid not in by_id
        assert fed.unique_id not in retrieved(response)
        assert b"XDSDocumentUniqueIdError" in response.content and "supprimé".encode() in response.content
        again = nurse.update_status(PATIENT, entry_uuid, DELETED, APPROVED)  # no resurrection
        assert b"ResponseStatusType:Failure" in again.content
        assert dmp.store.document(unique_id=fed.unique_id).status == DELETED
    else:
        assert entry_uuid in listed and entry_uuid in by_id
        assert retrieved(response)[fed.unique_id] == cda
        only_approved = found(nurse.find_documents(PATIENT))
        assert (entry_uuid in only_approved) == (status == APPROVED)
