"""XDS metadata to and from ebRIM 3.0 XML (lxml elements).

Writers produce `lcm:SubmitObjectsRequest`, `xdsb:ProvideAndRegisterDocumentSetRequest` or a
bare `rim:RegistryObjectList` (query responses). Readers accept any of those (or an element
containing one) obtained through `banc.xml.parse_untrusted`, and never raise on odd content:
what is missing stays empty and `banc.xds.checks.check_metadata` reports it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from lxml import etree

from banc.xds import codes as c
from banc.xds.codes import Code
from banc.xds.model import (
    Association,
    Author,
    DocumentEntry,
    Submission,
    SubmissionSet,
    XdsOrganization,
    XdsPerson,
)

R = f"{{{c.NS_RIM}}}"
NSMAP = {"rim": c.NS_RIM, "lcm": c.NS_LCM, "xdsb": c.NS_XDSB}


class _Ids:
    """Local ids for classifications / external identifiers, unique within one message."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def _slot(parent: etree._Element, name: str, values: tuple[str, ...] | list[str]) -> None:
    if not values:
        return
    slot = etree.SubElement(parent, R + "Slot", name=name)
    value_list = etree.SubElement(slot, R + "ValueList")
    for value in values:
        etree.SubElement(value_list, R + "Value").text = value


def _localized(parent: etree._Element, tag: str, text: str) -> None:
    if text:
        holder = etree.SubElement(parent, R + tag)
        etree.SubElement(
            holder,
            R + "LocalizedString",
            {
                "charset": "UTF-8",
                "value": text,
                "{http://www.w3.org/XML/1998/namespace}lang": "fr-FR",
            },
        )


def _classification(parent: etree._Element, scheme: str, obj: str, code: Code, ids: _Ids) -> None:
    if not code.code:
        return
    cl = etree.SubElement(
        parent,
        R + "Classification",
        classificationScheme=scheme,
        classifiedObject=obj,
        id=ids("cl"),
        nodeRepresentation=code.code,
    )
    _slot(cl, "codingScheme", [code.scheme])
    _localized(cl, "Name", code.display)


def _author(parent: etree._Element, scheme: str, obj: str, author: Author, ids: _Ids) -> None:
    cl = etree.SubElement(
        parent,
        R + "Classification",
        classificationScheme=scheme,
        classifiedObject=obj,
        id=ids("cl"),
        nodeRepresentation="",
    )
    if author.person:
        _slot(cl, "authorPerson", [author.person.to_xcn()])
    _slot(cl, "authorInstitution", [o.to_xon() for o in author.institutions])
    _slot(cl, "authorRole", [r.to_hl7() for r in author.roles])
    _slot(cl, "authorSpecialty", [s.to_hl7() for s in author.specialties])
    _slot(cl, "authorTelecommunication", list(author.telecoms))


def _external(
    parent: etree._Element, scheme: str, obj: str, value: str, name: str, ids: _Ids
) -> None:
    ei = etree.SubElement(
        parent,
        R + "ExternalIdentifier",
        id=ids("ei"),
        identificationScheme=scheme,
        registryObject=obj,
        value=value,
    )
    _localized(ei, "Name", name)


