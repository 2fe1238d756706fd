"""A small DMP client: what a DUI sends, built with the bench's own parts.

Used by the tests, the benchmark, the seed and the notebooks to talk to the mock (or to any DMP
endpoint that speaks the same protocol): SOAP 1.2 envelopes with WS-Addressing and a signed VIHF
(`banc.vihf`), HL7v3 TD0.2, ebRIM stored queries, ITI-41 as MTOM with a XAdES-like signature
document and its `signs` association, ITI-43, ITI-57. `minimal_cda` writes a CDA R2 N1 (plain
text) document with a complete CI-SIS header for tests until richer documents are needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from lxml import etree

from banc.pki import TestPki
from banc.soap import SOAP12_NS, WSA_NS, build_envelope, mtom
from banc.vihf import Role, VihfClaims, build_vihf_for
from banc.xds import codes as xc
from banc.xds.derive import derive_submission
from banc.xds.ebrim import to_provide_and_register
from banc.xds.model import Association, DocumentEntry, Submission
from simulators.dmp_mock import wire

WSSE = wire.WSSE
SERVICES = {
    "urn:hl7-org:v3:PRPA_IN201307UV02": "patients",
    "urn:hl7-org:v3:PRPA_IN201305UV02": "patients",
    "urn:hl7-org:v3:PRPA_IN201311UV02": "patients",
    "urn:hl7-org:v3:PRPA_IN201314UV02": "patients",
    "urn:si-dmp-patients:PatientSpecificEndPoint:patientList": "patientsSpecific",
    "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization": "habilitations",
    "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatient": "habilitations",
    "urn:ihe:iti:2007:RegistryStoredQuery": "registry",
    "urn:ihe:iti:2010:UpdateDocumentSet": "registry",
    "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b": "repository",
    "urn:ihe:iti:2007:RetrieveDocumentSet": "repository",
}


def soap_request(action: str, payload: etree._Element | None, assertion: etree._Element | None,
                 *, to: str = "", message_id: str | None = None,
                 omit: tuple[str, ...] = ()) -> bytes:
    """A DMP request envelope; `omit` drops WS-Addressing headers (negative tests)."""
    headers = []
    values = {"MessageID": message_id or f"urn:uuid:{uuid.uuid4()}", "To": to, "Action": action}
    for name, value in values.items():
        if name in omit:
            continue
        element = etree.Element(f"{{{WSA_NS}}}{name}", nsmap={"wsa": WSA_NS})
        element.text = value
        headers.append(element)
    if "ReplyTo" not in omit:
        reply = etree.Element(f"{{{WSA_NS}}}ReplyTo", nsmap={"wsa": WSA_NS})
        etree.SubElement(reply, f"{{{WSA_NS}}}Address").text = f"{WSA_NS}/anonymous"
        headers.append(reply)
    if assertion is not None:
        security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
        security.append(assertion)
        headers.append(security)
    return build_envelope(payload, headers)


def hl7_query(ins: str, oid: str = "1.2.250.1.213.1.4.10", reason: str = "TEST_EXST") -> etree._Element:
    """PRPA_IN201307UV02 for TD0.2 (TEST_EXST) or TD1.3a (CNSLT_DATA)."""
    h = wire.h
    root = etree.Element(h("PRPA_IN201307UV02"), nsmap={None: wire.HL7}, ITSVersion="XML_1.0")
    etree.SubElement(root, h("id"), root="1.2.250.1.213.1.1.9.999.1", extension=str(uuid.uuid4()))
    etree.SubElement(root, h("creationTime"), value=dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S"))
    etree.SubElement(root, h("interactionId"), root="2.16.840.1.113883.1.6", extension="PRPA_IN201307UV02")
    etree.SubElement(root, h("processingCode"), code="P")
    etree.SubElement(root, h("processingModeCode"), code="T")
    etree.SubElement(root, h("acceptAckCode"), code="AL")
    for role, type_code, oid_, name in (("receiver", "RCV", wire.DMP_OID, "DMP"),
                                        ("sender", "SND", "1.2.250.1.213.1.1.9.999", "DUI Banc Ségur")):
        element = etree.SubElement(root, h(role), typeCode=type_code)
        device = etree.SubElement(element, h("device"), classCode="DEV", determinerCode="INSTANCE")
        etree.SubElement(device, h("id"), root=oid_)
        etree.SubElement(device, h("softwareName")).text = name
    control = etree.SubElement(root, h("controlActProcess"), classCode="CACT", moodCode="EVN")
    etree.SubElement(control, h("reasonCode"), code=reason, codeSystem="1.2.250.1.213.1.1.4.11")
    query = etree.SubElement(control, h("queryByParameter"))
    etree.SubElement(query, h("queryId"), root="1.2.250.1.213.1.1.9.999.2", extension=str(uuid.uuid4()))
    etree.SubElement(query, h("statusCode"), code="new")
    parameters = etree.SubElement(query, h("parameterList"))
    identifier = etree.SubElement(parameters, h("patientIdentifier"))
    etree.SubElement(identifier, h("value"), root=oid, extension=ins)
    etree.SubElement(identifier, h("semanticsText")).text = "Patient.id"
    return root


def hl7_patient_record(interaction: str, reason: str, ins: str, *, family: str = "", given: str = "",
                       sex: str = "", birth: str = "", status: str = "active",
                       oid: str = "1.2.250.1.213.1.4.10") -> etree._Element:
    """PRPA_IN201311UV02 (TD1.1 `CREA_RD`) or PRPA_IN201314UV02 (`REAC`, `MODIF_DATA`, `FERM`)."""
    h = wire.h
    root = hl7_query(ins, oid)
    root.tag = h(interaction)
    root.find(h("interactionId")).set("extension", interaction)
    control = root.find(h("controlActProcess"))
    for child in list(control):
        control.remove(child)
    etree.SubElement(control, h("reasonCode"), code=reason, codeSystem="1.2.250.1.213.1.1.4.11")
    subject = etree.SubElement(control, h("subject"), typeCode="SUBJ", contextConductionInd="false")
    request = etree.SubElement(subject, h("registrationRequest"), classCode="REG", moodCode="RQO")
    etree.SubElement(request, h("statusCode"), code="active")
    patient = etree.SubElement(etree.SubElement(request, h("subject1"), typeCode="SBJ"), h("patient"), classCode="PAT")
    etree.SubElement(patient, h("id"), root=oid, extension=ins)
    etree.SubElement(patient, h("statusCode"), code=status)
    person = etree.SubElement(patient, h("patientPerson"), classCode="PSN", determinerCode="INSTANCE")
    name = etree.SubElement(person, h("name"))
    etree.SubElement(name, h("family"), qualifier="SP").text = family
    etree.SubElement(name, h("given")).text = given
    if sex:
        etree.SubElement(person, h("administrativeGenderCode"), code=sex)
    if birth:
        etree.SubElement(person, h("birthTime"), value=birth)
    return root


def stored_query(query_id: str, params: dict[str, list[str]], return_type: str = "LeafClass") -> etree._Element:
    root = etree.Element(f"{{{wire.QUERY}}}AdhocQueryRequest", nsmap={"query": wire.QUERY, "rim": wire.RIM})
    etree.SubElement(root, f"{{{wire.QUERY}}}ResponseOption", returnComposedObjects="true", returnType=return_type)
    query = etree.SubElement(root, f"{{{wire.RIM}}}AdhocQuery", id=query_id)
    for name, values in params.items():
        slot = etree.SubElement(query, f"{{{wire.RIM}}}Slot", name=name)
        value_list = etree.SubElement(slot, f"{{{wire.RIM}}}ValueList")
        quoted = [f"'{v}'" for v in values]
        text = f"({','.join(quoted)})" if name.endswith(("Status", "Code", "EntryUUID", "UniqueId", "uuid")) else quoted[0]
        etree.SubElement(value_list, f"{{{wire.RIM}}}Value").text = text
    return root


def retrieve_request(unique_ids: list[str], repository: str = wire.REPOSITORY_ID) -> etree._Element:
    root = etree.Element(f"{{{wire.XDSB}}}RetrieveDocumentSetRequest", nsmap={None: wire.XDSB})
    for unique_id in unique_ids:
        request = etree.SubElement(root, f"{{{wire.XDSB}}}DocumentRequest")
        etree.SubElement(request, f"{{{wire.XDSB}}}RepositoryUniqueId").text = repository
        etree.SubElement(request, f"{{{wire.XDSB}}}DocumentUniqueId").text = unique_id
    return root


def status_update(submission_set: etree._Element, target: str, original: str, new: str) -> etree._Element:
    """ITI-57 SubmitObjectsRequest changing one document's availability status."""
    root = etree.Element(f"{{{wire.LCM}}}SubmitObjectsRequest", nsmap={"lcm": wire.LCM, "rim": wire.RIM})
    objects = etree.SubElement(root, f"{{{wire.RIM}}}RegistryObjectList")
    objects.append(submission_set)
    association = etree.SubElement(
        objects, f"{{{wire.RIM}}}Association", id="association1", sourceObject=submission_set.get("id", ""),
        targetObject=target, associationType="urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus")
    for name, value in (("OriginalStatus", original), ("NewStatus", new)):
        slot = etree.SubElement(association, f"{{{wire.RIM}}}Slot", name=name)
        etree.SubElement(etree.SubElement(slot, f"{{{wire.RIM}}}ValueList"), f"{{{wire.RIM}}}Value").text = value
    return root


