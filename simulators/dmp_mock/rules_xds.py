"""Decisions of the DMP's XDS.b transactions: what a request reaches and which IHE error (or DMP
refusal) answers it — ITI-18 stored queries, ITI-57 updates, ITI-43 retrieval, ITI-41 feeding.

Pure like `rules`: the handlers in `documents.py` read the request and the store, call these,
and write what they allow. Documents are the store's records as the handler read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from lxml import etree

from banc.verdict import Finding, Severity, Verdict
from banc.vihf import VihfClaims
from banc.xds.checks import check_against_cda, check_metadata
from banc.xds.model import DocumentEntry, Submission
from banc.xml import XmlInputError, parse_untrusted
from simulators.dmp_mock import wire
from simulators.dmp_mock.models import (
    APPROVED,
    ARCHIVED,
    DELETED,
    DEPRECATED,
    Authorization,
    Patient,
    StoredAssociation,
    StoredDocument,
)
from simulators.dmp_mock.rules import (
    INVISIBLE_PATIENT,
    INVISIBLE_RL,
    MASQUE_PS,
    REQ_MANAGE,
    RULES,
    XDS,
    ValueSets,
    check_signature_document,
    check_submission,
    consultable,
    is_signature,
    patient_of,
)

NEVER_LENIENT = ("XDSUnknownPatientId", "XDSReplaceFailed", "XDSPatientIdDoesNotMatch", "DMP.PATIENT_ID")
"""Identity and registry-integrity errors refuse even in lenient mode: accepting them would file a
document in the wrong record."""


def in_record(doc: StoredDocument | None, patient_ins: str) -> bool:
    """The document exists, belongs to this patient's DMP and is not deleted (TD3.3c)."""
    return doc is not None and doc.patient_ins == patient_ins and consultable(doc.status)


# -- ITI-18 (TD3.1) ----------------------------------------------------------------------------


def unreadable_query(message: str) -> Finding:
    return XDS.finding("XDSRegistryMetadataError", f"{message} (ITI-18 : rim:AdhocQuery obligatoire)",
                       location="query:AdhocQueryRequest")


def query_right(return_type: str) -> str:
    """References only (ObjectRef) and full metadata are two lines of the rights matrix."""
    return "TD3.1.reference" if return_type == "ObjectRef" else "TD3.1.metadonnees"


def check_query_patient(value: str | None, claims: VihfClaims) -> tuple[tuple[str, str] | None, list[Finding]]:
    """The patient a query names: well formed, and the VIHF's (resource-id) when it names one."""
    patient = patient_of(value or "")
    if patient is None:
        return None, [XDS.finding("XDSStoredQueryParamNumber",
                                  f"identifiant patient de la requête absent ou mal formé : {value!r}")]
    if claims.patient_ins and (claims.patient_ins, claims.patient_oid) != patient:
        return None, [XDS.finding(
            "XDSPatientIdDoesNotMatch",
            f"patient de la requête ({patient[0]}, OID {patient[1]}) différent du resource-id du VIHF "
            f"({claims.patient_ins}, OID {claims.patient_oid})")]
    return patient, []


def queried_statuses(requested: list[str] | None) -> list[str]:
    """$XDSDocumentEntryStatus (Approved by default), deleted documents never listed."""
    return [s for s in requested or [APPROVED] if consultable(s)]


def check_get_documents(asked: int) -> list[Finding]:
    if asked:
        return []
    return [XDS.finding("XDSStoredQueryParamNumber",
                        "GetDocuments sans $XDSDocumentEntryEntryUUID ni $XDSDocumentEntryUniqueId")]


def association_in_record(association: StoredAssociation, patient_ins: str) -> bool:
    return not association.patient_ins or association.patient_ins == patient_ins


def unknown_query(query_id: str) -> Finding:
    return XDS.finding("XDSUnknownStoredQuery", f"requête enregistrée {query_id!r} non prise en charge "
                       f"({', '.join(wire.STORED_QUERIES.values())})")


# -- ITI-57 (TD3.3) ----------------------------------------------------------------------------

STATUS_ACTIONS = {DELETED: "TD3.3c.supprimer", ARCHIVED: "TD3.3d.archiver", APPROVED: "TD3.3d.desarchiver"}
"""New availability status → the line of the rights matrix that allows it."""

CONFIDENTIALITY_ACTIONS = (
    (MASQUE_PS, "TD3.3a.masquer", "TD3.3a.demasquer"),
    (INVISIBLE_PATIENT, "TD3.3b.visible_patient", "TD3.3b.visible_patient"),
    (INVISIBLE_RL, "TD3.3b.visible_patient", "TD3.3b.visible_patient"),
)
"""Confidentiality code → (action to add it, action to remove it)."""


