"""XDS metadata derived from a CDA header, so that metadata and document agree by construction.

The mapping follows the CI-SIS "partage de documents" rules (the same ones the ANS stylesheet
for XDM applies): patientId from the INS of `recordTarget`, typeCode = `code`, creationTime =
`effectiveTime`, healthcareFacilityTypeCode from `healthCareFacility/code`, practiceSettingCode
from the performer organisation's `standardIndustryClassCode`, authors from `author`, etc.
`header_facts` extracts those facts once; `derive_submission` builds the metadata and
`banc.xds.checks` compares metadata with the same facts.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from lxml import etree

from banc.identity import INS_OIDS, xds_patient_id
from banc.xds.codes import (
    CLASS_BY_TYPE,
    CS_STRUCTURE,
    DEFAULT_CLASS,
    FORMAT_BY_TEMPLATE,
    FORMAT_DOMICILE,
    FORMAT_N1_PDF,
    FORMAT_N1_TEXT,
    OBJECT_TYPE_STABLE,
    Code,
)
from banc.xds.model import (
    Author,
    DocumentEntry,
    Submission,
    SubmissionSet,
    XdsOrganization,
    XdsPerson,
    new_entry_uuid,
)

NS = {"h": "urn:hl7-org:v3"}
N1_TEMPLATE = "1.3.6.1.4.1.19376.1.2.20"
HOME_CARE_FACILITIES = frozenset({"SA41"})
HOME_CARE_PRACTICES = frozenset({"SAD", "MAD"})
"""A document written by a home-care service (healthcareFacilityTypeCode SA41 "autre établissement
du domaine social ou médico-social", or practiceSettingCode SAD / MAD) gets the DLU domicile
formatCodes (?)."""


def hl7_time_to_utc(value: str) -> str:
    """HL7 TS (`YYYYMMDD[hhmm[ss]][±zzzz]`) → XDS DTM in UTC, keeping the given precision."""
    match = re.fullmatch(r"(\d{4,14})(?:\.\d+)?([+-]\d{4})?", value.strip())
    if not match:
        return value.strip()
    digits, zone = match.groups()
    if zone is None or len(digits) < 12:
        return digits
    moment = datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (1 if zone[0] == "+" else -1)
    utc = moment.replace(tzinfo=timezone(offset)).astimezone(UTC)
    return utc.strftime("%Y%m%d%H%M%S")[: len(digits)]


def _code(element: etree._Element | None) -> Code | None:
    if element is None or element.get("code") is None:
        return None
    return Code(
        element.get("code", ""), element.get("codeSystem", ""), element.get("displayName", "")
    )


def _text(element: etree._Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _person(entity: etree._Element | None, person_tag: str) -> XdsPerson | None:
    if entity is None:
        return None
    ident = entity.find("h:id", NS)
    name = entity.find(f"h:{person_tag}/h:name", NS)
    if ident is None:
        return None
    return XdsPerson(
        id=ident.get("extension", ""),
        family=_text(name.find("h:family", NS)) if name is not None else "",
        given=_text(name.find("h:given", NS)) if name is not None else "",
        prefix=_text(name.find("h:prefix", NS)) if name is not None else "",
        authority=ident.get("root", ""),
    )


def _organization(org: etree._Element | None) -> XdsOrganization | None:
    if org is None:
        return None
    ident = org.find("h:id", NS)
    return XdsOrganization(
        name=_text(org.find("h:name", NS)),
        id=ident.get("extension", "") if ident is not None else "",
        authority=ident.get("root", CS_STRUCTURE) if ident is not None else CS_STRUCTURE,
    )


@dataclass(frozen=True)
class HeaderFacts:
    """What the CDA header says, in XDS terms; None/empty when the header lacks it."""

    unique_id: str
    patient_id: str | None
    ins: str | None
    ins_oid: str | None
    type_code: Code | None
    confidentiality: Code | None
    title: str
    creation_time: str
    language_code: str
    templates: tuple[str, ...]
    authors: tuple[Author, ...]
    legal_authenticator: XdsPerson | None
    facility_type: Code | None
    practice_setting: Code | None
    encounter_code: Code | None
    service_start: str
    service_stop: str
    event_codes: tuple[Code, ...]
    patient_family: str
    patient_given: str
    birth_time: str
    sex: str
    set_id: str
    version: str
    replaced_ids: tuple[str, ...]
    n1_media_type: str = ""
    recipients: tuple[str, ...] = field(default=())


def _ins(root: etree._Element) -> tuple[str | None, str | None]:
    for ident in root.iterfind("h:recordTarget/h:patientRole/h:id", NS):
        if ident.get("root") in INS_OIDS and ident.get("extension"):
            return ident.get("extension"), ident.get("root")
    return None, None


def _unique_id(ident: etree._Element | None) -> str:
    if ident is None:
        return ""
    root, ext = ident.get("root", ""), ident.get("extension")
    return f"{root}^{ext}" if ext else root


def header_facts(root: etree._Element) -> HeaderFacts:
    """Read the XDS-relevant facts of a CDA header (root = `ClinicalDocument`)."""
    ins, oid = _ins(root)
    patient_id = None
    if ins and oid:
        try:
            patient_id = xds_patient_id(ins, oid)
        except ValueError:
            patient_id = f"{ins}^^^&{oid}&ISO^NH"
    authors = []
    for author in root.iterfind("h:author", NS):
        assigned = author.find("h:assignedAuthor", NS)
        org = (
            _organization(assigned.find("h:representedOrganization", NS))
            if assigned is not None
            else None
        )
        specialty = _code(assigned.find("h:code", NS)) if assigned is not None else None
        role = _code(author.find("h:functionCode", NS))
        authors.append(
            Author(
                person=_person(assigned, "assignedPerson"),
                institutions=(org,) if org else (),
                roles=(role,) if role else (),
                specialties=(specialty,) if specialty else (),
            )
        )
    event = root.find("h:documentationOf/h:serviceEvent", NS)
    low = event.find("h:effectiveTime/h:low", NS) if event is not None else None
    high = event.find("h:effectiveTime/h:high", NS) if event is not None else None
    patient = root.find("h:recordTarget/h:patientRole/h:patient", NS)
    name = patient.find("h:name", NS) if patient is not None else None
    family = ""
    given = ""
    if name is not None:
        families = name.findall("h:family", NS)
        birth = [f for f in families if f.get("qualifier") == "BR"] or families
        family = _text(birth[0]) if birth else ""
        givens = [g for g in name.findall("h:given", NS) if g.get("qualifier") in (None, "BR")]
        given = _text(givens[0]) if givens else ""
    body = root.find("h:component/h:nonXMLBody/h:text", NS)
    recipients = tuple(
        _text(r.find("h:intendedRecipient/h:informationRecipient/h:name/h:family", NS))
        or r.findtext("h:intendedRecipient/h:id", default="", namespaces=NS)
        for r in root.iterfind("h:informationRecipient", NS)
    )
    return HeaderFacts(
        unique_id=_unique_id(root.find("h:id", NS)),
        patient_id=patient_id,
        ins=ins,
        ins_oid=oid,
        type_code=_code(root.find("h:code", NS)),
        confidentiality=_code(root.find("h:confidentialityCode", NS)),
        title=_text(root.find("h:title", NS)),
        creation_time=hl7_time_to_utc(root.find("h:effectiveTime", NS).get("value", ""))
        if root.find("h:effectiveTime", NS) is not None
        else "",
        language_code=(
            root.find("h:languageCode", NS).get("code", "")
            if root.find("h:languageCode", NS) is not None
            else ""
        ),
        templates=tuple(t.get("root", "") for t in root.iterfind("h:templateId", NS)),
        authors=tuple(authors),
        legal_authenticator=_person(
            root.find("h:legalAuthenticator/h:assignedEntity", NS), "assignedPerson"
        ),
        facility_type=_code(
            root.find(
                "h:componentOf/h:encompassingEncounter/h:location/h:healthCareFacility/h:code", NS
            )
        ),
        practice_setting=_code(
            root.find(
                "h:documentationOf/h:serviceEvent/h:performer/h:assignedEntity/"
                "h:representedOrganization/h:standardIndustryClassCode",
                NS,
            )
        ),
        encounter_code=_code(root.find("h:componentOf/h:encompassingEncounter/h:code", NS)),
        service_start=hl7_time_to_utc(low.get("value", ""))
        if low is not None and low.get("value")
        else "",
        service_stop=hl7_time_to_utc(high.get("value", ""))
        if high is not None and high.get("value")
        else "",
        event_codes=tuple(
            c
            for c in (
                _code(e.find("h:code", NS))
                for e in root.iterfind("h:documentationOf/h:serviceEvent", NS)
            )
            if c
        ),
        patient_family=family,
        patient_given=given,
        birth_time=patient.find("h:birthTime", NS).get("value", "")
        if patient is not None and patient.find("h:birthTime", NS) is not None
        else "",
        sex=patient.find("h:administrativeGenderCode", NS).get("code", "")
        if patient is not None and patient.find("h:administrativeGenderCode", NS) is not None
        else "",
        set_id=_unique_id(root.find("h:setId", NS)),
        version=root.find("h:versionNumber", NS).get("value", "")
        if root.find("h:versionNumber", NS) is not None
        else "",
        replaced_ids=tuple(
            _unique_id(r)
            for r in root.iterfind("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", NS)
        ),
        n1_media_type=body.get("mediaType", "") if body is not None else "",
        recipients=recipients,
    )


def format_code_for(facts: HeaderFacts, *, domicile: bool | None = None) -> Code | None:
    """The formatCode implied by the document's templateIds (and N1 media type)."""
    if N1_TEMPLATE in facts.templates:
        return FORMAT_N1_TEXT if facts.n1_media_type == "text/plain" else FORMAT_N1_PDF
    if domicile is None:
        domicile = (facts.facility_type is not None and facts.facility_type.code in HOME_CARE_FACILITIES) or (
            facts.practice_setting is not None and facts.practice_setting.code in HOME_CARE_PRACTICES
        )
    for template in reversed(facts.templates):
        if domicile and template in FORMAT_DOMICILE:
            return FORMAT_DOMICILE[template]
        if template in FORMAT_BY_TEMPLATE:
            return FORMAT_BY_TEMPLATE[template]
    return None


def class_code_for(type_code: Code | None) -> Code:
    return CLASS_BY_TYPE.get(type_code.code, DEFAULT_CLASS) if type_code else DEFAULT_CLASS


def source_patient_info(facts: HeaderFacts) -> tuple[str, ...]:
    return tuple(
        line
        for line in (
            f"PID-5|{facts.patient_family}^{facts.patient_given}^^^^^L"
            if facts.patient_family
            else "",
            f"PID-7|{facts.birth_time[:8]}" if facts.birth_time else "",
            f"PID-8|{facts.sex}" if facts.sex else "",
        )
        if line
    )


def derive_entry(
    root: etree._Element,
    *,
    document_bytes: bytes | None = None,
    entry_uuid: str | None = None,
    visibility: tuple[Code, ...] = (),
    format_code: Code | None = None,
    domicile: bool | None = None,
    uri: str = "",
    comments: str = "",
    facts: HeaderFacts | None = None,
) -> DocumentEntry:
    """The DocumentEntry of one CDA document; `visibility` adds MASQUE_PS / INVISIBLE_* codes."""
    facts = facts or header_facts(root)
    missing = Code("", "")
    return DocumentEntry(
        entry_uuid=entry_uuid or new_entry_uuid(),
        unique_id=facts.unique_id,
        patient_id=facts.patient_id or "",
        class_code=class_code_for(facts.type_code),
        type_code=facts.type_code or missing,
        format_code=format_code or format_code_for(facts, domicile=domicile) or missing,
        confidentiality=((facts.confidentiality,) if facts.confidentiality else ())
        + tuple(visibility),
        healthcare_facility_type=facts.facility_type or missing,
        practice_setting=facts.practice_setting or missing,
        creation_time=facts.creation_time,
        title=facts.title,
        comments=comments,
        language_code=facts.language_code,
        authors=facts.authors,
        legal_authenticator=facts.legal_authenticator,
        service_start=facts.service_start,
        service_stop=facts.service_stop,
        event_codes=facts.event_codes,
        source_patient_id=facts.patient_id or "",
        source_patient_info=source_patient_info(facts),
        hash=hashlib.sha1(document_bytes).hexdigest() if document_bytes is not None else "",
        size=len(document_bytes) if document_bytes is not None else None,
        uri=uri,
        object_type=OBJECT_TYPE_STABLE,
    )


def new_submission_unique_id() -> str:
    """A fresh SubmissionSet.uniqueId: the UUID-derived OID `2.25.<uuid as integer>` (ITU-T
    X.667), unique without coordination — the former `<source>.<millisecond>` collided when two
    submissions left in the same millisecond (`XDSDuplicateUniqueIdInRegistry`). 44 characters
    at most, within the 64 an XDS OID may have."""
    return f"2.25.{uuid.uuid4().int}"


def derive_submission(
    root: etree._Element,
    *,
    document_bytes: bytes | None = None,
    source_id: str = "1.2.250.1.213.1.1.9.999",
    submission_time: str | None = None,
    submission_unique_id: str | None = None,
    visibility: tuple[Code, ...] = (),
    format_code: Code | None = None,
    content_type: Code | None = None,
    domicile: bool | None = None,
    intended_recipients: tuple[str, ...] = (),
    replaces: str | None = None,
    uri: str = "",
    title: str = "",
) -> Submission:
    """A complete submission (set + entry + associations) for one CDA document.

    `replaces`: entryUUID of the registry entry this version replaces (RPLC association).
    """
    facts = header_facts(root)
    entry = derive_entry(
        root,
        document_bytes=document_bytes,
        visibility=visibility,
        format_code=format_code,
        domicile=domicile,
        uri=uri,
        facts=facts,
    )
    now = submission_time or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    submission_set = SubmissionSet(
        entry_uuid=new_entry_uuid(),
        unique_id=submission_unique_id or new_submission_unique_id(),
        source_id=source_id,
        patient_id=entry.patient_id,
        submission_time=now,
        content_type=content_type or facts.encounter_code or entry.type_code,
        authors=entry.authors,
        title=title or entry.title,
        intended_recipients=intended_recipients,
    )
    submission = Submission.of(submission_set, entry)
    if replaces:
        submission.replaces(entry, replaces)
    return submission
