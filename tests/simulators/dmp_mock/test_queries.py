"""ITI-18 stored queries beyond FindDocuments: GetDocuments, FindSubmissionSets, GetAssociations
(the signature document's `signs` association), filters, ObjectRef, unknown query."""

from __future__ import annotations

import pytest
from dmp_helpers import PATIENT

from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, minimal_cda, response_root
from simulators.dmp_mock.wire import (
    FIND_DOCUMENTS,
    FIND_SUBMISSION_SETS,
    GET_ASSOCIATIONS,
    GET_DOCUMENTS,
    RIM,
    SUCCESS,
)

pytestmark = pytest.mark.slow
CX = f"{PATIENT}^^^&1.2.250.1.213.1.4.10&ISO^NH"


def ids(response, tag: str) -> list[str]:
    root = response_root(response)
    assert root.get("status") == SUCCESS, response.text[-1500:]
    return [e.get("id") for e in root.iter(f"{{{RIM}}}{tag}")]


def test_stored_queries(dmp: DmpMock, nurse: DmpClient) -> None:
    nurse.set_authorization(PATIENT)
    fed = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE", type_code=("34133-9", "Synthèse")),
                        PATIENT)
    stored = dmp.store.document(unique_id=fed.unique_id)

    assert ids(nurse.query(PATIENT, GET_DOCUMENTS, {"$XDSDocumentEntryUniqueId": [fed.unique_id]}),
               "ExtrinsicObject") == [stored.entry_uuid]
    assert ids(nurse.query(PATIENT, GET_DOCUMENTS, {"$XDSDocumentEntryEntryUUID": [stored.entry_uuid]},
                           return_type="ObjectRef"), "ObjectRef") == [stored.entry_uuid]

    sets = ids(nurse.query(PATIENT, FIND_SUBMISSION_SETS, {"$XDSSubmissionSetPatientId": [CX]}),
               "RegistryPackage")
    assert stored.submission_uuid in sets

    associations = response_root(nurse.query(PATIENT, GET_ASSOCIATIONS, {"$uuid": [stored.submission_uuid]}))
    kinds = {a.get("associationType") for a in associations.iter(f"{{{RIM}}}Association")}
    assert {"urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember",
            "urn:ihe:iti:2007:AssociationType:signs"} <= kinds

    by_type = ids(nurse.query(PATIENT, FIND_DOCUMENTS, {
        "$XDSDocumentEntryPatientId": [CX],
        "$XDSDocumentEntryStatus": ["urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"],
        "$XDSDocumentEntryTypeCode": ["34133-9^^2.16.840.1.113883.6.1"]}), "ExtrinsicObject")
    assert by_type == [stored.entry_uuid]

    unknown = nurse.query(PATIENT, "urn:uuid:00000000-0000-0000-0000-000000000000", {})
    assert b"XDSUnknownStoredQuery" in unknown.content


def test_professional_not_authorized_cannot_search(dmp: DmpMock, pki) -> None:
    from dmp_helpers import DOCTOR

    stranger = DmpClient(dmp.url, pki, author=DOCTOR.__class__(**{**DOCTOR.__dict__, "rpps": "810000000555"}))
    refused = stranger.find_documents(PATIENT)
    assert b"DMP.NOT_AUTHORIZED" in refused.content and b"Failure" in refused.content
    assert stranger.td02(PATIENT).status_code == 200  # existence test is always allowed
    stranger.close()
