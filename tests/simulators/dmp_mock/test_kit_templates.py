"""The ANS sample-kit request templates, filled with test data and signed with the bench's PKI,
are accepted under the default, strict settings (as the kit's C# code fills them: values from
the document and the caller, namespaces added where the template leaves elements unqualified)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dmp_helpers import NURSE, PATIENT, reference_file
from lxml import etree

from banc.mocks import MockContext
from banc.pki import TestPki
from banc.soap import mtom
from banc.xds import codes as xc
from banc.xds.derive import derive_submission
from banc.xds.model import DocumentEntry
from simulators.dmp_mock import DmpMock, launch
from simulators.dmp_mock.app import DmpSettings
from simulators.dmp_mock.client import DmpClient, minimal_cda, signature_document, soap_request
from simulators.dmp_mock.models import APPROVED, ARCHIVED, DELETED
from simulators.dmp_mock.wire import LCM, RIM, XDSB

pytestmark = [pytest.mark.slow, pytest.mark.reference]
CX = f"{PATIENT}^^^&1.2.250.1.213.1.4.10&ISO^NH"
PNR = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ITI57 = "urn:ihe:iti:2010:UpdateDocumentSet"


@pytest.fixture(scope="module")
def strict_dmp(mock_context: Callable[[str], MockContext]) -> Iterator[DmpMock]:
    mock = launch(mock_context("dmp-kit"),
                  settings=DmpSettings(validate_cda=False), documents_per_patient=0)
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def client(strict_dmp: DmpMock, pki: TestPki) -> Iterator[DmpClient]:
    c = DmpClient(strict_dmp.url, pki, author=NURSE)
    c.set_authorization(PATIENT)
    yield c
    c.close()


def template(reference: Path, name: str) -> etree._Element:
    root = etree.parse(str(reference_file(reference, "kit-templates", name))).getroot()
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).namespace is None:
            element.tag = f"{{{LCM if element.tag == 'SubmitObjectsRequest' else RIM}}}{element.tag}"
    return root


def _slot(element: etree._Element, name: str, values: tuple[str, ...] | list[str]) -> None:
    for slot in element.findall(f"{{{RIM}}}Slot"):
        if slot.get("name") == name:
            value_list = slot.find(f"{{{RIM}}}ValueList")
            for old in list(value_list):
                value_list.remove(old)
            for value in values:
                etree.SubElement(value_list, f"{{{RIM}}}Value").text = value


def _external(element: etree._Element, scheme: str, value: str) -> None:
    for ident in element.findall(f"{{{RIM}}}ExternalIdentifier"):
        if ident.get("identificationScheme") == scheme:
            ident.set("value", value)


def _code(element: etree._Element, scheme: str, code: xc.Code) -> None:
    for classification in element.findall(f"{{{RIM}}}Classification"):
        if classification.get("classificationScheme") == scheme and (
                scheme != xc.DE_CONFIDENTIALITY or classification.get("nodeRepresentation") in ("N", code.code)):
            classification.set("nodeRepresentation", code.code)
            _slot(classification, "codingScheme", [code.scheme])
            name = classification.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString")
            if name is not None:
                name.set("value", code.display or code.code)


def _author(element: etree._Element, scheme: str, entry: DocumentEntry) -> None:
    author = entry.authors[0]
    for classification in element.findall(f"{{{RIM}}}Classification"):
        if classification.get("classificationScheme") == scheme:
            _slot(classification, "authorPerson", [author.person.to_xcn()])
            _slot(classification, "authorInstitution", [o.to_xon() for o in author.institutions])
            _slot(classification, "authorSpecialty", ["G15_60^Infirmier^1.2.250.1.213.1.1.4.5"])


def fill_submission_set(package: etree._Element, entry: DocumentEntry) -> None:
    _slot(package, "submissionTime", [entry.creation_time])
    _author(package, xc.SS_AUTHOR, entry)
    _external(package, xc.SS_PATIENT_ID, CX)
    _external(package, xc.SS_SOURCE_ID, "1.2.250.1.213.1.1.9.999")
    _external(package, xc.SS_UNIQUE_ID, f"1.2.250.1.213.1.1.9.999.1.{uuid.uuid4().int % 10**15}")


def fill_entry(eo: etree._Element, entry: DocumentEntry, *, codes: bool = True) -> None:
    for name, values in (("creationTime", [entry.creation_time]), ("serviceStartTime", [entry.service_start]),
                         ("serviceStopTime", [entry.service_stop]), ("sourcePatientId", [CX]),
                         ("sourcePatientInfo", list(entry.source_patient_info)),
                         ("legalAuthenticator", [entry.legal_authenticator.to_xcn()])):
        _slot(eo, name, values)
    _author(eo, xc.DE_AUTHOR, entry)
    _external(eo, xc.DE_PATIENT_ID, CX)
    _external(eo, xc.DE_UNIQUE_ID, entry.unique_id)
    if codes:
        name = eo.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString")
        if name is not None:
            name.set("value", entry.title)
        for scheme, code in ((xc.DE_CLASS, entry.class_code), (xc.DE_TYPE, entry.type_code),
                             (xc.DE_FORMAT, entry.format_code), (xc.DE_FACILITY, entry.healthcare_facility_type),
                             (xc.DE_PRACTICE, entry.practice_setting), (xc.DE_CONFIDENTIALITY, entry.confidentiality[0])):
            _code(eo, scheme, code)


def feed_template(reference: Path, client: DmpClient) -> tuple[str, bytes]:
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", birth="19751231")
    entry = derive_submission(etree.fromstring(cda), document_bytes=cda).documents[0]
    request = template(reference, "template_XDS.xml")
    objects = request.find(f"{{{RIM}}}RegistryObjectList")
    package = objects.find(f"{{{RIM}}}RegistryPackage")
    fill_submission_set(package, entry)
    extrinsics = {eo.get("id"): eo for eo in objects.findall(f"{{{RIM}}}ExtrinsicObject")}
    fill_entry(extrinsics["Document01"], entry)
    signature = extrinsics["Signature01"]
    fill_entry(signature, entry, codes=False)
    _external(signature, xc.DE_UNIQUE_ID, entry.unique_id + ".9")
    pnr = etree.Element(f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest", nsmap={"xdsb": XDSB})
    pnr.append(request)
    attachments = []
    for ident, content in (("Document01", cda), ("Signature01", signature_document(entry.unique_id))):
        document = etree.SubElement(pnr, f"{{{XDSB}}}Document", id=ident)
        cid = mtom.new_content_id()
        document.append(mtom.include(cid))
        attachments.append(mtom.Attachment(cid, content, "text/xml"))
    envelope = soap_request(PNR, pnr, client.vihf(PATIENT), to=client.url(PNR))
    response = client.post_mtom(PNR, envelope, attachments)
    assert b"ResponseStatusType:Success" in response.content, response.text[-3000:]
    return entry.unique_id, cda


def test_template_xds(strict_dmp: DmpMock, client: DmpClient, reference: Path) -> None:
    unique_id, cda = feed_template(reference, client)
    stored = strict_dmp.store.document(unique_id=unique_id, with_content=True)
    assert stored.content == cda and stored.status == APPROVED
    assert strict_dmp.exchanges()[-1].conform


def test_template_find_document(strict_dmp: DmpMock, client: DmpClient, reference: Path) -> None:
    unique_id, _ = feed_template(reference, client)
    query = template(reference, "template_FindDocument.xml")
    query.find(f".//{{{RIM}}}Slot[@name='$XDSDocumentEntryPatientId']/{{{RIM}}}ValueList/{{{RIM}}}Value").text = f"'{CX}'"
    response = client.post("urn:ihe:iti:2007:RegistryStoredQuery", query, PATIENT)
    assert b"ResponseStatusType:Success" in response.content
    assert unique_id.encode() in response.content


@pytest.mark.parametrize(("name", "new_status"), [("template_archivage.xml", ARCHIVED),
                                                   ("template_depublication.xml", DELETED)])
def test_template_status_updates(strict_dmp: DmpMock, client: DmpClient, reference: Path,
                                 name: str, new_status: str) -> None:
    unique_id, cda = feed_template(reference, client)
    stored = strict_dmp.store.document(unique_id=unique_id)
    entry = derive_submission(etree.fromstring(cda)).documents[0]
    request = template(reference, name)
    fill_submission_set(request.find(f".//{{{RIM}}}RegistryPackage"), entry)
    request.find(f".//{{{RIM}}}Association").set("targetObject", stored.entry_uuid)
    response = client.post(ITI57, request, PATIENT)
    assert b"ResponseStatusType:Success" in response.content, response.text[-2000:]
    assert strict_dmp.store.document(unique_id=unique_id).status == new_status


def test_template_masquage(strict_dmp: DmpMock, client: DmpClient, reference: Path) -> None:
    unique_id, cda = feed_template(reference, client)
    stored = strict_dmp.store.document(unique_id=unique_id)
    entry = derive_submission(etree.fromstring(cda)).documents[0]
    request = template(reference, "template_masquage.xml")
    fill_submission_set(request.find(f".//{{{RIM}}}RegistryPackage"), entry)
    eo = request.find(f".//{{{RIM}}}ExtrinsicObject")
    old_lid = eo.get("lid")
    for element in eo.iter():
        for attribute in ("lid", "classifiedObject", "registryObject"):
            if element.get(attribute) == old_lid:
                element.set(attribute, stored.entry_uuid)
    fill_entry(eo, entry)
    response = client.post(ITI57, request, PATIENT)
    assert b"ResponseStatusType:Success" in response.content, response.text[-2000:]
    assert "MASQUE_PS" in strict_dmp.store.document(unique_id=unique_id).confidentiality
