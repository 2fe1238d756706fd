"""The DMP mock's transaction decisions, judged directly (no server): which document a request
reaches, which XDS error or refusal answers it, what a relaxed setting changes. The handlers
only read, call these and write; the findings all come from the mock's rule sets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from banc.verdict import Severity
from banc.vihf import OID_PROFESSION, Role, VihfCheck, VihfClaims
from simulators.dmp_mock import rules, rules_patients, rules_xds
from simulators.dmp_mock.models import (
    APPROVED,
    ARCHIVED,
    DELETED,
    Authorization,
    Patient,
    StoredDocument,
)

PATIENT = "248039263001064"
OTHER = "190019900100123"
MOCK = Path(rules.__file__).parent


def claims(ins: str = PATIENT, purpose: str = "normal", profession: str = "60") -> VihfClaims:
    return VihfClaims("810000000001", "CLAIRE SOIGNANTE", "340000000000001", mode="INDIRECTE_RENFORCEE",
                      purpose=purpose, patient_ins=ins, roles=(Role(profession, OID_PROFESSION),))


def document(status: str = APPROVED, ins: str = PATIENT) -> StoredDocument:
    return StoredDocument("urn:uuid:d1", "1.2.3.1", ins, status, content=b"<ClinicalDocument/>")


def test_rule_sets_bind_prefix_case_and_requirements() -> None:
    own = rules.RULES.finding("value_set", "m")
    assert (own.rule_id, own.ruleset, own.requirements) == ("DMP.VALUE_SET", "dmp", rules.REQ_FEED)
    xds = rules.XDS.finding("XDSUnknownPatientId", "m", requirements=rules.REQ_MANAGE)
    assert (xds.rule_id, xds.requirements) == ("XDSUnknownPatientId", ("SC.DMP.02.MS1",))  # IHE spelling kept
    assert rules.UNREADABLE.finding("mtom-bad-boundary", "m").rule_id == "SOAP.mtom-bad-boundary"
    with pytest.raises(ValueError, match="inconnu"):
        rules.XDS.finding("XDSPatientIdDoesNotMatchh", "m")  # a typo in an IHE code is a bug
    with pytest.raises(ValueError, match="catalogue"):
        rules.RULES.finding("X", "m", requirements=("SC.DMP.99.MS1",))


def test_only_rule_modules_build_findings() -> None:
    """Handlers (app, core, documents, patients) take no decision: no finding, no severity there."""
    for path in MOCK.glob("*.py"):
        if path.stem.startswith("rules"):
            continue
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\bSeverity\b|\bFinding\(|\.finding\(|def _?finding\(", source), path.name


@pytest.mark.parametrize(("doc", "new", "original", "expected"), [
    (document(), DELETED, APPROVED, "TD3.3c.supprimer"),
    (document(ARCHIVED), APPROVED, "", "TD3.3d.desarchiver"),
    (document(ins=OTHER), DELETED, "", "XDSDocumentUniqueIdError"),  # another patient's record
    (document(DELETED), APPROVED, "", "XDSDocumentUniqueIdError"),  # no resurrection
    (None, DELETED, "", "XDSDocumentUniqueIdError"),
    (document(), ARCHIVED, ARCHIVED, "XDSRegistryMetadataError"),  # stale OriginalStatus
    (document(), "urn:x:Bogus", "", "XDSRegistryMetadataError"),
], ids=["supprimer", "desarchiver", "autre-patient", "supprime", "inconnu", "statut-origine", "statut-inconnu"])
def test_status_change(doc: StoredDocument | None, new: str, original: str, expected: str) -> None:
    action, refused = rules_xds.judge_status_change("urn:uuid:d1", doc, PATIENT, new, original)
    if expected.startswith("TD"):
        assert (action, refused) == (expected, [])
    else:
        assert action is None and [f.rule_id for f in refused] == [expected]
        assert refused[0].is_error and refused[0].requirements == ("SC.DMP.02.MS1",)


def test_masking_changes_name_their_rights_action() -> None:
    changes = rules_xds.confidentiality_changes((rules.INVISIBLE_PATIENT,), (rules.MASQUE_PS,))
    assert changes == [("TD3.3a.masquer", f"+{rules.MASQUE_PS}"),
                       ("TD3.3b.visible_patient", f"-{rules.INVISIBLE_PATIENT}")]
    assert rules_xds.check_update_not_empty(False, False)[0].rule_id == "XDSRegistryMetadataError"
    assert not rules_xds.check_update_not_empty(True, False)


def test_feeding_a_closed_or_unknown_dmp_is_refused() -> None:
    ins = (PATIENT, "1.2.250.1.213.1.4.10")
    assert not rules_xds.check_feed_patient(ins, claims(), None, Patient(PATIENT))
    closed = rules_xds.check_feed_patient(ins, claims(), None, Patient(PATIENT, status="terminated"))
    assert [(f.rule_id, f.message) for f in closed] == [("XDSUnknownPatientId", f"le DMP de l'INS {PATIENT} est fermé")]
    assert rules_xds.check_feed_patient(ins, claims(), None, None)[0].rule_id == "XDSUnknownPatientId"
    blocked = Authorization(PATIENT, "810000000001", state="BLOQUE")
    assert [f.rule_id for f in rules_xds.check_feed_patient(ins, claims(), blocked, Patient(PATIENT))] == [
        "DMP.ACCESS_DENIED"]


def test_lenient_mode_never_relaxes_identity_errors() -> None:
    identity = rules.XDS.finding("XDSPatientIdDoesNotMatch", "autre patient")
    value_set = rules.RULES.finding("VALUE_SET", "code hors jeu de valeurs")
    strict, note = rules_xds.leniently([identity, value_set], lenient=False)
    assert strict == [identity, value_set] and note is None
    relaxed, note = rules_xds.leniently([identity, value_set], lenient=True)
    assert [f.severity for f in relaxed] == [Severity.ERROR, Severity.WARNING]
    assert note == "1 erreur(s) de métadonnées en mode tolérant (DMP.VALUE_SET)"


def test_documents_pair_with_their_entries() -> None:
    assert rules_xds.match_documents(["Doc01"], ["Doc01"], too_large=False, trust_official_examples=False) == (
        {}, [], [])
    aliases, relaxed, errors = rules_xds.match_documents(["Doc01"], ["doc01"], too_large=False,
                                                         trust_official_examples=True)
    assert aliases == {"doc01": "Doc01"} and [f.rule_id for f in relaxed] == ["DMP.RELAXED.DOCUMENT_ID"]
    assert not errors
    _, _, errors = rules_xds.match_documents(["Doc01"], ["doc01"], too_large=False, trust_official_examples=False)
    assert [f.rule_id for f in errors] == ["XDSMissingDocument"]
    assert rules_xds.match_documents(["Doc01"], [], too_large=True, trust_official_examples=False)[2] == []
    assert rules_xds.check_document_size("Doc01", 21 * 1_048_576, 20 * 1_048_576)[0].rule_id == "XDSRepositoryError"


def test_retrieval_reaches_only_this_patients_current_documents() -> None:
    assert not rules_xds.check_retrieval("1.2.3.1", document(ARCHIVED), PATIENT)
    assert rules_xds.check_retrieval("1.2.3.1", document(DELETED), PATIENT)[0].requirements == ("SC.DMP.02.MS1",)
    assert rules_xds.check_retrieval("1.2.3.1", document(ins=OTHER), PATIENT)[0].rule_id == "XDSPatientIdDoesNotMatch"
    assert rules_xds.check_repository("1.2.3")[0].rule_id == "XDSUnknownRepositoryId"
    assert rules_xds.retrieval_right(ARCHIVED) == "TD3.2.archive"


def test_authorization_and_rights_report_mode() -> None:
    nurse = rules.Actor.from_claims(claims())
    denied = rules.check_authorized(nurse, PATIENT, Authorization(PATIENT, nurse.id, state="BLOQUE"))
    assert [f.rule_id for f in denied] == ["DMP.NOT_AUTHORIZED"] and "bloqué" in denied[0].message
    assert not rules.check_authorized(rules.Actor.from_claims(claims(purpose="BRIS_DE_GLACE")), PATIENT, None)
    reported, note = rules.downgraded(denied, relax=True, why="autorisation absente")
    assert [f.severity for f in reported] == [Severity.WARNING] and note == "autorisation absente"
    assert rules.downgraded(denied, relax=False, why="x") == (denied, None)
    tolerated = rules.tolerance([note], reported)
    assert tolerated is not None and tolerated.rule_id == "DMP.TOLERATED"
    assert rules.tolerance([note], denied) is None  # a refused exchange is not 'tolerated'


def test_patient_record_transactions() -> None:
    assert rules_patients.judge_patient_update("FERM", Patient(PATIENT)) == ("terminated", [])
    _, refused = rules_patients.judge_patient_update("FERM", Patient(PATIENT, status="terminated"))
    assert [(f.rule_id, f.message) for f in refused] == [("DMP.PATIENT_UPDATE", "le DMP est déjà fermé")]
    assert rules_patients.judge_patient_update("REAC", Patient(PATIENT))[0] is None
    blocked = Authorization(PATIENT, "810000000001", state="BLOQUE")
    change, text, refused = rules_patients.judge_authorization("AJOUT", PATIENT, Patient(PATIENT), blocked)
    assert change is None and [f.rule_id for f in refused] == ["DMP.TD03"] and "bloqué" in text
    assert rules_patients.judge_authorization("AJOUT", PATIENT, Patient(PATIENT), None)[:2] == (
        "add", "Autorisation ajoutée")
    assert rules_patients.check_authorization_action("MODIFIER")[0].rule_id == "DMP.TD03"
    assert rules_patients.check_create(None, None)[0].rule_id == "DMP.CREATE"


def test_web_access_needs_a_signed_token_for_this_patient() -> None:
    assert "sans jeton" in rules_patients.check_web_token(None, PATIENT)[0].message
    assert "illisible" in rules_patients.check_web_token(None, PATIENT, unreadable="pas du XML")[0].message
    unsigned = VihfCheck(claims=claims(), findings=[], signed=False)
    assert [f.rule_id for f in rules_patients.check_web_token(unsigned, PATIENT)] == ["DMP.TD09"]
    signed = VihfCheck(claims=claims(), findings=[], signed=True)
    assert not rules_patients.check_web_token(signed, PATIENT)
    assert "page du patient" in rules_patients.check_web_token(signed, OTHER)[0].message
    assert rules_patients.check_web_token(signed, OTHER)[0].requirements == ("SC.DMP.03.MS1",)
    assert rules_patients.check_web_professional(rules.Actor.from_claims(claims(profession="")))