def entry_element(entry: DocumentEntry, ids: _Ids | None = None) -> etree._Element:
    """`rim:ExtrinsicObject` for one DocumentEntry."""
    ids = ids or _Ids()
    attrs = {
        "id": entry.entry_uuid,
        "mimeType": entry.mime_type,
        "objectType": entry.object_type or c.OBJECT_TYPE_STABLE,
    }
    if entry.status:
        attrs["status"] = entry.status
    eo = etree.Element(R + "ExtrinsicObject", attrs, nsmap={None: c.NS_RIM})
    _slot(eo, "creationTime", [entry.creation_time] if entry.creation_time else [])
    _slot(eo, "hash", [entry.hash] if entry.hash else [])
    _slot(eo, "languageCode", [entry.language_code] if entry.language_code else [])
    if entry.legal_authenticator:
        _slot(eo, "legalAuthenticator", [entry.legal_authenticator.to_xcn()])
    _slot(
        eo, "repositoryUniqueId", [entry.repository_unique_id] if entry.repository_unique_id else []
    )
    _slot(eo, "serviceStartTime", [entry.service_start] if entry.service_start else [])
    _slot(eo, "serviceStopTime", [entry.service_stop] if entry.service_stop else [])
    _slot(eo, "size", [str(entry.size)] if entry.size is not None else [])
    _slot(eo, "sourcePatientId", [entry.source_patient_id] if entry.source_patient_id else [])
    _slot(eo, "sourcePatientInfo", list(entry.source_patient_info))
    _slot(eo, "URI", [entry.uri] if entry.uri else [])
    _slot(eo, "urn:ihe:iti:xds:2013:referenceIdList", list(entry.reference_ids))
    for name, values in entry.extra_slots:
        _slot(eo, name, values)
    _localized(eo, "Name", entry.title)
    _localized(eo, "Description", entry.comments)
    obj = entry.entry_uuid
    for author in entry.authors:
        _author(eo, c.DE_AUTHOR, obj, author, ids)
    _classification(eo, c.DE_CLASS, obj, entry.class_code, ids)
    for code in entry.confidentiality:
        _classification(eo, c.DE_CONFIDENTIALITY, obj, code, ids)
    for code in entry.event_codes:
        _classification(eo, c.DE_EVENT, obj, code, ids)
    _classification(eo, c.DE_FORMAT, obj, entry.format_code, ids)
    _classification(eo, c.DE_FACILITY, obj, entry.healthcare_facility_type, ids)
    _classification(eo, c.DE_PRACTICE, obj, entry.practice_setting, ids)
    _classification(eo, c.DE_TYPE, obj, entry.type_code, ids)
    _external(eo, c.DE_PATIENT_ID, obj, entry.patient_id, "XDSDocumentEntry.patientId", ids)
    _external(eo, c.DE_UNIQUE_ID, obj, entry.unique_id, "XDSDocumentEntry.uniqueId", ids)
    return eo


def submission_set_element(ss: SubmissionSet, ids: _Ids | None = None) -> etree._Element:
    ids = ids or _Ids()
    rp = etree.Element(R + "RegistryPackage", id=ss.entry_uuid, nsmap={None: c.NS_RIM})
    _slot(rp, "submissionTime", [ss.submission_time])
    _slot(rp, "intendedRecipient", list(ss.intended_recipients))
    _localized(rp, "Name", ss.title)
    _localized(rp, "Description", ss.comments)
    for author in ss.authors:
        _author(rp, c.SS_AUTHOR, ss.entry_uuid, author, ids)
    _classification(rp, c.SS_CONTENT_TYPE, ss.entry_uuid, ss.content_type, ids)
    etree.SubElement(
        rp,
        R + "Classification",
        classificationNode=c.SUBMISSION_SET_NODE,
        classifiedObject=ss.entry_uuid,
        id=ids("cl"),
    )
    _external(rp, c.SS_UNIQUE_ID, ss.entry_uuid, ss.unique_id, "XDSSubmissionSet.uniqueId", ids)
    _external(rp, c.SS_SOURCE_ID, ss.entry_uuid, ss.source_id, "XDSSubmissionSet.sourceId", ids)
    _external(rp, c.SS_PATIENT_ID, ss.entry_uuid, ss.patient_id, "XDSSubmissionSet.patientId", ids)
    return rp


def association_element(assoc: Association) -> etree._Element:
    el = etree.Element(
        R + "Association",
        associationType=assoc.type,
        id=assoc.id,
        sourceObject=assoc.source,
        targetObject=assoc.target,
        nsmap={None: c.NS_RIM},
    )
    for name, values in assoc.slots:
        _slot(el, name, values)
    return el


def registry_object_list(
    submission_set: SubmissionSet | None,
    documents: list[DocumentEntry],
    associations: list[Association],
) -> etree._Element:
    """`rim:RegistryObjectList` (also the body of an ITI-18 LeafClass response)."""
    ids = _Ids()
    rol = etree.Element(R + "RegistryObjectList", nsmap={None: c.NS_RIM})
    if submission_set is not None:
        rol.append(submission_set_element(submission_set, ids))
    for doc in documents:
        rol.append(entry_element(doc, ids))
    for assoc in associations:
        rol.append(association_element(assoc))
    return rol


