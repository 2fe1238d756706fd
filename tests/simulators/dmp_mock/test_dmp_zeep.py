"""A zeep client generated from the official DMP WSDLs (loaded offline, unchanged) runs TD0.2,
ITI-18 and ITI-43 against the mock, with WS-Addressing (zeep's plugin) and a signed VIHF."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import requests
from dmp_helpers import PATIENT, reference_file
from zeep import Client, Settings, xsd
from zeep.wsa import WsAddressingPlugin

from banc.pki import TestPki
from banc.soap.offline import OfflineTransport
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, minimal_cda
from simulators.dmp_mock.wire import FIND_DOCUMENTS, REPOSITORY_ID

pytestmark = [pytest.mark.slow, pytest.mark.reference]
OID = "1.2.250.1.213.1.4.10"


def zeep_client(reference: Path, pki: TestPki, wsdl: str, *, strict: bool = True) -> Client:
    session = requests.Session()
    session.trust_env = False  # trust the bench CA only, not the environment's bundles
    session.verify = str(pki.ca_cert)
    session.cert = (str(pki.cert("dui")), str(pki.key("dui")))
    path = reference_file(reference, "wsdl", "wsdl", wsdl)
    return Client(str(path), transport=OfflineTransport(session=session), plugins=[WsAddressingPlugin()],
                  settings=Settings(strict=strict))


def security(nurse: DmpClient):
    from lxml import etree

    header = etree.Element(f"{{{'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd'}}}Security")
    header.append(nurse.vihf(PATIENT))
    return header


def test_td02_with_zeep(dmp: DmpMock, nurse: DmpClient, pki: TestPki, reference: Path) -> None:
    client = zeep_client(reference, pki, "GestionDossierPatientPartage.wsdl")
    service = client.create_service("{asip:ci-sis:gdp:2010}GDP_Binding_Soap12",
                                    f"{dmp.url}/si-dmp-server/v2/services/patients")
    device = lambda oid: {"classCode": "DEV", "determinerCode": "INSTANCE", "id": [{"root": oid}]}  # noqa: E731
    result = service.PatientGetDemographics_PRPA_IN201307UV02(
        ITSVersion="XML_1.0",
        id={"root": "1.2.250.1.213.1.1.9.999.1", "extension": str(uuid.uuid4())},
        creationTime={"value": dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")},
        interactionId={"root": "2.16.840.1.113883.1.6", "extension": "PRPA_IN201307UV02"},
        processingCode={"code": "P"}, processingModeCode={"code": "T"}, acceptAckCode={"code": "AL"},
        receiver=[{"typeCode": "RCV", "device": device("1.2.250.1.213.4.1.1.1")}],
        sender={"typeCode": "SND", "device": device("1.2.250.1.213.1.1.9.999")},
        controlActProcess={
            "classCode": "CACT", "moodCode": "EVN",
            "reasonCode": [{"code": "TEST_EXST", "codeSystem": "1.2.250.1.213.1.1.4.11"}],
            "queryByParameter": {
                "queryId": {"root": "1.2.250.1.213.1.1.9.999.2", "extension": str(uuid.uuid4())},
                "statusCode": {"code": "new"},
                "parameterList": {"patientIdentifier": [{"value": [{"root": OID, "extension": PATIENT}],
                                                         "semanticsText": xsd.SkipValue}]},
            },
        },
        _soapheaders=[security(nurse)],
    )
    assert result.controlActProcess.queryAck.queryResponseCode.code == "OK"
    patient = result.controlActProcess.subject[0].registrationEvent.subject1.patient
    assert PATIENT in [i.extension for i in patient.id]


def test_iti18_and_iti43_with_zeep(dmp: DmpMock, nurse: DmpClient, pki: TestPki, reference: Path) -> None:
    nurse.set_authorization(PATIENT)
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE")
    fed = nurse.provide(cda, PATIENT)
    assert b"Success" in fed.response.content

    # zeep cannot deserialize ebRIM's substitution group (rim:Identifiable) in strict mode — it
    # fails on the official TD3.1 response too — so the registry client is non-strict and the
    # returned objects are read from the raw response.
    zeep_registry = zeep_client(reference, pki, "XDS.b_DocumentRegistry.wsdl", strict=False)
    registry = zeep_registry.create_service(
        "{urn:ihe:iti:xds-b:2007}DocumentRegistry_Binding_Soap12", f"{dmp.url}/si-dmp-server/v2/services/registry")
    arguments = {
        "ResponseOption": {"returnType": "LeafClass", "returnComposedObjects": True},
        "AdhocQuery": {"id": FIND_DOCUMENTS, "Slot": [
            {"name": "$XDSDocumentEntryPatientId", "ValueList": {"_value_1": [{"Value": f"'{PATIENT}^^^&{OID}&ISO^NH'"}]}},
            {"name": "$XDSDocumentEntryStatus",
             "ValueList": {"_value_1": [{"Value": "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"}]}},
        ]},
    }
    response = registry.DocumentRegistry_RegistryStoredQuery(**arguments, _soapheaders=[security(nurse)])
    assert response.status.endswith("Success")
    with zeep_registry.settings(raw_response=True):
        raw = registry.DocumentRegistry_RegistryStoredQuery(**arguments, _soapheaders=[security(nurse)])
    assert fed.entry_uuid.encode() in raw.content

    repository = zeep_client(reference, pki, "XDS.b_DocumentRepository.wsdl").create_service(
        "{urn:ihe:iti:xds-b:2007}DocumentRepository_Binding",
        f"{dmp.url}/si-dmp-server/v2/services/repository")
    retrieved = repository.DocumentRepository_RetrieveDocumentSet(
        DocumentRequest=[{"RepositoryUniqueId": REPOSITORY_ID, "DocumentUniqueId": fed.unique_id}],
        _soapheaders=[security(nurse)],
    )
    assert retrieved.RegistryResponse.status.endswith("Success")
    assert retrieved.DocumentResponse[0].Document == cda


def test_zeep_from_the_mock_wsdl(dmp: DmpMock, nurse: DmpClient, pki: TestPki, reference: Path) -> None:
    """A client generated from `…/services/registry?wsdl` (served by the mock, address rewritten)."""
    from zeep.transports import Transport

    nurse.set_authorization(PATIENT)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(pki.ca_cert)
    session.cert = (str(pki.cert("dui")), str(pki.key("dui")))
    client = Client(f"{dmp.url}/si-dmp-server/v2/services/registry?wsdl", transport=Transport(session=session),
                    plugins=[WsAddressingPlugin()], settings=Settings(strict=False))
    response = client.service.DocumentRegistry_RegistryStoredQuery(
        ResponseOption={"returnType": "ObjectRef", "returnComposedObjects": True},
        AdhocQuery={"id": FIND_DOCUMENTS, "Slot": [
            {"name": "$XDSDocumentEntryPatientId", "ValueList": {"_value_1": [{"Value": f"'{PATIENT}^^^&{OID}&ISO^NH'"}]}},
        ]},
        _soapheaders=[security(nurse)],
    )
    assert response.status.endswith("Success")
    assert session.get(f"{dmp.url}/si-dmp-server/v2/schema/../../../etc/passwd").status_code == 404
    downloads = [e for e in dmp.exchanges() if e.operation in ("WSDL", "XSD")]
    assert downloads and downloads[0].operation == "WSDL"  # journaled like every exchange