def judge_status_change(target: str, doc: StoredDocument | None, patient_ins: str, new_status: str,
                        original: str) -> tuple[str | None, list[Finding]]:
    """The rights action an UpdateAvailabilityStatus needs, or the error refusing it: the
    document must be in this DMP, its OriginalStatus (when given) current, its NewStatus one the
    DMP offers (Deleted, Archived, Approved)."""
    if not in_record(doc, patient_ins):
        return None, [XDS.finding("XDSDocumentUniqueIdError",
                                  f"document {target} inconnu (ou supprimé) dans le DMP de ce patient",
                                  requirements=REQ_MANAGE)]
    assert doc is not None
    if original and original != doc.status:
        return None, [XDS.finding("XDSRegistryMetadataError",
                                  f"statut d'origine {original} ≠ statut actuel {doc.status}",
                                  requirements=REQ_MANAGE)]
    action = STATUS_ACTIONS.get(new_status)
    if action is None:
        return None, [XDS.finding("XDSRegistryMetadataError", f"nouveau statut {new_status!r} non pris en charge",
                                  requirements=REQ_MANAGE)]
    return action, []


def check_metadata_update(lid: str, doc: StoredDocument | None, patient_ins: str) -> list[Finding]:
    """A new metadata version (masking, visibility) updates a document of this DMP, by its lid."""
    if in_record(doc, patient_ins):
        return []
    return [XDS.finding("XDSDocumentUniqueIdError", f"document {lid!r} (lid) inconnu dans le DMP de ce patient",
                        requirements=REQ_MANAGE)]


def confidentiality_changes(before: Iterable[str], after: Iterable[str]) -> list[tuple[str, str]]:
    """(rights action, '+CODE' or '-CODE') for each confidentiality code added or removed."""
    old, new = set(before), set(after)
    changes = []
    for code, added, removed in CONFIDENTIALITY_ACTIONS:
        if code in new - old:
            changes.append((added, f"+{code}"))
        if code in old - new:
            changes.append((removed, f"-{code}"))
    return changes


def check_update_not_empty(planned: bool, reported: bool) -> list[Finding]:
    """An ITI-57 that changes nothing (no status association, no metadata version) and drew no
    other finding is an error."""
    if planned or reported:
        return []
    return [XDS.finding("XDSRegistryMetadataError", "mise à jour sans association UpdateAvailabilityStatus ni "
                        "nouvelle version de métadonnées", requirements=REQ_MANAGE)]


# -- ITI-43 (TD3.2) ----------------------------------------------------------------------------


def check_repository(repository: str) -> list[Finding]:
    if repository == wire.REPOSITORY_ID:
        return []
    return [XDS.finding("XDSUnknownRepositoryId", f"entrepôt {repository!r} inconnu ({wire.REPOSITORY_ID} attendu)")]


def check_retrieval(unique_id: str, doc: StoredDocument | None, patient_ins: str) -> list[Finding]:
    """The document exists with content, is not deleted, and is the VIHF patient's."""
    if doc is None or doc.content is None:
        return [XDS.finding("XDSDocumentUniqueIdError", f"document {unique_id!r} inconnu")]
    if not consultable(doc.status):
        return [XDS.finding("XDSDocumentUniqueIdError",
                            f"document {unique_id} supprimé du DMP (TD3.3c) : plus consultable",
                            requirements=REQ_MANAGE)]
    if patient_ins and doc.patient_ins != patient_ins:
        return [XDS.finding("XDSPatientIdDoesNotMatch",
                            f"document {unique_id} d'un autre patient que le resource-id du VIHF")]
    return []


def retrieval_right(status: str) -> str:
    """Deprecated and archived versions are separate lines of the rights matrix."""
    return {DEPRECATED: "TD3.2.obsolete", ARCHIVED: "TD3.2.archive"}.get(status, "TD3.2.normal")


# -- ITI-41 (TD2.1) ----------------------------------------------------------------------------


def missing_object_list() -> Finding:
    return XDS.finding("XDSRegistryMetadataError",
                       "ProvideAndRegisterDocumentSetRequest sans SubmitObjectsRequest/RegistryObjectList")


def unreadable_content(message: str) -> Finding:
    """An xdsb:Document whose content cannot be read (MTOM/XOP error)."""
    return XDS.finding("XDSMissingDocument", message)


def check_document_size(document_id: str, size: int, limit: int) -> list[Finding]:
    if size <= limit:
        return []
    return [XDS.finding("XDSRepositoryError", f"document {document_id} de {size / 1_048_576:.1f} Mo : au-delà de "
                        f"la limite de {limit / 1_048_576:.0f} Mo du DMP")]


