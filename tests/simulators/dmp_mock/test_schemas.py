"""The mock's responses validate against the official XSDs of the DMP WSDL annex (HL7v3 NE2009,
ebRS 3.0, IHE XDS.b). (The official TD1.3b/TD1.4 example responses do not: their patient has no
`id`, which PRPA_IN201315UV02 requires; the mock's answers keep the ids.)"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from dmp_helpers import PATIENT, reference_file
from lxml import etree

from banc.xds import codes as xc
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import (
    DmpClient,
    hl7_patient_record,
    minimal_cda,
    response_root,
    retrieved,
)

pytestmark = [pytest.mark.slow, pytest.mark.reference]
NEW = "184057512345823"


def schema(reference: Path, *parts: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(reference_file(reference, "wsdl", "schema", *parts))))


def valid(xsd: etree.XMLSchema, element: etree._Element) -> None:
    assert xsd.validate(element), str(xsd.error_log)


def test_hl7v3_responses(dmp: DmpMock, nurse: DmpClient, reference: Path) -> None:
    hl7 = ("HL7V3", "NE2009", "multicacheschemas")
    valid(schema(reference, *hl7, "PRPA_IN201308UV02.xsd"), response_root(nurse.td02(PATIENT)))
    create = hl7_patient_record("PRPA_IN201311UV02", "CREA_RD", NEW, family="SCHEMA", given="ANNE", sex="M",
                                birth="19840501")
    created = response_root(nurse.post("urn:hl7-org:v3:PRPA_IN201311UV02", create, NEW))
    valid(schema(reference, *hl7, "PRPA_IN201312UV02.xsd"), created[0])
    close = hl7_patient_record("PRPA_IN201314UV02", "FERM", NEW, status="terminated")
    closed = response_root(nurse.post("urn:hl7-org:v3:PRPA_IN201314UV02", close, NEW))
    valid(schema(reference, *hl7, "PRPA_IN201315UV02.xsd"), closed[0])


def test_xds_responses(dmp: DmpMock, nurse: DmpClient, reference: Path) -> None:
    nurse.set_authorization(PATIENT)
    fed = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT, visibility=(xc.MASQUE_PS,))
    rs = schema(reference, "ebRS", "rs.xsd")
    valid(rs, response_root(fed.response))
    valid(rs, response_root(nurse.retrieve(PATIENT, ["inconnu"])).find(f"{{{xc.NS_RS}}}RegistryResponse"))
    query = schema(reference, "ebRS", "query.xsd")
    valid(query, response_root(nurse.find_documents(PATIENT)))
    valid(query, response_root(nurse.find_documents(PATIENT, return_type="ObjectRef")))
    response = nurse.retrieve(PATIENT, [fed.unique_id])
    root = response_root(response)
    for document in root.iter(f"{{{xc.NS_XDSB}}}Document"):  # the XOP infoset: base64 content
        content = retrieved(response)[fed.unique_id]
        document.remove(document[0])
        document.text = base64.b64encode(content).decode()
    valid(schema(reference, "IHE", "XDS.b_DocumentRepository.xsd"), root)