def to_submit_objects_request(submission: Submission) -> etree._Element:
    """`lcm:SubmitObjectsRequest` (ITI-42 body, XDM METADATA.XML root)."""
    sor = etree.Element(
        f"{{{c.NS_LCM}}}SubmitObjectsRequest", nsmap={"lcm": c.NS_LCM, None: c.NS_RIM}
    )
    sor.append(
        registry_object_list(
            submission.submission_set, submission.documents, submission.associations
        )
    )
    return sor


def to_provide_and_register(
    submission: Submission, contents: Mapping[str, bytes | etree._Element]
) -> etree._Element:
    """`xdsb:ProvideAndRegisterDocumentSetRequest` (ITI-41 body).

    `contents` maps an entryUUID to the document bytes (inlined base64) or to an element to put
    inside `xdsb:Document` as is (e.g. an `xop:Include` built by the MTOM layer).
    """
    pnr = etree.Element(
        f"{{{c.NS_XDSB}}}ProvideAndRegisterDocumentSetRequest",
        nsmap={"xdsb": c.NS_XDSB, "lcm": c.NS_LCM, None: c.NS_RIM},
    )
    pnr.append(to_submit_objects_request(submission))
    for entry_uuid, content in contents.items():
        doc = etree.SubElement(pnr, f"{{{c.NS_XDSB}}}Document", id=entry_uuid)
        if isinstance(content, bytes):
            doc.text = base64.b64encode(content).decode("ascii")
        else:
            doc.append(content)
    return pnr


# --- reading ---------------------------------------------------------------------------------


def _slots(el: etree._Element) -> dict[str, tuple[str, ...]]:
    result: dict[str, tuple[str, ...]] = {}
    for slot in el.findall(R + "Slot"):
        values = tuple((v.text or "").strip() for v in slot.iterfind(f"{R}ValueList/{R}Value"))
        result[slot.get("name", "")] = result.get(slot.get("name", ""), ()) + values
    return result


def _first(slots: dict[str, tuple[str, ...]], name: str) -> str:
    values = slots.get(name, ())
    return values[0] if values else ""


def _name(el: etree._Element, tag: str = "Name") -> str:
    ls = el.find(f"{R}{tag}/{R}LocalizedString")
    return ls.get("value", "") if ls is not None else ""


def _codes(el: etree._Element, scheme: str) -> list[Code]:
    found = []
    for cl in el.findall(R + "Classification"):
        if cl.get("classificationScheme") == scheme:
            found.append(
                Code(
                    cl.get("nodeRepresentation", ""),
                    _first(_slots(cl), "codingScheme"),
                    _name(cl),
                )
            )
    return found


def _authors(el: etree._Element, scheme: str) -> tuple[Author, ...]:
    authors = []
    for cl in el.findall(R + "Classification"):
        if cl.get("classificationScheme") != scheme:
            continue
        slots = _slots(cl)
        person = _first(slots, "authorPerson")
        authors.append(
            Author(
                person=XdsPerson.from_xcn(person) if person else None,
                institutions=tuple(
                    XdsOrganization.from_xon(v) for v in slots.get("authorInstitution", ())
                ),
                roles=tuple(Code.from_hl7(v) for v in slots.get("authorRole", ())),
                specialties=tuple(Code.from_hl7(v) for v in slots.get("authorSpecialty", ())),
                telecoms=slots.get("authorTelecommunication", ()),
            )
        )
    return tuple(authors)


def _external_value(el: etree._Element, scheme: str) -> str:
    for ei in el.findall(R + "ExternalIdentifier"):
        if ei.get("identificationScheme") == scheme:
            return ei.get("value", "")
    return ""


_KNOWN_SLOTS = {
    "creationTime",
    "hash",
    "languageCode",
    "legalAuthenticator",
    "repositoryUniqueId",
    "serviceStartTime",
    "serviceStopTime",
    "size",
    "sourcePatientId",
    "sourcePatientInfo",
    "URI",
    "urn:ihe:iti:xds:2013:referenceIdList",
}