def match_documents(extrinsic_ids: list[str], document_ids: Iterable[str], *, too_large: bool,
                    trust_official_examples: bool) -> tuple[dict[str, str], list[Finding], list[Finding]]:
    """Pair each ExtrinsicObject with its xdsb:Document: (aliases Document id → ExtrinsicObject id,
    relaxed notes, errors). A Document whose id differs only by case is paired under the
    official-examples option (the ANS examples do that); a missing one is XDSMissingDocument,
    unless a Document was already refused as too large (one error says it)."""
    available = dict.fromkeys(document_ids)
    aliases: dict[str, str] = {}
    relaxed: list[Finding] = []
    errors: list[Finding] = []
    for ident in extrinsic_ids:
        if ident in available:
            continue
        alias = next((k for k in available if k.lower() == ident.lower()), None)
        if alias is not None and trust_official_examples:
            del available[alias]
            available[ident] = None
            aliases[alias] = ident
            relaxed.append(RULES.finding(
                "RELAXED.DOCUMENT_ID",
                f"option « exemples officiels » : Document id={alias!r} rattaché à l'ExtrinsicObject "
                f"{ident!r} (casse différente)", severity=Severity.WARNING))
        elif not too_large:
            errors.append(XDS.finding("XDSMissingDocument", f"aucun Document pour l'ExtrinsicObject {ident!r}"))
    return aliases, relaxed, errors


def no_submission_set() -> Finding:
    return XDS.finding("XDSRegistryMetadataError", "aucun lot de soumission (RegistryPackage classé SubmissionSet)")


def check_feed_patient(ins: tuple[str, str] | None, claims: VihfClaims, authorization: Authorization | None,
                       patient: Patient | None) -> list[Finding]:
    """The DMP fed must exist and be open; a professional the patient blocked may not feed it."""
    findings = []
    if ins and claims.patient_ins and ins[0] == claims.patient_ins and (
            authorization is not None and authorization.state == "BLOQUE"):
        findings.append(RULES.finding("ACCESS_DENIED", "professionnel bloqué par le patient"))
    if ins and patient is None:
        findings.append(XDS.finding("XDSUnknownPatientId", f"aucun DMP pour l'INS {ins[0]}"))
    elif ins and patient is not None and patient.status != "active":
        findings.append(XDS.finding("XDSUnknownPatientId", f"le DMP de l'INS {ins[0]} est fermé"))
    return findings


def check_feed_metadata(submission: Submission, claims: VihfClaims, value_sets: ValueSets) -> list[Finding]:
    """The generic XDS metadata checks, without their patient consistency rule (the DMP's own,
    in `check_submission`, also compares with the VIHF), then the DMP's."""
    generic = [f for f in check_metadata(submission) if f.rule_id != "XDS-PATIENT-MISMATCH"]
    return generic + check_submission(submission, claims, value_sets)


def check_replacement(target: str, previous: StoredDocument | None, ins: tuple[str, str] | None) -> list[Finding]:
    """An RPLC association replaces a document of the same DMP."""
    if previous is not None and previous.patient_ins == (ins[0] if ins else ""):
        return []
    return [XDS.finding("XDSReplaceFailed", f"document remplacé {target} inconnu dans ce DMP",
                        requirements=REQ_MANAGE)]


def check_content(entry: DocumentEntry, data: bytes) -> tuple[etree._Element | None, list[Finding]]:
    """A fed document's content against its entry: the signature document is an XML-DSig
    Signature; an XML (CDA) document parses safely and agrees with its metadata. The parsed CDA
    is returned for the CDA engine (None for the signature, a PDF, or unreadable XML)."""
    if is_signature(entry):
        return None, check_signature_document(data, entry.unique_id)
    if entry.mime_type != "text/xml":
        return None, []
    try:
        root = parse_untrusted(data, what=f"le document {entry.unique_id}")
    except XmlInputError as exc:
        return None, [RULES.finding("CDA", exc.message)]
    return root, check_against_cda(entry, root)


def leniently(findings: list[Finding], *, lenient: bool) -> tuple[list[Finding], str | None]:
    """Strictness 'lenient': metadata errors become warnings (and the tolerance note says how
    many), except identity and registry-integrity errors (`NEVER_LENIENT`)."""
    if not lenient:
        return findings, None
    relaxed = [f for f in findings if f.is_error and f.rule_id not in NEVER_LENIENT]
    if not relaxed:
        return findings, None
    note = (f"{len(relaxed)} erreur(s) de métadonnées en mode tolérant "
            f"({', '.join(sorted({f.rule_id for f in relaxed}))})")
    return [replace(f, severity=Severity.WARNING) if f in relaxed else f for f in findings], note


def cda_advisory(verdict: Verdict, unique_id: str) -> list[Finding]:
    """The CDA engine's verdict, recorded as warnings: it informs the verdict, while the DMP's
    own feed rules decide acceptance (the real DMP does not run the CI-SIS schematrons)."""
    findings = [replace(f, severity=Severity.WARNING if f.is_error else f.severity,
                        location=f"{unique_id} {f.location}".strip()) for f in verdict.findings]
    findings += [RULES.finding("CDA.NOT_EVALUATED", f"{unique_id} : {n.ruleset} non évalué ({n.reason})",
                               severity=Severity.INFO) for n in verdict.not_evaluated]
    return findings


def store_conflict(code: str, message: str) -> Finding:
    """A write the store refused (`StoreConflict`: duplicate uniqueId, replaced version gone)."""
    return XDS.finding(code, message)
