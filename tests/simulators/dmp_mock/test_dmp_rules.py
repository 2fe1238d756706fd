"""Pure rules of the DMP mock: rights matrix (PDT-INF-526 as data), profiles, visibility,
WS-Addressing, feed rules; and the store's invariants (atomic submissions, indexed queries)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from banc.soap import Addressing
from banc.vihf import OID_PROFESSION, Role, VihfClaims
from simulators.dmp_mock import rules
from simulators.dmp_mock.models import (
    APPROVED,
    DEPRECATED,
    DmpStore,
    NewSubmission,
    Patient,
    StoreConflict,
    StoredSubmission,
)
from simulators.dmp_mock.seed import document_for


def actor(mode: str = "INDIRECTE_RENFORCEE", profession: str = "60", purpose: str = "normal",
          treating: bool = False) -> rules.Actor:
    claims = VihfClaims("810000000001", "A B", "340000000000001", mode=mode, purpose=purpose,
                        roles=(Role(profession, OID_PROFESSION),))
    return rules.Actor.from_claims(claims, treating_doctor=treating)


def test_rights_table_is_complete() -> None:
    table = rules.rights_table()
    columns = {c for row in table.values() for c in row}
    assert len(columns) == 12
    assert all(v in {"oui", "non", "own", "structure"} for row in table.values() for v in row.values())
    assert {"TD0.2", "TD2.1", "TD3.1.metadonnees", "TD3.3c.supprimer"} <= set(table)


@pytest.mark.parametrize(("kwargs", "column"), [
    ({}, "ps.normal"),
    ({"profession": "10"}, "medecin.normal"),
    ({"profession": "10", "purpose": "BRIS_DE_GLACE"}, "medecin.bdg"),
    ({"profession": "10", "treating": True}, "mt.normal"),
    ({"mode": "INDIRECTE"}, "es.normal"),
    ({"mode": "INDIRECTE", "purpose": "CENTRE_15"}, "es.regulation"),
    ({"profession": ""}, "cpe.normal"),
])
def test_actor_profiles(kwargs: dict, column: str) -> None:
    assert actor(**kwargs).column == column


def test_matrix_decisions() -> None:
    assert not rules.check_right("TD2.1", actor())
    assert rules.check_right("TD0.5", actor())  # search without INS: regulation only
    assert not rules.check_right("TD0.5", actor(purpose="CENTRE_15"))
    assert rules.check_right("TD3.1.metadonnees", actor(mode="INDIRECTE"))  # ES certificate alone
    assert not rules.check_right("TD3.1.reference", actor(mode="INDIRECTE"))
    denied = rules.check_right("TD3.3c.supprimer", actor(), author_id="someone-else")
    assert denied and "auteur" in denied[0].message and denied[0].requirements
    assert not rules.check_right("TD3.3c.supprimer", actor(), author_id="810000000001")
    assert not rules.check_right("TD3.3c.supprimer", actor(mode="INDIRECTE"), author_structure="340000000000001")


def test_visibility() -> None:
    masked = ("N", rules.MASQUE_PS)
    assert rules.visible_to_professional(("N",), actor(), "x")
    assert not rules.visible_to_professional(masked, actor(), "x")
    assert rules.visible_to_professional(masked, actor(), "810000000001")  # its author
    assert rules.visible_to_professional(masked, actor(profession="10", treating=True), "x")
    assert not rules.visible_to_patient(("N", rules.INVISIBLE_PATIENT))
    assert rules.visible_to_patient(("N", rules.INVISIBLE_RL))
    assert not rules.visible_to_patient(("N", rules.INVISIBLE_RL), legal_representative=True)


def test_addressing() -> None:
    both = frozenset({"Action", "To"})
    assert not rules.check_addressing(Addressing(message_id="urn:uuid:1", action="a"), present=both)
    found = rules.check_addressing(Addressing(action="a"), present=frozenset({"Action"}))
    assert {f.location for f in found} == {"wsa:MessageID", "wsa:To"}
    # an empty <wsa:Action/> (official WSDL with soapAction="") is present, not missing
    assert not rules.check_addressing(Addressing(message_id="urn:uuid:1"), present=both)


@pytest.mark.parametrize(("action", "body", "service", "expected"), [
    ("urn:hl7-org:v3:setAuthorization", "{urn:si-dmp-habilitations}setAuthorization", "habilitations",
     "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization"),
    ("", "{urn:si-dmp-patients}patientList", "patientsSpecific",
     "urn:si-dmp-patients:PatientSpecificEndPoint:patientList"),
    ("", "{urn:hl7-org:v3}PRPA_IN201307UV02", "patients", "urn:hl7-org:v3:PRPA_IN201307UV02"),
    ("urn:ihe:iti:2007:RegistryStoredQuery", "{urn:ihe:iti:xds-b:2007}RetrieveDocumentSetRequest", "registry", None),
    ("", "{urn:si-dmp-patients}patientList", "registry", None),
    ("", "{urn:x}inconnu", "patients", None),
    ("urn:ihe:iti:2007:RetrieveDocumentSetAsync", "{urn:x}y", "repository", None),
])
def test_resolve_action(action: str, body: str, service: str, expected: str | None) -> None:
    canonical, findings = rules.resolve_action(action, body, service)
    assert canonical == expected
    if expected is None:
        assert [f.rule_id for f in findings] == ["WSA.ACTION"] and findings[0].is_error
    else:
        assert not any(f.is_error for f in findings)
        assert bool(findings) == (action != expected)  # inferred → an INFO note says how


def test_store_submission_is_atomic(tmp_path: Path) -> None:
    store = DmpStore(tmp_path / "dmp.sqlite")
    patient = store.add_patient(Patient("275126322074974", family="ADRUN", given="ZOE"))
    first = document_for(patient, 1)
    store.bulk_insert([first])
    second = document_for(patient, 2)
    duplicate = dataclasses.replace(document_for(patient, 3), unique_id=first.unique_id)
    submission = StoredSubmission("urn:uuid:set", "1.2.3", patient.ins, "1.2", "2024", "a", b"<x/>")
    with pytest.raises(StoreConflict) as error:
        store.submit(NewSubmission(submission, [second, duplicate], [], deprecate=[first.entry_uuid]))
    assert error.value.code == "XDSDuplicateUniqueIdInRegistry"
    assert store.count_documents() == 1 and store.document(entry_uuid=first.entry_uuid).status == APPROVED
    assert store.submission_sets(patient.ins) == []
    store.submit(NewSubmission(submission, [second], [], deprecate=[first.entry_uuid]))
    assert store.document(entry_uuid=first.entry_uuid).status == DEPRECATED
    with pytest.raises(StoreConflict) as error:  # a version can be replaced only once
        store.submit(NewSubmission(dataclasses.replace(submission, entry_uuid="urn:uuid:s2", unique_id="9"),
                                   [document_for(patient, 4)], [], deprecate=[first.entry_uuid]))
    assert error.value.code == "XDSReplaceFailed"


def test_find_documents_uses_the_patient_index(tmp_path: Path) -> None:
    store = DmpStore(tmp_path / "dmp.sqlite")
    db = store._database.connection()
    plan = db.execute("EXPLAIN QUERY PLAN SELECT * FROM documents WHERE patient_ins = ? AND status IN (?)"
                      " ORDER BY creation_time DESC", ("x", APPROVED)).fetchall()
    assert any("documents_by_patient" in str(row) for row in plan)


def test_seed_documents_pass_the_feed_rules(tmp_path: Path) -> None:
    """The seed's factory documents would be accepted by the mock itself (metadata = CDA header)."""
    from lxml import etree

    from banc.xds.checks import check_against_cda
    from banc.xds.ebrim import entry_from_element
    from simulators.dmp_mock.seed import seed_store

    store = DmpStore(tmp_path / "dmp.sqlite")
    assert seed_store(store, documents_per_patient=2) >= 9
    value_sets = rules.ValueSets.load()
    documents = store.documents("275126322074974")
    assert {d.type_code for d in documents} == {"11490-0", "SYNTH"}
    for doc in documents:
        full = store.document(entry_uuid=doc.entry_uuid, with_content=True)
        entry = entry_from_element(etree.fromstring(full.metadata))
        errors = [f for f in check_against_cda(entry, etree.fromstring(full.content)) if f.is_error]
        errors += [f for f in rules.check_value_sets(entry, value_sets) if f.is_error]
        assert not errors, errors


def test_signature_document() -> None:
    assert not rules.check_signature_document(b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>', "u")
    assert rules.check_signature_document(b"<pas-une-signature/>", "u")[0].rule_id == "DMP.SIGNATURE_DOCUMENT"
    assert rules.check_signature_document(b"\x00binaire", "u")
