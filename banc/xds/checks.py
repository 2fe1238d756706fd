"""Checks of XDS metadata: completeness, and agreement with the CDA header it describes.

Pure functions returning `Finding`s (rule ids `XDS-…`, ruleset `xds`). The DMP mock runs them on
every ITI-41, the MSSanté mock on every XDM METADATA.XML, `banc validate` on captures.
"""

from __future__ import annotations

import re

from lxml import etree

from banc.identity import IdentityError, check_ins, parse_xds_patient_id
from banc.verdict import Finding, Severity
from banc.xds import codes as c
from banc.xds.derive import HeaderFacts, class_code_for, format_code_for, header_facts
from banc.xds.model import Author, DocumentEntry, Submission

RULESET = "xds"
REQ_METADATA = ("SC.DOC.02.MS1",)
REQ_VISIBILITY = ("SC.DOC.01.MS1", "SC.DOC.02.MS1")
_DTM = re.compile(r"^\d{4}(\d{2}){0,5}$")
_ALLOWED_CONF = {(c.CS_CONFIDENTIALITY, x) for x in ("N", "R", "V")} | {
    (code.scheme, code.code) for code in c.VISIBILITY_CODES.values()
}


def _f(
    rule: str,
    message: str,
    location: str,
    reqs: tuple[str, ...] = REQ_METADATA,
    severity: Severity = Severity.ERROR,
) -> Finding:
    return Finding(
        rule_id=rule,
        message=message,
        severity=severity,
        location=location,
        ruleset=RULESET,
        requirements=reqs,
    )


def _check_patient_id(value: str, where: str) -> list[Finding]:
    if not value:
        return [_f("XDS-PATIENT-ID", f"{where} : patientId absent", where)]
    try:
        # extra trailing components (e.g. `^^20100907`, seen in DMP examples) are tolerated
        ins, oid = parse_xds_patient_id("^".join(value.split("^")[:5]))
    except IdentityError as exc:
        return [_f("XDS-PATIENT-ID", f"{where} : {exc}", where)]
    return [_f("XDS-PATIENT-ID", f"{where} : {p}", where) for p in check_ins(ins, oid)]


def _institutions(authors: tuple[Author, ...]) -> set[tuple[str, str]]:
    return {(o.name, o.id) for a in authors for o in a.institutions}


def check_entry(entry: DocumentEntry) -> list[Finding]:
    """Completeness of one DocumentEntry (fields the DMP requires)."""
    where = f"DocumentEntry {entry.entry_uuid}"
    findings = _check_patient_id(entry.patient_id, where)
    required = {
        "uniqueId": entry.unique_id,
        "classCode": entry.class_code.code,
        "typeCode": entry.type_code.code,
        "formatCode": entry.format_code.code,
        "healthcareFacilityTypeCode": entry.healthcare_facility_type.code,
        "practiceSettingCode": entry.practice_setting.code,
        "creationTime": entry.creation_time,
        "languageCode": entry.language_code,
        "mimeType": entry.mime_type,
    }
    for name, value in required.items():
        if not value:
            findings.append(
                _f("XDS-REQUIRED", f"{where} : métadonnée obligatoire {name} absente", where)
            )
    for name, value in (
        ("creationTime", entry.creation_time),
        ("serviceStartTime", entry.service_start),
        ("serviceStopTime", entry.service_stop),
    ):
        if value and not _DTM.match(value):
            findings.append(
                _f(
                    "XDS-DTM",
                    f"{where} : {name} « {value} » n'est pas une date HL7 (AAAAMMJJ[hhmmss])",
                    where,
                )
            )
    hl7_conf = [x for x in entry.confidentiality if x.scheme == c.CS_CONFIDENTIALITY]
    if len(hl7_conf) != 1:
        findings.append(
            _f(
                "XDS-CONFIDENTIALITY",
                f"{where} : un et un seul confidentialityCode HL7 (N, R ou V) attendu, {len(hl7_conf)} trouvé(s)",
                where,
                REQ_VISIBILITY,
            )
        )
    for code in entry.confidentiality:
        if (code.scheme, code.code) not in _ALLOWED_CONF:
            findings.append(
                _f(
                    "XDS-CONFIDENTIALITY",
                    f"{where} : confidentialityCode inconnu {code.code} ({code.scheme}) ; "
                    "valeurs admises : N/R/V, MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX",
                    where,
                    REQ_VISIBILITY,
                )
            )
    if not entry.authors:
        findings.append(_f("XDS-AUTHOR", f"{where} : aucun auteur (author) déclaré", where))
    for author in entry.authors:
        if not author.institutions:
            findings.append(_f("XDS-AUTHOR", f"{where} : auteur sans authorInstitution", where))
    return findings


def check_metadata(submission: Submission) -> list[Finding]:
    """Completeness and internal consistency of a whole submission."""
    ss = submission.submission_set
    where = f"SubmissionSet {ss.entry_uuid}"
    findings = _check_patient_id(ss.patient_id, where)
    for name, value in (
        ("uniqueId", ss.unique_id),
        ("sourceId", ss.source_id),
        ("submissionTime", ss.submission_time),
        ("contentTypeCode", ss.content_type.code),
    ):
        if not value:
            findings.append(
                _f("XDS-REQUIRED", f"{where} : métadonnée obligatoire {name} absente", where)
            )
    if not submission.documents:
        findings.append(
            _f("XDS-NO-DOCUMENT", f"{where} : le lot ne contient aucun document", where)
        )
    members = {
        a.target
        for a in submission.associations
        if a.type == c.HAS_MEMBER and a.source == ss.entry_uuid
    }
    for entry in submission.documents:
        findings.extend(check_entry(entry))
        loc = f"DocumentEntry {entry.entry_uuid}"
        if entry.patient_id != ss.patient_id:
            findings.append(
                _f(
                    "XDS-PATIENT-MISMATCH",
                    f"{loc} : patientId {entry.patient_id!r} différent de celui du lot {ss.patient_id!r}",
                    loc,
                )
            )
        if entry.entry_uuid not in members:
            findings.append(
                _f("XDS-ASSOCIATION", f"{loc} : aucune association HasMember depuis le lot", loc)
            )
        if _institutions(entry.authors) != _institutions(ss.authors):
            findings.append(
                _f(
                    "XDS-AUTHOR-INSTITUTION",
                    f"{loc} : authorInstitution du document différent de celui du lot de soumission",
                    loc,
                )
            )
    return findings


