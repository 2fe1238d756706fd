"""The round trip of the issue: feed, find, retrieve byte-identical, replace (old version
Deprecated), mask (invisible to another professional, visible to its author), delete."""

from __future__ import annotations

import pytest
from dmp_helpers import PATIENT

from banc.xds import codes as xc
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, minimal_cda, response_root, retrieved
from simulators.dmp_mock.models import APPROVED, DELETED, DEPRECATED
from simulators.dmp_mock.wire import RIM, SUCCESS

pytestmark = pytest.mark.slow


def entry_ids(response) -> list[str]:
    root = response_root(response)
    assert root.get("status") == SUCCESS, response.text[-1500:]
    return [e.get("id") for e in root.iter(f"{{{RIM}}}ExtrinsicObject")]


def test_round_trip(dmp: DmpMock, nurse: DmpClient, doctor: DmpClient) -> None:
    for client in (nurse, doctor):
        assert b"DMPOk" in client.set_authorization(PATIENT).content
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", birth="19751231")
    fed = nurse.provide(cda, PATIENT)
    assert b"ResponseStatusType:Success" in fed.response.content, fed.response.text[-2000:]
    stored = dmp.store.document(unique_id=fed.unique_id)
    assert stored is not None and stored.status == APPROVED and stored.author_id == nurse.author.rpps

    found = entry_ids(doctor.find_documents(PATIENT))
    assert stored.entry_uuid in found
    response = doctor.retrieve(PATIENT, [fed.unique_id])
    assert response.status_code == 200
    assert retrieved(response)[fed.unique_id] == cda  # byte-identical

    new = minimal_cda(PATIENT, family="ADRUN", given="ZOE", birth="19751231", text="version corrigée")
    replacement = nurse.provide(new, PATIENT, replaces=stored.entry_uuid)
    assert b"ResponseStatusType:Success" in replacement.response.content, replacement.response.text[-2000:]
    assert dmp.store.document(unique_id=fed.unique_id).status == DEPRECATED
    current = dmp.store.document(unique_id=replacement.unique_id)
    approved = entry_ids(doctor.find_documents(PATIENT))
    assert current.entry_uuid in approved and stored.entry_uuid not in approved
    assert stored.entry_uuid in entry_ids(doctor.find_documents(PATIENT, statuses=(DEPRECATED,)))

    metadata = response_root(doctor.find_documents(PATIENT)).find(
        f".//{{{RIM}}}ExtrinsicObject[@id='{current.entry_uuid}']")
    masked = nurse.update_visibility(PATIENT, metadata, (xc.CONF_NORMAL, xc.MASQUE_PS))
    assert b"ResponseStatusType:Success" in masked.content, masked.text[-2000:]
    assert "MASQUE_PS" in dmp.store.document(entry_uuid=current.entry_uuid).confidentiality
    assert current.entry_uuid not in entry_ids(doctor.find_documents(PATIENT))
    assert current.entry_uuid in entry_ids(nurse.find_documents(PATIENT))
    denied = doctor.retrieve(PATIENT, [replacement.unique_id])
    assert replacement.unique_id not in retrieved(denied)

    refused = doctor.update_status(PATIENT, current.entry_uuid, APPROVED, DELETED)
    assert b"ResponseStatusType:Failure" in refused.content and b"DMP.ACCESS_DENIED" in refused.content
    assert dmp.store.document(entry_uuid=current.entry_uuid).status == APPROVED
    deleted = nurse.update_status(PATIENT, current.entry_uuid, APPROVED, DELETED)
    assert b"ResponseStatusType:Success" in deleted.content, deleted.text[-1500:]
    assert dmp.store.document(entry_uuid=current.entry_uuid).status == DELETED

    operations = [e.operation for e in dmp.exchanges()]
    assert {"TD0.3", "TD2.1", "TD3.1", "TD3.2", "TD3.3"} <= set(operations)
    refused_exchange = [e for e in dmp.exchanges() if e.operation == "TD3.3" and not e.conform]
    assert refused_exchange and refused_exchange[0].findings[0].requirements