def entry_from_element(eo: etree._Element) -> DocumentEntry:
    slots = _slots(eo)
    empty = Code("", "")
    legal = _first(slots, "legalAuthenticator")
    size = _first(slots, "size")
    return DocumentEntry(
        entry_uuid=eo.get("id", ""),
        unique_id=_external_value(eo, c.DE_UNIQUE_ID),
        patient_id=_external_value(eo, c.DE_PATIENT_ID),
        class_code=next(iter(_codes(eo, c.DE_CLASS)), empty),
        type_code=next(iter(_codes(eo, c.DE_TYPE)), empty),
        format_code=next(iter(_codes(eo, c.DE_FORMAT)), empty),
        confidentiality=tuple(_codes(eo, c.DE_CONFIDENTIALITY)),
        healthcare_facility_type=next(iter(_codes(eo, c.DE_FACILITY)), empty),
        practice_setting=next(iter(_codes(eo, c.DE_PRACTICE)), empty),
        creation_time=_first(slots, "creationTime"),
        title=_name(eo),
        comments=_name(eo, "Description"),
        mime_type=eo.get("mimeType", ""),
        language_code=_first(slots, "languageCode"),
        authors=_authors(eo, c.DE_AUTHOR),
        legal_authenticator=XdsPerson.from_xcn(legal) if legal else None,
        service_start=_first(slots, "serviceStartTime"),
        service_stop=_first(slots, "serviceStopTime"),
        event_codes=tuple(_codes(eo, c.DE_EVENT)),
        source_patient_id=_first(slots, "sourcePatientId"),
        source_patient_info=slots.get("sourcePatientInfo", ()),
        reference_ids=slots.get("urn:ihe:iti:xds:2013:referenceIdList", ()),
        hash=_first(slots, "hash"),
        size=int(size) if size.isdigit() else None,
        uri=_first(slots, "URI"),
        repository_unique_id=_first(slots, "repositoryUniqueId"),
        object_type=eo.get("objectType", ""),
        status=eo.get("status", ""),
        extra_slots=tuple((k, v) for k, v in slots.items() if k not in _KNOWN_SLOTS),
    )


def submission_set_from_element(rp: etree._Element) -> SubmissionSet:
    slots = _slots(rp)
    return SubmissionSet(
        entry_uuid=rp.get("id", ""),
        unique_id=_external_value(rp, c.SS_UNIQUE_ID),
        source_id=_external_value(rp, c.SS_SOURCE_ID),
        patient_id=_external_value(rp, c.SS_PATIENT_ID),
        submission_time=_first(slots, "submissionTime"),
        content_type=next(iter(_codes(rp, c.SS_CONTENT_TYPE)), Code("", "")),
        authors=_authors(rp, c.SS_AUTHOR),
        title=_name(rp),
        comments=_name(rp, "Description"),
        intended_recipients=slots.get("intendedRecipient", ()),
    )


def _is_submission_set(rp: etree._Element, root: etree._Element) -> bool:
    """A RegistryPackage is a submission set when classified by the SubmissionSet node.

    The classification may sit inside the package or stand alone in the object list.
    """
    rp_id = rp.get("id")
    for cl in root.iter(R + "Classification"):
        if (
            cl.get("classificationNode") == c.SUBMISSION_SET_NODE
            and cl.get("classifiedObject") == rp_id
        ):
            return True
    return False


def parse_submission(element: etree._Element) -> Submission | None:
    """Read a submission from any element containing a RegistryObjectList.

    Returns None when no submission set is found (e.g. a query response: use `parse_entries`).
    """
    packages = [rp for rp in element.iter(R + "RegistryPackage") if _is_submission_set(rp, element)]
    if not packages:
        return None
    submission = Submission(submission_set=submission_set_from_element(packages[0]))
    submission.documents = parse_entries(element)
    submission.associations = [
        Association(
            id=a.get("id", ""),
            type=a.get("associationType", ""),
            source=a.get("sourceObject", ""),
            target=a.get("targetObject", ""),
            slots=tuple(_slots(a).items()),
        )
        for a in element.iter(R + "Association")
    ]
    return submission


def parse_entries(element: etree._Element) -> list[DocumentEntry]:
    """Every ExtrinsicObject under `element` as a DocumentEntry (query responses included)."""
    return [entry_from_element(eo) for eo in element.iter(R + "ExtrinsicObject")]


def documents_of(pnr: etree._Element) -> dict[str, bytes]:
    """Inline (base64) documents of a ProvideAndRegister request, by id; XOP parts are skipped."""
    result: dict[str, bytes] = {}
    for doc in pnr.iter(f"{{{c.NS_XDSB}}}Document"):
        text = (doc.text or "").strip()
        if text and len(doc) == 0:
            try:
                result[doc.get("id", "")] = base64.b64decode(text, validate=False)
            except ValueError:
                continue
    return result