def _cmp(
    findings: list[Finding],
    rule: str,
    label: str,
    meta: str,
    cda: str,
    loc: str,
    reqs: tuple[str, ...] = REQ_METADATA,
) -> None:
    if meta != cda:
        findings.append(
            _f(rule, f"{label} : métadonnée « {meta} » ≠ en-tête CDA « {cda} »", loc, reqs)
        )


def check_against_cda(entry: DocumentEntry, cda: etree._Element | HeaderFacts) -> list[Finding]:
    """Metadata ↔ CDA header agreement (the DMP refuses a document whose metadata disagree)."""
    facts = cda if isinstance(cda, HeaderFacts) else header_facts(cda)
    loc = f"DocumentEntry {entry.entry_uuid}"
    findings: list[Finding] = []
    _cmp(
        findings,
        "XDS-CDA-PATIENT",
        "patientId",
        entry.patient_id,
        facts.patient_id or "(pas d'INS)",
        loc,
    )
    _cmp(findings, "XDS-CDA-UNIQUEID", "uniqueId", entry.unique_id, facts.unique_id, loc)
    if facts.type_code and not entry.type_code.same_as(facts.type_code):
        _cmp(
            findings,
            "XDS-CDA-TYPECODE",
            "typeCode",
            f"{entry.type_code.code}",
            facts.type_code.code,
            loc,
        )
    expected_class = class_code_for(facts.type_code)
    if entry.class_code.scheme != expected_class.scheme:
        _cmp(
            findings,
            "XDS-CDA-CLASSCODE",
            "classCode (système)",
            entry.class_code.scheme,
            expected_class.scheme,
            loc,
        )
    if facts.confidentiality and not any(
        facts.confidentiality.same_as(x) for x in entry.confidentiality
    ):
        _cmp(
            findings,
            "XDS-CDA-CONFIDENTIALITY",
            "confidentialityCode",
            ",".join(x.code for x in entry.confidentiality),
            facts.confidentiality.code,
            loc,
            REQ_VISIBILITY,
        )
    _cmp(
        findings,
        "XDS-CDA-CREATIONTIME",
        "creationTime",
        entry.creation_time,
        facts.creation_time,
        loc,
    )
    if facts.facility_type and not entry.healthcare_facility_type.same_as(facts.facility_type):
        _cmp(
            findings,
            "XDS-CDA-FACILITY",
            "healthcareFacilityTypeCode",
            entry.healthcare_facility_type.code,
            facts.facility_type.code,
            loc,
        )
    if facts.practice_setting and not entry.practice_setting.same_as(facts.practice_setting):
        _cmp(
            findings,
            "XDS-CDA-PRACTICE",
            "practiceSettingCode",
            entry.practice_setting.code,
            facts.practice_setting.code,
            loc,
        )
    if entry.language_code and facts.language_code:
        _cmp(
            findings,
            "XDS-CDA-LANGUAGE",
            "languageCode",
            entry.language_code,
            facts.language_code,
            loc,
        )
    if facts.title:
        _cmp(findings, "XDS-CDA-TITLE", "title", entry.title, facts.title, loc)
    fmt = format_code_for(facts)
    allowed_formats = {fmt.code} if fmt else set()
    allowed_formats |= (
        {x.code for x in c.FORMAT_DOMICILE.values()} if fmt and "dlu" in fmt.code else set()
    )
    if fmt and entry.format_code.code not in allowed_formats:
        _cmp(findings, "XDS-CDA-FORMAT", "formatCode", entry.format_code.code, fmt.code, loc)
    cda_authors = {a.person.id for a in facts.authors if a.person}
    meta_authors = {a.person.id for a in entry.authors if a.person}
    if cda_authors and not cda_authors & meta_authors:
        _cmp(
            findings,
            "XDS-CDA-AUTHOR",
            "authorPerson",
            ",".join(sorted(meta_authors)),
            ",".join(sorted(cda_authors)),
            loc,
        )
    cda_inst = _institutions(facts.authors)
    if cda_inst and not {i for _, i in cda_inst} & {i for _, i in _institutions(entry.authors)}:
        _cmp(
            findings,
            "XDS-CDA-AUTHOR-INSTITUTION",
            "authorInstitution",
            ",".join(sorted(i for _, i in _institutions(entry.authors))),
            ",".join(sorted(i for _, i in cda_inst)),
            loc,
        )
    if facts.legal_authenticator and entry.legal_authenticator:
        _cmp(
            findings,
            "XDS-CDA-LEGAL",
            "legalAuthenticator",
            entry.legal_authenticator.id,
            facts.legal_authenticator.id,
            loc,
        )
    return findings


def check_submission_against_cda(
    submission: Submission, documents: dict[str, etree._Element]
) -> list[Finding]:
    """`check_metadata` plus `check_against_cda` for every entry whose CDA is given (by entryUUID)."""
    findings = check_metadata(submission)
    for entry in submission.documents:
        root = documents.get(entry.entry_uuid)
        if root is not None:
            findings.extend(check_against_cda(entry, root))
    return findings
