"""HL7v3 patient transactions: TD1.1 creation, TD0.2 status, TD1.4 closing, TD1.2 reactivation;
and what the usager sees (visibility codes)."""

from __future__ import annotations

import pytest
from dmp_helpers import PATIENT

from banc.xds import codes as xc
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, hl7_patient_record, minimal_cda, response_root
from simulators.dmp_mock.wire import HL7

pytestmark = pytest.mark.slow
NEW = "284057512345771"


def ack(response) -> tuple[str, str]:
    root = response_root(response)
    element = root.find(f".//{{{HL7}}}acknowledgement")
    return element.get("typeCode"), root.findtext(f".//{{{HL7}}}acknowledgementDetail/{{{HL7}}}text") or ""


def status_of(nurse: DmpClient, ins: str) -> tuple[str, str | None]:
    root = response_root(nurse.td02(ins))
    code = root.find(f".//{{{HL7}}}queryResponseCode").get("code")
    status = root.find(f".//{{{HL7}}}patient/{{{HL7}}}statusCode")
    return code, status.get("code") if status is not None else None


def test_patient_life_cycle(dmp: DmpMock, nurse: DmpClient) -> None:
    assert status_of(nurse, NEW) == ("NF", None)
    create = hl7_patient_record("PRPA_IN201311UV02", "CREA_RD", NEW, family="NOUVELLE", given="ANNE",
                                sex="F", birth="19840501")
    assert ack(nurse.post("urn:hl7-org:v3:PRPA_IN201311UV02", create, NEW))[0] == "AA"
    assert dmp.store.patient(NEW).family == "NOUVELLE"
    again = ack(nurse.post("urn:hl7-org:v3:PRPA_IN201311UV02", create, NEW))
    assert again[0] == "AE" and "existe déjà" in again[1]
    assert status_of(nurse, NEW) == ("OK", "active")
    close = hl7_patient_record("PRPA_IN201314UV02", "FERM", NEW, status="terminated")
    assert ack(nurse.post("urn:hl7-org:v3:PRPA_IN201314UV02", close, NEW))[0] == "AA"
    assert status_of(nurse, NEW) == ("OK", "terminated")
    refused = nurse.provide(minimal_cda(NEW, family="NOUVELLE", given="ANNE"), NEW)
    assert b"XDSUnknownPatientId" in refused.response.content  # no feeding into a closed DMP
    reopen = hl7_patient_record("PRPA_IN201314UV02", "REAC", NEW)
    assert ack(nurse.post("urn:hl7-org:v3:PRPA_IN201314UV02", reopen, NEW))[0] == "AA"
    assert status_of(nurse, NEW) == ("OK", "active")


def test_what_the_usager_sees(dmp: DmpMock, nurse: DmpClient) -> None:
    hidden = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT,
                           visibility=(xc.INVISIBLE_PATIENT,))
    for_parents_only = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT,
                                     visibility=(xc.INVISIBLE_REPRESENTANTS_LEGAUX,))
    assert b"Success" in hidden.response.content and b"Success" in for_parents_only.response.content
    patient_view = {d.unique_id for d in dmp.documents_seen_by_patient(PATIENT)}
    representative_view = {d.unique_id for d in dmp.documents_seen_by_patient(PATIENT, legal_representative=True)}
    assert hidden.unique_id not in patient_view and for_parents_only.unique_id in patient_view
    assert for_parents_only.unique_id not in representative_view
    assert hidden.unique_id in {d.unique_id for d in dmp.documents_for(PATIENT)}  # professionals see it
