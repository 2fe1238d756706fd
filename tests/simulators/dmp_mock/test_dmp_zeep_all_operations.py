"""Every operation of every official DMP WSDL (v2.01.04), through a zeep client generated from
the WSDL unchanged (loaded offline), with zeep's own WS-Addressing plugin: zeep chooses the
Action (the WSDL's `soapAction`, empty for PatientsSpecific and patientCertif, the
`urn:hl7-org:v3:…` ones of Habilitations) and serializes the body from the WSDL's schemas.

Bodies are built by our reference client (or taken from the official example request) and
parsed into zeep objects, so what goes on the wire is zeep's. Operations the DMP does not offer
to software (patientCertif) get a precise ActionNotSupported fault, never a silent failure."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dmp_helpers import PATIENT, reference_file
from lxml import etree
from zeep import Client, Settings, xsd
from zeep.exceptions import Fault
from zeep.plugins import Plugin
from zeep.wsa import WsAddressingPlugin

from banc.identity import nir_key
from banc.pki import TestPki
from banc.soap.offline import OfflineTransport
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import (
    DmpClient,
    hl7_patient_record,
    hl7_query,
    minimal_cda,
    retrieve_request,
    stored_query,
)
from simulators.dmp_mock.models import APPROVED, ARCHIVED
from simulators.dmp_mock.wire import FIND_DOCUMENTS, HAB, PAT, SUCCESS, WSSE

pytestmark = [pytest.mark.slow, pytest.mark.reference]
WSDLS = ("GestionDossierPatientPartage.wsdl", "Habilitations.wsdl", "PDQSupplier.wsdl", "PatientsSpecific.wsdl",
         "XDS.b_DocumentRegistry.wsdl", "XDS.b_DocumentRepository.wsdl", "patientCertif.wsdl")


class EbrimBody(Plugin):
    """zeep cannot serialize ebRIM's substitution group (rim:Identifiable: RegistryPackage,
    ExtrinsicObject, Association in a RegistryObjectList) — it drops them, as it fails to read
    them in the official TD3.1 response. For the two operations whose body is an ebRIM object
    list (ITI-41, ITI-57) this plugin puts our body element in the envelope zeep built; the
    Action, addressing headers, envelope and transport stay zeep's."""

    body: etree._Element | None = None

    def egress(self, envelope, http_headers, operation, binding_options):
        if self.body is not None:
            body = envelope.find("{http://www.w3.org/2003/05/soap-envelope}Body")
            for child in list(body):
                body.remove(child)
            body.append(self.body)
            self.body = None
        return envelope, http_headers


EBRIM = EbrimBody()
EBRIM_OPERATIONS = {"DocumentRegistry_UpdateDocumentSet", "DocumentRepository_ProvideAndRegisterDocumentSet-b"}


@dataclass(frozen=True)
class Case:
    wsdl: str
    service: str  # path segment under /si-dmp-server/v2/services/
    body: Callable[[DmpMock, DmpClient], tuple[etree._Element, str]]  # → (body, INS of the VIHF)
    check: Callable[[object, DmpMock], None]
    claims: tuple[tuple[str, object], ...] = ()


def new_ins(seed: int) -> str:
    matricule = f"28405{63000 + seed:05d}{seed % 1000:03d}"
    return matricule + nir_key(matricule)


def simple(namespace: str, name: str, **fields: str) -> etree._Element:
    root = etree.Element(f"{{{namespace}}}{name}", nsmap={None: namespace})
    for key, value in fields.items():
        etree.SubElement(root, f"{{{namespace}}}{key}").text = value
    return root


def skip_empty(value: object) -> object:
    """zeep's parsed value of a body, ready to send again: elements zeep read as None (HL7 `ST`
    mixed text such as semanticsText, which zeep's parser drops) are skipped, not rendered as
    missing required elements."""
    if isinstance(value, list):
        return [skip_empty(v) for v in value]
    if hasattr(value, "__values__"):
        attributes = {name for name, _ in value._xsd_type.attributes}
        for key, item in value.__values__.items():
            if item is None and key not in attributes and key != "_value_1":
                value.__values__[key] = xsd.SkipValue
            elif item is not None:
                value.__values__[key] = skip_empty(item)
    return value


_OFFICIAL: dict[str, Callable[[], etree._Element]] = {}


