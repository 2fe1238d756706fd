"""Parse and serialize the DMP's messages (SOAP 1.2/MTOM, HL7v3, ebRIM, habilitations).

No decisions here: `read_request` turns bytes into a `DmpRequest` (or raises `WireError`
naming what is malformed); the builders write responses shaped like the official ANS example
responses. The registry/repository identifiers are the real DMP's (`1.2.250.1.213.4.1.1.1.2`).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from banc.soap import (
    SOAP11_NS,
    Addressing,
    Envelope,
    SoapError,
    addressing_headers,
    build_envelope,
    mtom,
    parse_envelope,
    read_addressing,
)
from banc.vihf import SAML_NS
from banc.xds import codes as xc

if TYPE_CHECKING:
    from simulators.dmp_mock.models import Patient

HL7 = "urn:hl7-org:v3"
GDP = "asip:ci-sis:gdp:2010"
HAB = "urn:si-dmp-habilitations"
PAT = "urn:si-dmp-patients"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
RIM = xc.NS_RIM
RS = xc.NS_RS
QUERY = xc.NS_QUERY
LCM = xc.NS_LCM
XDSB = xc.NS_XDSB
XSI = "http://www.w3.org/2001/XMLSchema-instance"

DMP_OID = "1.2.250.1.213.4.1.1.1"
REPOSITORY_ID = "1.2.250.1.213.4.1.1.1.2"
SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
PARTIAL = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
ERROR_SEVERITY = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
WARNING_SEVERITY = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
STORED_QUERIES = {
    FIND_DOCUMENTS: "FindDocuments",
    FIND_SUBMISSION_SETS: "FindSubmissionSets",
    GET_DOCUMENTS: "GetDocuments",
    GET_ASSOCIATIONS: "GetAssociations",
}


@dataclass(frozen=True)
class WireError(Exception):
    """A request that cannot be read; `code` is stable, `fault_code` the SOAP 1.2 Code."""

    code: str
    message: str
    fault_code: str = "Sender"

    def __str__(self) -> str:
        return self.message


@dataclass
class DmpRequest:
    envelope: Envelope
    addressing: Addressing
    assertion: etree._Element | None
    message: mtom.MtomMessage | None = None
    relaxations: list[str] = field(default_factory=list)

    @property
    def payload(self) -> etree._Element:
        assert self.envelope.payload is not None
        return self.envelope.payload


def _soap11_as_12(data: bytes) -> bytes:
    """Rewrite a SOAP 1.1 envelope namespace to 1.2 (only under the official-examples option)."""
    return data.replace(SOAP11_NS.encode(), b"http://www.w3.org/2003/05/soap-envelope")


def read_request(body: bytes, content_type: str, *, max_bytes: int,
                 accept_official_quirks: bool = False) -> DmpRequest:
    """Bytes of an HTTP request → `DmpRequest`, or `WireError`."""
    message = None
    relaxations: list[str] = []
    data = body
    if mtom.is_multipart(content_type):
        try:
            message = mtom.parse(body, content_type, max_bytes=max_bytes)
        except mtom.MtomError as exc:
            raise WireError(exc.code, exc.message) from None
        data = message.root.data
    try:
        envelope = parse_envelope(data, max_bytes=max_bytes)
    except SoapError as exc:
        if exc.code == "soap11" and accept_official_quirks:
            envelope = parse_envelope(_soap11_as_12(data), max_bytes=max_bytes)
            relaxations.append("enveloppe SOAP 1.1 (exemple officiel TD2.1) acceptée comme SOAP 1.2")
        else:
            raise WireError(exc.code, exc.message, exc.fault_code) from None
    if message is not None:
        for cid in mtom.referenced_ids(envelope.root):
            if cid not in message.parts:
                raise WireError(
                    "mtom-missing-part",
                    f"la référence XOP cid:{cid} désigne une partie MIME absente du message",
                )
    security = envelope.header(WSSE, "Security")
    assertion = security.find(f"{{{SAML_NS}}}Assertion") if security is not None else None
    return DmpRequest(envelope, read_addressing(envelope), assertion, message, relaxations)


def response_envelope(body: etree._Element, action: str, request: DmpRequest | None) -> bytes:
    relates = request.addressing.message_id if request else None
    headers = addressing_headers(action, relates_to=relates,
                                 to="http://www.w3.org/2005/08/addressing/anonymous")
    return build_envelope(body, headers)


# -- HL7v3 -----------------------------------------------------------------------------------


def h(tag: str) -> str:
    return f"{{{HL7}}}{tag}"


def hl7_reason(payload: etree._Element) -> str:
    reason = payload.find(f".//{h('controlActProcess')}/{h('reasonCode')}")
    return reason.get("code", "") if reason is not None else ""


def hl7_patient(payload: etree._Element) -> tuple[str, str] | None:
    """(INS, OID) named by an HL7v3 request: query parameter or registration subject."""
    for path in (f".//{h('patientIdentifier')}/{h('value')}", f".//{h('patient')}/{h('id')}"):
        for element in payload.iterfind(path):
            root, extension = element.get("root", ""), element.get("extension", "")
            if root.startswith("1.2.250.1.213.1.4.") and extension:
                return extension, root
    return None


def hl7_person(payload: etree._Element) -> dict[str, str]:
    person = payload.find(f".//{h('patientPerson')}")
    if person is None:
        return {}
    family = person.find(f"{h('name')}/{h('family')}")
    birth = person.find(h("birthTime"))
    gender = person.find(h("administrativeGenderCode"))
    return {
        "family": (family.text or "").strip() if family is not None else "",
        "given": (person.findtext(f"{h('name')}/{h('given')}") or "").strip(),
        "birth_date": birth.get("value", "") if birth is not None else "",
        "sex": gender.get("code", "") if gender is not None else "",
    }


def hl7_family_query(payload: etree._Element) -> str:
    return (payload.findtext(f".//{h('livingSubjectName')}/{h('value')}/{h('family')}") or "").strip()


def _now_hl7() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")


def hl7_element(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, h(tag), {k: v for k, v in attrs.items()})


def _device(parent: etree._Element, role: str, type_code: str, oid: str, name: str) -> None:
    element = hl7_element(parent, role, typeCode=type_code)
    device = hl7_element(element, "device", classCode="DEV", determinerCode="INSTANCE")
    hl7_element(device, "id", root=oid)
    hl7_element(device, "softwareName").text = name


def hl7_message(interaction: str, request: etree._Element, *, ack: str = "AA",
                ack_detail: str = "", wrapper: str | None = None,
                ack_as_element: bool = False) -> tuple[etree._Element, etree._Element]:
    """(outermost element, message element) with the common HL7v3 transmission wrapper.

    `ack_as_element`: PDQ messages (NE2008, MCCI_MT000300UV01) carry the acknowledgement type as
    a `typeCode` element, the DMP's own (NE2009) as an attribute — as the official examples do."""
    outer = message = etree.Element(h(interaction), nsmap={None: HL7, "xsi": XSI}, ITSVersion="XML_1.0")
    if wrapper:
        outer = etree.Element(f"{{{GDP}}}{wrapper}", nsmap={None: HL7, "ns2": GDP})
        outer.append(message)
    hl7_element(message, "id", root=str(uuid.uuid4()))
    hl7_element(message, "creationTime", value=_now_hl7())
    hl7_element(message, "interactionId", extension=interaction, root="2.16.840.1.113883.1.6")
    hl7_element(message, "processingCode", code="P")
    hl7_element(message, "processingModeCode", code="T")
    hl7_element(message, "acceptAckCode", code="NE")
    sender_id = request.find(f"{h('sender')}/{h('device')}/{h('id')}")
    sender_name = request.findtext(f"{h('sender')}/{h('device')}/{h('softwareName')}") or ""
    _device(message, "receiver", "RCV", sender_id.get("root", "") if sender_id is not None else "",
            sender_name)
    _device(message, "sender", "SND", DMP_OID, "DMP")
    acknowledgement = hl7_element(message, "acknowledgement", **({} if ack_as_element else {"typeCode": ack}))
    if ack_as_element:
        hl7_element(acknowledgement, "typeCode", code=ack)
    target = hl7_element(acknowledgement, "targetMessage")
    request_id = request.find(h("id"))
    hl7_element(target, "id", **({"root": request_id.get("root", ""), "extension": request_id.get("extension", "")}
                          if request_id is not None else {"nullFlavor": "UNK"}))
    if ack_detail:
        detail = hl7_element(acknowledgement, "acknowledgementDetail", typeCode="E")
        hl7_element(detail, "text").text = ack_detail
    return outer, message