@dataclass(frozen=True)
class Author:
    """The professional and structure a document is written by (and who calls the DMP)."""

    rpps: str = "810000000001"  # national id "8" + RPPS
    family: str = "SOIGNANTE"
    given: str = "CLAIRE"
    profession: str = "60"  # infirmier
    structure_id: str = "340000000000001"
    structure_name: str = "SSIAD DU BANC"
    facility: str = "SA52"  # structure médico-sociale (code R02)
    practice: str = "AMBULATOIRE"


def minimal_cda(ins: str, *, author: Author = Author(), oid: str = "1.2.250.1.213.1.4.10",
                family: str = "PATIENT", given: str = "TEST", sex: str = "F", birth: str = "19750101",
                text: str = "Compte rendu de passage du SSIAD.", unique_id: str | None = None,
                type_code: tuple[str, str] = ("11490-0", "Lettre de sortie"), padding: int = 0,
                when: dt.datetime | None = None) -> bytes:
    """A CDA R2 N1 (text/plain body) with a complete header; `padding` bytes of text inflate it."""
    when = when or dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = when.strftime("%Y%m%d%H%M%S+0000")
    body = base64.b64encode((text + " " * padding).encode()).decode()
    unique_id = unique_id or f"1.2.250.1.213.1.1.9.999.3.{uuid.uuid4().int % 10**18}"
    person = f"<name><given>{author.given}</given><family>{author.family}</family></name>"
    org = (f'<representedOrganization><id root="1.2.250.1.71.4.2.2" extension="{author.structure_id}"/>'
           f"<name>{author.structure_name}</name></representedOrganization>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<realmCode code="FR"/><typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
<templateId root="2.16.840.1.113883.2.8.2.1"/><templateId root="1.2.250.1.213.1.1.1.1"/>
<templateId root="1.3.6.1.4.1.19376.1.2.20"/>
<id root="{unique_id}"/>
<code code="{type_code[0]}" codeSystem="2.16.840.1.113883.6.1" displayName="{type_code[1]}"/>
<title>{type_code[1]}</title><effectiveTime value="{stamp}"/>
<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>
<languageCode code="fr-FR"/>
<recordTarget><patientRole><id root="{oid}" extension="{ins}"/><patient>
<name><given>{given}</given><family qualifier="BR">{family}</family></name>
<administrativeGenderCode code="{sex}" codeSystem="2.16.840.1.113883.5.1"/><birthTime value="{birth}"/>
</patient></patientRole></recordTarget>
<author><time value="{stamp}"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="{author.rpps}"/>
<assignedPerson>{person}</assignedPerson>{org}</assignedAuthor></author>
<custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.71.4.2.2" extension="{author.structure_id}"/>
<name>{author.structure_name}</name></representedCustodianOrganization></assignedCustodian></custodian>
<legalAuthenticator><time value="{stamp}"/><signatureCode code="S"/><assignedEntity>
<id root="1.2.250.1.71.4.2.1" extension="{author.rpps}"/><assignedPerson>{person}</assignedPerson></assignedEntity></legalAuthenticator>
<documentationOf><serviceEvent><effectiveTime><low value="{stamp}"/><high value="{stamp}"/></effectiveTime>
<performer typeCode="PRF"><assignedEntity><id root="1.2.250.1.71.4.2.1" extension="{author.rpps}"/>
<representedOrganization><standardIndustryClassCode code="{author.practice}" codeSystem="1.2.250.1.213.1.1.4.9"/></representedOrganization>
</assignedEntity></performer></serviceEvent></documentationOf>
<componentOf><encompassingEncounter><effectiveTime><low value="{stamp}"/></effectiveTime><location><healthCareFacility>
<code code="{author.facility}" codeSystem="1.2.250.1.71.4.2.4"/></healthCareFacility></location></encompassingEncounter></componentOf>
<component><nonXMLBody><text mediaType="text/plain" representation="B64">{body}</text></nonXMLBody></component>
</ClinicalDocument>""".encode()


def signature_document(submission_unique_id: str) -> bytes:
    """A placeholder XAdES signature document (the DMP checks its presence and metadata; the
    signature's own cryptographic verification is out of the mock's scope)."""
    return (f'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" Id="sig-{uuid.uuid4()}">'
            f"<SignedInfo/><SignatureValue/><Object><Manifest Id=\"IHEManifest\"><Reference URI="
            f"\"{submission_unique_id}\"/></Manifest></Object></Signature>").encode()


def signature_entry(document: DocumentEntry, unique_id: str) -> DocumentEntry:
    return replace(
        document,
        entry_uuid=f"urn:uuid:{uuid.uuid4()}",
        unique_id=unique_id,
        class_code=xc.Code("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN", "Digital Signature"),
        type_code=xc.Code("E1762", "ASTM", "Full Document"),
        format_code=xc.Code("http://www.w3.org/2000/09/xmldsig#", "URN", "Default Signature Style"),
        confidentiality=(xc.CONF_NORMAL, xc.MASQUE_PS, xc.INVISIBLE_PATIENT),
        event_codes=(xc.Code("1.2.840.10065.1.12.1.14", "1.2.840.10065.1.12", "Source"),),
        title="Signature", hash="", size=None,
    )


@dataclass
class Fed:
    """What `DmpClient.provide` sent (to find or replace it later)."""

    response: httpx.Response
    entry_uuid: str
    unique_id: str
    content: bytes


class DmpClient:
    """HTTPS client with the DUI's organisation certificate and a fresh signed VIHF per call."""

    def __init__(self, base_url: str, pki: TestPki, *, author: Author = Author(),
                 client_cert: str = "dui", mode: str = "INDIRECTE_RENFORCEE", timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.pki = pki
        self.author = author
        self.mode = mode
        self.http = httpx.Client(verify=pki.client_context(client_cert), timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def claims(self, ins: str = "", **changes: object) -> VihfClaims:
        a = self.author
        claims = VihfClaims(
            subject_nameid=a.rpps, subject_name=f"{a.given} {a.family}", structure_id=a.structure_id,
            patient_ins=ins, mode=self.mode,
            roles=(Role(a.profession, "1.2.250.1.71.1.2.7", ""),),
            secteur_activite=a.facility,
        )
        for key, value in changes.items():
            setattr(claims, key, value)
        return claims

    def vihf(self, ins: str = "", **changes: object) -> etree._Element:
        return build_vihf_for(Path(self.pki.directory), self.claims(ins, **changes))

    def url(self, action: str) -> str:
        return f"{self.base_url}{'/si-dmp-server/v2/services'}/{SERVICES[action]}"

    def post(self, action: str, payload: etree._Element | None, ins: str = "", *,
             assertion: etree._Element | None = None, omit: tuple[str, ...] = (),
             service: str | None = None) -> httpx.Response:
        token = assertion if assertion is not None else self.vihf(ins)
        body = soap_request(action, payload, token, to=self.url(action), omit=omit)
        url = self.url(action) if service is None else f"{self.base_url}/si-dmp-server/v2/services/{service}"
        return self.http.post(url, content=body,
                              headers={"content-type": f'application/soap+xml; charset=utf-8; action="{action}"'})

    def post_mtom(self, action: str, envelope: bytes, attachments: list[mtom.Attachment]) -> httpx.Response:
        body, content_type = mtom.build(envelope, attachments, action=action)
        return self.http.post(self.url(action), content=body, headers={"content-type": content_type})

    # -- transactions -----------------------------------------------------------------------
    def td02(self, ins: str) -> httpx.Response:
        return self.post("urn:hl7-org:v3:PRPA_IN201307UV02", hl7_query(ins), ins)

    def web_access(self, ins: str, page: str = "DossierPatient",
                   assertion: etree._Element | None = None) -> httpx.Response:
        """TD0.9: the contextual web access posts the signed VIHF (base64, form field `vihf`)
        to the page of the patient's DMP, over the same client certificate as the services."""
        token = etree.tostring(assertion if assertion is not None else self.vihf(ins))
        return self.http.post(f"{self.base_url}/AccesDirect/{page}/{ins}",
                              data={"vihf": base64.b64encode(token).decode()})

    def set_authorization(self, ins: str, action: str = "AJOUT") -> httpx.Response:
        payload = etree.Element(f"{{{wire.HAB}}}setAuthorization", nsmap={None: wire.HAB})
        etree.SubElement(payload, f"{{{wire.HAB}}}action").text = action
        return self.post("urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization", payload, ins)

    def find_documents(self, ins: str, statuses: tuple[str, ...] = (
            "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved",), return_type: str = "LeafClass",
            patient_oid: str = "1.2.250.1.213.1.4.10") -> httpx.Response:
        payload = stored_query(wire.FIND_DOCUMENTS, {
            "$XDSDocumentEntryPatientId": [f"{ins}^^^&{patient_oid}&ISO^NH"],
            "$XDSDocumentEntryStatus": list(statuses),
        }, return_type)
        return self.post("urn:ihe:iti:2007:RegistryStoredQuery", payload, ins)

    def query(self, ins: str, query_id: str, params: dict[str, list[str]], return_type: str = "LeafClass") -> httpx.Response:
        return self.post("urn:ihe:iti:2007:RegistryStoredQuery", stored_query(query_id, params, return_type), ins)

    def retrieve(self, ins: str, unique_ids: list[str]) -> httpx.Response:
        return self.post("urn:ihe:iti:2007:RetrieveDocumentSet", retrieve_request(unique_ids), ins)

    def provide(self, cda: bytes, ins: str, *, replaces: str | None = None,
                visibility: tuple[xc.Code, ...] = (), assertion: etree._Element | None = None,
                mutate: object = None, inline: bool = False) -> Fed:
        """ITI-41 of one CDA (+ its signature document), as MTOM (`inline`: base64 in the
        SOAP body, as a client without MTOM sends — the DMP requires MTOM)."""
        payload, attachments, document = self.provide_request(
            cda, replaces=replaces, visibility=visibility, mutate=mutate, inline=inline)
        token = assertion if assertion is not None else self.vihf(ins)
        action = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
        envelope = soap_request(action, payload, token, to=self.url(action))
        if inline:
            response = self.http.post(self.url(action), content=envelope, headers={
                "content-type": f'application/soap+xml; charset=utf-8; action="{action}"'})
        else:
            response = self.post_mtom(action, envelope, attachments)
        return Fed(response, document.entry_uuid, document.unique_id, cda)

    def provide_request(self, cda: bytes, *, replaces: str | None = None,
                        visibility: tuple[xc.Code, ...] = (), mutate: object = None,
                        inline: bool = False) -> tuple[etree._Element, list[mtom.Attachment], DocumentEntry]:
        """The ITI-41 body for one CDA and its signature document, with the MTOM attachments
        (none when `inline`), and the CDA's DocumentEntry."""
        root = etree.fromstring(cda, etree.XMLParser(huge_tree=True))  # our own bytes
        submission: Submission = derive_submission(root, document_bytes=cda, replaces=replaces,
                                                   visibility=visibility)
        document = submission.documents[0]
        signature_uid = f"{submission.submission_set.unique_id}.9"
        signature = signature_entry(document, signature_uid)
        submission.documents.append(signature)
        submission.associations.append(Association(
            id=f"assoc{len(submission.associations) + 1}", type=xc.HAS_MEMBER,
            source=submission.submission_set.entry_uuid, target=signature.entry_uuid,
            slots=(("SubmissionSetStatus", ("Original",)),)))
        submission.associations.append(Association(
            id=f"assoc{len(submission.associations) + 1}", type=xc.SIGNS, source=signature.entry_uuid,
            target=submission.submission_set.entry_uuid))
        if callable(mutate):
            mutate(submission)
        signature_bytes = signature_document(submission.submission_set.unique_id)
        contents = {document.entry_uuid: cda, signature.entry_uuid: signature_bytes}
        if inline:
            return to_provide_and_register(submission, contents), [], document
        payload = to_provide_and_register(submission, {k: b"" for k in contents})
        attachments = []
        for element in payload.iter(f"{{{wire.XDSB}}}Document"):
            element.text = None
            cid = mtom.new_content_id()
            element.append(mtom.include(cid))
            attachments.append(mtom.Attachment(cid, contents[element.get("id", "")], "text/xml"))
        return payload, attachments, document

    def update_status(self, ins: str, entry_uuid: str, original: str, new: str) -> httpx.Response:
        package = etree.fromstring(
            f'<rim:RegistryPackage xmlns:rim="{wire.RIM}" id="SubmissionSet01"/>'.encode())
        return self.post("urn:ihe:iti:2010:UpdateDocumentSet", status_update(package, entry_uuid, original, new), ins)

    def update_visibility(self, ins: str, stored_metadata: etree._Element,
                          confidentiality: tuple[xc.Code, ...]) -> httpx.Response:
        """ITI-57 metadata update: a new version (lid = entryUUID) with other confidentiality codes."""
        new = etree.fromstring(etree.tostring(stored_metadata))
        lid = new.get("id", "")
        new.set("lid", lid)
        new.set("id", "Document01")
        for old in new.findall(f"{{{wire.RIM}}}Classification"):
            if old.get("classificationScheme") == xc.DE_CONFIDENTIALITY:
                new.remove(old)
        anchor = new.find(f"{{{wire.RIM}}}ExternalIdentifier")
        for number, code in enumerate(confidentiality):
            classification = etree.Element(f"{{{wire.RIM}}}Classification", id=f"conf{number}",
                                           classificationScheme=xc.DE_CONFIDENTIALITY, classifiedObject=lid,
                                           nodeRepresentation=code.code)
            slot = etree.SubElement(classification, f"{{{wire.RIM}}}Slot", name="codingScheme")
            etree.SubElement(etree.SubElement(slot, f"{{{wire.RIM}}}ValueList"), f"{{{wire.RIM}}}Value").text = code.scheme
            anchor.addprevious(classification)
        root = etree.Element(f"{{{wire.LCM}}}SubmitObjectsRequest", nsmap={"lcm": wire.LCM, "rim": wire.RIM})
        objects = etree.SubElement(root, f"{{{wire.RIM}}}RegistryObjectList")
        etree.SubElement(objects, f"{{{wire.RIM}}}RegistryPackage", id="SubmissionSet01")
        association = etree.SubElement(objects, f"{{{wire.RIM}}}Association", id="association1",
                                       associationType=xc.HAS_MEMBER, sourceObject="SubmissionSet01",
                                       targetObject="Document01")
        slot = etree.SubElement(association, f"{{{wire.RIM}}}Slot", name="PreviousVersion")
        etree.SubElement(etree.SubElement(slot, f"{{{wire.RIM}}}ValueList"), f"{{{wire.RIM}}}Value").text = "1"
        objects.append(new)
        return self.post("urn:ihe:iti:2010:UpdateDocumentSet", root, ins)


def response_root(response: httpx.Response) -> etree._Element:
    """The SOAP Body's first element of a response (MTOM or plain)."""
    content_type = response.headers.get("content-type", "")
    data = response.content
    if mtom.is_multipart(content_type):
        data = mtom.parse(data, content_type).root.data
    envelope = etree.fromstring(data)
    body = envelope.find(f"{{{SOAP12_NS}}}Body")
    return next(iter(body))


def retrieved(response: httpx.Response) -> dict[str, bytes]:
    """Document unique id → bytes of an ITI-43 MTOM response."""
    message = mtom.parse(response.content, response.headers["content-type"])
    root = etree.fromstring(message.root.data)
    out = {}
    for item in root.iter(f"{{{wire.XDSB}}}DocumentResponse"):
        uid = item.findtext(f"{{{wire.XDSB}}}DocumentUniqueId") or ""
        out[uid] = mtom.element_content(item.find(f"{{{wire.XDSB}}}Document"), message)
    return out