def _td02(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    return hl7_query(PATIENT), PATIENT


def _create(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    ins = new_ins(len(dmp.store.patients()))
    return hl7_patient_record("PRPA_IN201311UV02", "CREA_RD", ins, family="NOUVEAU", given="ZEEP",
                              sex="F", birth="19840512"), ins


def _revise(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    ins = new_ins(500 + len(dmp.store.patients()))
    dmp.add_patient(ins, "AVANT", "ZEEP", sex="F", birth_date="19840512")
    return hl7_patient_record("PRPA_IN201314UV02", "MODIF_DATA", ins, family="APRES", given="ZEEP",
                              sex="F", birth="19840512"), ins


def _find(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    client.set_authorization(PATIENT)
    return stored_query(FIND_DOCUMENTS, {"$XDSDocumentEntryPatientId": [f"{PATIENT}^^^&1.2.250.1.213.1.4.10&ISO^NH"],
                                         "$XDSDocumentEntryStatus": [APPROVED]}), PATIENT


def _archive(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    from simulators.dmp_mock.client import status_update

    fed = client.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT)
    entry_uuid = dmp.store.document(unique_id=fed.unique_id).entry_uuid
    package = etree.fromstring(b'<rim:RegistryPackage xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" '
                               b'id="SubmissionSet01"/>')
    _STATE["archived"] = fed.unique_id
    return status_update(package, entry_uuid, APPROVED, ARCHIVED), PATIENT


def _provide(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", text=f"zeep {uuid.uuid4()}")
    payload, _, document = client.provide_request(cda, inline=True)
    _STATE["provided"] = document.unique_id
    return payload, PATIENT


def _retrieve(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    fed = client.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT)
    client.set_authorization(PATIENT)
    _STATE["retrieved"] = (fed.unique_id, fed.content)
    return retrieve_request([fed.unique_id]), PATIENT


def _td16(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    client.set_authorization(PATIENT)
    return simple(HAB, "listAuthorizationByPatient", mode="TOUTE"), PATIENT


def _td04(dmp: DmpMock, client: DmpClient) -> tuple[etree._Element, str]:
    client.set_authorization(PATIENT)
    return simple(PAT, "patientList"), PATIENT


_STATE: dict[str, object] = {}


def _hl7_ok(result: object, dmp: DmpMock) -> None:
    assert result.acknowledgement[0].typeCode.code == "AA" if hasattr(result, "acknowledgement") else True
    assert not [f for f in dmp.exchanges()[-1].findings if f.is_error]


def _query_ok(result: object, dmp: DmpMock) -> None:
    assert result.controlActProcess.queryAck.queryResponseCode.code == "OK"


def _status_ok(result: object, dmp: DmpMock) -> None:
    assert result.status == "DMPOk", result


def _authorizations(result: object, dmp: DmpMock) -> None:
    """TD1.6 answers as the official response example: first/last name in order, speciality."""
    assert result.status == "DMPOk"
    (nurse,) = [a for a in result.listOfAuthorizationByPatient if a.nationalId == "810000000001"]
    assert (nurse.firstName, nurse.lastName) == ("CLAIRE", "SOIGNANTE")
    assert nurse.codeSpeciality == ["G15_60"] and nurse.libSpeciality == ["Infirmier"]
    assert nurse.mode == "ACTIVE"


def _patient_list(result: object, dmp: DmpMock) -> None:
    assert result.status == "DMPOk"
    assert PATIENT in [i.nationalId for d in result.patientlistData for i in d.patientIdentifier]


def _registry_ok(result: object, dmp: DmpMock) -> None:
    assert result.status == SUCCESS, result


def _archived(result: object, dmp: DmpMock) -> None:
    assert result.status == SUCCESS, result
    assert dmp.store.document(unique_id=_STATE["archived"]).status == ARCHIVED


def _provided(result: object, dmp: DmpMock) -> None:
    """zeep sends no MTOM: accepted, with the DMP.MTOM finding citing the integration guide."""
    assert result.status == SUCCESS, [f for f in dmp.exchanges()[-1].findings if f.is_error]
    assert dmp.store.document(unique_id=_STATE["provided"]) is not None
    feed = [e for e in dmp.exchanges() if e.operation == "TD2.1"][-1]
    (mtom,) = [f for f in feed.findings if f.rule_id == "DMP.MTOM"]
    assert not mtom.is_error and "SC.DMP.04.MS1" in mtom.requirements


def _retrieved(result: object, dmp: DmpMock) -> None:
    unique_id, cda = _STATE["retrieved"]
    assert result.RegistryResponse.status == SUCCESS
    assert result.DocumentResponse[0].DocumentUniqueId == unique_id and result.DocumentResponse[0].Document == cda


def _not_offered(result: object, dmp: DmpMock) -> None:
    assert isinstance(result, Fault), result
    assert "patientCertif" in result.message and "INSi" in result.message
    assert dmp.exchanges()[-1].findings[-1].rule_id == "WSA.ACTION"


CASES: dict[tuple[str, str], Case] = {
    ("GestionDossierPatientPartage.wsdl", "PatientGetDemographics_PRPA_IN201307UV02"):
        Case("GestionDossierPatientPartage.wsdl", "patients", _td02, _query_ok),
    ("GestionDossierPatientPartage.wsdl", "PatientAdd_PRPA_IN201311UV02"):
        Case("GestionDossierPatientPartage.wsdl", "patients", _create, _hl7_ok),
    ("GestionDossierPatientPartage.wsdl", "PatientRevise_PRPA_IN201314UV02"):
        Case("GestionDossierPatientPartage.wsdl", "patients", _revise, _hl7_ok),
    ("PDQSupplier.wsdl", "findCandidatesQuery"):
        Case("PDQSupplier.wsdl", "patients", lambda d, c: (_OFFICIAL["TD0.5"](), PATIENT), _hl7_ok,
             claims=(("purpose", "CENTRE_15"),)),
    ("Habilitations.wsdl", "setAuthorization"):
        Case("Habilitations.wsdl", "habilitations", lambda d, c: (simple(HAB, "setAuthorization", action="AJOUT"),
                                                                  PATIENT), _status_ok),
    ("Habilitations.wsdl", "listAuthorizationByPatient"):
        Case("Habilitations.wsdl", "habilitations", _td16, _authorizations),
    ("PatientsSpecific.wsdl", "patientList"):
        Case("PatientsSpecific.wsdl", "patientsSpecific", _td04, _patient_list),
    ("XDS.b_DocumentRegistry.wsdl", "DocumentRegistry_RegistryStoredQuery"):
        Case("XDS.b_DocumentRegistry.wsdl", "registry", _find, _registry_ok),
    ("XDS.b_DocumentRegistry.wsdl", "DocumentRegistry_UpdateDocumentSet"):
        Case("XDS.b_DocumentRegistry.wsdl", "registry", _archive, _archived),
    ("XDS.b_DocumentRepository.wsdl", "DocumentRepository_ProvideAndRegisterDocumentSet-b"):
        Case("XDS.b_DocumentRepository.wsdl", "repository", _provide, _provided),
    ("XDS.b_DocumentRepository.wsdl", "DocumentRepository_RetrieveDocumentSet"):
        Case("XDS.b_DocumentRepository.wsdl", "repository", _retrieve, _retrieved),
    ("patientCertif.wsdl", "identityCertification"):
        Case("patientCertif.wsdl", "patientCertif",
             lambda d, c: (simple("urn:si-dmp-patients", "identityCertification", nirOD="2840563123456",
                                  dateNaissance="19840512", rangNaissance="1"), ""), _not_offered),
}


@pytest.fixture(scope="module")
def clients(pki: TestPki, reference: Path) -> Iterator[dict[str, Client]]:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(pki.ca_cert)
    session.cert = (str(pki.cert("dui")), str(pki.key("dui")))
    loaded = {name: Client(str(reference_file(reference, "wsdl", "wsdl", name)),
                           transport=OfflineTransport(session=session), plugins=[WsAddressingPlugin(), EBRIM],
                           settings=Settings(strict=False))
              for name in WSDLS}
    example = reference_file(reference, "messages", "TD0.5_-_Recherche_d_un_patient_sans_INS_requete.xml")
    _OFFICIAL["TD0.5"] = lambda: next(iter(etree.parse(str(example)).getroot().find(
        "{http://www.w3.org/2003/05/soap-envelope}Body")))
    yield loaded
    session.close()


def test_every_official_operation_is_covered(clients: dict[str, Client]) -> None:
    """The case list is the WSDLs' operation list: a new WSDL operation fails here."""
    declared = {(name, op) for name, client in clients.items()
                for binding in client.wsdl.bindings.values() for op in binding._operations}
    assert declared == set(CASES)


@pytest.mark.parametrize("key", list(CASES), ids=[op for _, op in CASES])
def test_official_operation_through_zeep(dmp: DmpMock, nurse: DmpClient, clients: dict[str, Client],
                                         key: tuple[str, str]) -> None:
    case = CASES[key]
    client = clients[case.wsdl]
    (binding_name, binding), = [(n, b) for n, b in client.wsdl.bindings.items() if key[1] in b._operations]
    operation = binding._operations[key[1]]
    body, ins = case.body(dmp, nurse)
    value = operation.input.body.parse(body, client.wsdl.types)
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(nurse.vihf(ins, **dict(case.claims)))
    service = client.create_service(binding_name, f"{dmp.url}/si-dmp-server/v2/services/{case.service}")
    if key[1] in EBRIM_OPERATIONS:
        EBRIM.body = body
    try:
        result = getattr(service, key[1])(**dict(skip_empty(value).__values__), _soapheaders=[security])
    except Fault as fault:
        result = fault
    if not isinstance(result, Fault) or case.check is _not_offered:
        case.check(result, dmp)
    else:
        pytest.fail(f"{key[1]} : faute SOAP {result.message}")
    assert not [f for f in dmp.exchanges()[-1].findings if f.rule_id in ("WSA.MISSING", "DMP.INTERNAL")]