def patient_element(parent: etree._Element, patient: Patient, *, with_ids: bool = True,
                    demographics: bool = True,
                    extra_observations: dict[str, str] | None = None) -> etree._Element:
    """HL7v3 `patient`. Registration answers (PRPA_IN201312/201315UV02) carry the name only: their
    message type has no gender nor birth time (as the official TD1.3b/TD1.4 responses show)."""
    element = hl7_element(parent, "patient", classCode="PAT")
    if with_ids:
        hl7_element(element, "id", extension=patient.dmp_id, root="1.2.250.1.213.1.4.2")
        hl7_element(element, "id", extension=patient.ins, root=patient.oid)
    hl7_element(element, "statusCode", code=patient.status)
    person = hl7_element(element, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
    name = hl7_element(person, "name")
    hl7_element(name, "given").text = patient.given
    hl7_element(name, "family", qualifier="SP").text = patient.family
    if demographics and patient.sex:
        hl7_element(person, "administrativeGenderCode", code=patient.sex)
    if demographics and patient.birth_date:
        hl7_element(person, "birthTime", value=patient.birth_date)
    for code, value in (extra_observations or {}).items():
        subject = hl7_element(element, "subjectOf", typeCode="SBJ")
        observation = hl7_element(subject, "administrativeObservation", classCode="OBS", moodCode="EVN")
        hl7_element(observation, "code", code=code, codeSystem="1.2.250.1.213.4.1.2.3")
        value_el = hl7_element(observation, "value", value=value)
        value_el.set(f"{{{XSI}}}type", "BL")
    return element


def registration_event(control: etree._Element, patient: Patient | None, **options: object) -> None:
    subject = hl7_element(control, "subject", contextConductionInd="false", typeCode="SUBJ")
    event = hl7_element(subject, "registrationEvent", classCode="REG", moodCode="EVN")
    hl7_element(event, "statusCode", code="completed")
    if patient is not None:
        subject1 = hl7_element(event, "subject1", typeCode="SBJ")
        patient_element(subject1, patient, **options)  # type: ignore[arg-type]
    custodian = hl7_element(event, "custodian", typeCode="CST")
    assigned = hl7_element(custodian, "assignedEntity", classCode="ASSIGNED")
    hl7_element(assigned, "id", root=DMP_OID)


def attention_line(message: etree._Element, keyword: str, system: str, value: etree._Element) -> None:
    line = etree.Element(h("attentionLine"))
    hl7_element(line, "keyWordText", code=keyword, codeSystem=system)
    line.append(value)
    message.find(h("acknowledgement")).addprevious(line)


def coded_value(code: str, system: str) -> etree._Element:
    element = etree.Element(h("value"), code=code, codeSystem=system)
    element.set(f"{{{XSI}}}type", "CV")
    return element


def bool_value(value: bool) -> etree._Element:
    element = etree.Element(h("value"), value="true" if value else "false")
    element.set(f"{{{XSI}}}type", "BL")
    return element


def copy_reason(control: etree._Element, request: etree._Element) -> None:
    reason = request.find(f".//{h('controlActProcess')}/{h('reasonCode')}")
    if reason is not None:
        control.append(copy.deepcopy(reason))


def query_ack(control: etree._Element, request: etree._Element, code: str, total: int | None = None) -> None:
    ack = hl7_element(control, "queryAck")
    query_id = request.find(f".//{h('queryByParameter')}/{h('queryId')}")
    if query_id is not None:
        ack.append(copy.deepcopy(query_id))
    hl7_element(ack, "queryResponseCode", code=code)
    if total is not None:
        for name, value in (("resultTotalQuantity", total), ("resultCurrentQuantity", total),
                            ("resultRemainingQuantity", 0)):
            hl7_element(ack, name, value=str(value))


# -- habilitations / patientsSpecific --------------------------------------------------------


def soap_text(payload: etree._Element, name: str) -> str:
    return (payload.findtext(f"{{{etree.QName(payload).namespace}}}{name}") or "").strip()


def simple_output(namespace: str, operation: str, fields: list[tuple[str, object]]) -> etree._Element:
    """`<ns1:{operation}Response><ns1:output>…</ns1:output>` (habilitations style)."""
    root = etree.Element(f"{{{namespace}}}{operation}Response", nsmap={"ns1": namespace})
    output = etree.SubElement(root, f"{{{namespace}}}output")
    _fill(output, namespace, fields)
    return root


def _fill(parent: etree._Element, namespace: str, fields: list[tuple[str, object]]) -> None:
    for name, value in fields:
        child = etree.SubElement(parent, f"{{{namespace}}}{name}")
        if isinstance(value, list):
            _fill(child, namespace, value)
        elif value is not None:
            child.text = str(value)


# -- XDS: queries ----------------------------------------------------------------------------


@dataclass
class StoredQuery:
    query_id: str
    return_type: str
    params: dict[str, list[str]]

    @property
    def name(self) -> str:
        return STORED_QUERIES.get(self.query_id, self.query_id)

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def parse_slot_values(values: list[str]) -> list[str]:
    """`'a'`, `('a','b')` or bare values → ['a', 'b'] (ebRS stored-query syntax)."""
    out: list[str] = []
    for raw in values:
        raw = raw.strip()
        quoted = _QUOTED.findall(raw)
        if quoted:
            out.extend(v.replace("''", "'") for v in quoted)
        elif raw:
            out.extend(v.strip() for v in raw.strip("()").split(","))
    return out


def parse_query(payload: etree._Element) -> StoredQuery:
    query = payload.find(f"{{{RIM}}}AdhocQuery")
    if query is None:
        raise WireError("xds-no-query", "AdhocQueryRequest sans élément AdhocQuery")
    option = payload.find(f"{{{QUERY}}}ResponseOption")
    params = {}
    for slot in query.findall(f"{{{RIM}}}Slot"):
        values = [(v.text or "") for v in slot.iterfind(f"{{{RIM}}}ValueList/{{{RIM}}}Value")]
        params[slot.get("name", "")] = parse_slot_values(values)
    return StoredQuery(query.get("id", ""), option.get("returnType", "LeafClass") if option is not None else "LeafClass", params)


def parse_retrieve(payload: etree._Element) -> list[tuple[str, str]]:
    return [
        ((request.findtext(f"{{{XDSB}}}RepositoryUniqueId") or "").strip(),
         (request.findtext(f"{{{XDSB}}}DocumentUniqueId") or "").strip())
        for request in payload.iterfind(f"{{{XDSB}}}DocumentRequest")
    ]


def registry_errors(errors: list[tuple[str, str, str, str]]) -> etree._Element | None:
    """(code, context, location, severity 'error'|'warning') → RegistryErrorList."""
    if not errors:
        return None
    element = etree.Element(f"{{{RS}}}RegistryErrorList")
    for code, context, location, severity in errors:
        etree.SubElement(element, f"{{{RS}}}RegistryError", errorCode=code, codeContext=context,
                         location=location,
                         severity=ERROR_SEVERITY if severity == "error" else WARNING_SEVERITY)
    return element


def registry_response(errors: list[tuple[str, str, str, str]], *, tag: str = "RegistryResponse") -> etree._Element:
    failed = any(e[3] == "error" for e in errors)
    root = etree.Element(f"{{{RS}}}{tag}", nsmap={"ns2": RS},
                         status=FAILURE if failed else SUCCESS)
    error_list = registry_errors(errors)
    if error_list is not None:
        root.append(error_list)
    return root


def adhoc_response(objects: list[etree._Element], errors: list[tuple[str, str, str, str]]) -> etree._Element:
    failed = any(e[3] == "error" for e in errors)
    status = FAILURE if failed and not objects else (PARTIAL if failed else SUCCESS)
    root = etree.Element(f"{{{QUERY}}}AdhocQueryResponse",
                         nsmap={"ns2": RS, "ns3": QUERY, "ns4": RIM}, status=status)
    if not failed:
        root.set("startIndex", "0")
        root.set("totalResultCount", str(len(objects)))
    error_list = registry_errors(errors)
    if error_list is not None:
        root.append(error_list)
    object_list = etree.SubElement(root, f"{{{RIM}}}RegistryObjectList")
    object_list.extend(objects)
    return root


def object_ref(uuid_: str) -> bytes:
    return etree.tostring(etree.Element(f"{{{RIM}}}ObjectRef", id=uuid_))


_APPROVED_ATTRIBUTE = b'status="urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"'
_SPLICE = "urn:banc:splice"


def with_status(metadata: bytes, status: str) -> bytes:
    """Stored registry object bytes with its current availability status (the blob keeps the
    status it was registered with; the first `status=` attribute is the root element's)."""
    if status.endswith(":Approved"):
        return metadata
    return metadata.replace(_APPROVED_ATTRIBUTE, f'status="{status}"'.encode(), 1)


def spliced_adhoc_response(objects: list[bytes], action: str, request: DmpRequest | None) -> bytes:
    """A successful AdhocQueryResponse whose RegistryObjectList holds `objects` as stored.

    Registry objects are kept serialized (self-contained, namespaces declared), so they are
    spliced into the envelope instead of being parsed and written again for every query."""
    root = adhoc_response([etree.Element(f"{{{RIM}}}ObjectRef", id=_SPLICE)], [])
    root.set("totalResultCount", str(len(objects)))
    envelope = response_envelope(root, action, request)
    placeholder = envelope.index(f'id="{_SPLICE}"'.encode())
    start = envelope.rindex(b"<", 0, placeholder)
    end = envelope.index(b"/>", placeholder) + 2
    return envelope[:start] + b"".join(objects) + envelope[end:]


def load_stored(metadata: bytes) -> etree._Element:
    """A stored ebRIM object (ours, trusted), to edit it."""
    return etree.fromstring(metadata)


# -- XDS: submissions ------------------------------------------------------------------------


def is_uuid(value: str) -> bool:
    return bool(re.fullmatch(r"urn:uuid:[0-9a-fA-F-]{36}", value))


def assign_uuids(object_list: etree._Element) -> dict[str, str]:
    """Replace symbolic ids (`Document01`) by UUIDs, everywhere they are referenced."""
    mapping: dict[str, str] = {}
    for element in object_list:
        if not isinstance(element.tag, str):
            continue
        ident = element.get("id", "")
        if ident and not is_uuid(ident):
            mapping[ident] = f"urn:uuid:{uuid.uuid4()}"
    for element in object_list.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("id", "classifiedObject", "registryObject", "sourceObject", "targetObject", "lid"):
            value = element.get(attribute)
            if value in mapping:
                element.set(attribute, mapping[value])
    return mapping


def _slot(element: etree._Element, name: str, value: str) -> None:
    for slot in element.findall(f"{{{RIM}}}Slot"):
        if slot.get("name") == name:
            element.remove(slot)
    new = etree.Element(f"{{{RIM}}}Slot", name=name)
    etree.SubElement(etree.SubElement(new, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
    slots = element.findall(f"{{{RIM}}}Slot")
    after = [s for s in slots if s.get("name", "") < name]
    if after:
        after[-1].addnext(new)
    elif slots:
        slots[0].addprevious(new)
    else:
        element.insert(0, new)


def registry_entry(extrinsic: etree._Element, content: bytes) -> bytes:
    """The ExtrinsicObject as the registry stores and returns it (hash, size, repository)."""
    element = copy.deepcopy(extrinsic)
    _slot(element, "hash", hashlib.sha1(content).hexdigest())
    _slot(element, "size", str(len(content)))
    _slot(element, "repositoryUniqueId", REPOSITORY_ID)
    element.set("lid", element.get("id", ""))
    element.set("isOpaque", "false")
    element.set("status", "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved")
    return etree.tostring(element)


def retrieve_response(documents: list[tuple[str, str, bytes]],
                      errors: list[tuple[str, str, str, str]]) -> tuple[etree._Element, list[mtom.Attachment]]:
    """(unique id, mime type, content) → RetrieveDocumentSetResponse with XOP includes."""
    root = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetResponse", nsmap={"ns2": RS, "ns4": XDSB})
    failed = bool(errors)
    status = SUCCESS if not failed else (PARTIAL if documents else FAILURE)
    response = etree.SubElement(root, f"{{{RS}}}RegistryResponse", status=status)
    error_list = registry_errors(errors)
    if error_list is not None:
        response.append(error_list)
    attachments = []
    for unique_id, mime_type, content in documents:
        item = etree.SubElement(root, f"{{{XDSB}}}DocumentResponse")
        etree.SubElement(item, f"{{{XDSB}}}RepositoryUniqueId").text = REPOSITORY_ID
        etree.SubElement(item, f"{{{XDSB}}}DocumentUniqueId").text = unique_id
        etree.SubElement(item, f"{{{XDSB}}}mimeType").text = mime_type
        document = etree.SubElement(item, f"{{{XDSB}}}Document")
        cid = mtom.new_content_id("urn%3Aihe%3Aiti%3Axds-b%3A2007")
        document.append(mtom.include(cid))
        attachments.append(mtom.Attachment(cid.replace("%3A", ":"), content, mime_type))
    return root, attachments
