"""Who connects: the DMP authenticates the structure by its TLS certificate and ties it to the
VIHF (structure, DUI, signing certificate); in DIRECTE mode the identity is the professional's
card on the TLS channel. Each refusal names its rule and cites SC.DMP.04.MS1."""

from __future__ import annotations

import pytest
from dmp_helpers import PATIENT

from banc.dui import fingerprint
from banc.pki import TestPki
from banc.vihf import build_vihf, build_vihf_for
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, minimal_cda, stored_query
from simulators.dmp_mock.rules import RegisteredDui
from simulators.dmp_mock.wire import FIND_DOCUMENTS, PAT

pytestmark = pytest.mark.slow
PATIENT_LIST = "urn:si-dmp-patients:PatientSpecificEndPoint:patientList"


def patient_list(client: DmpClient, **token: object):
    from lxml import etree

    payload = etree.Element(f"{{{PAT}}}patientList", nsmap={None: PAT})
    return client.post(PATIENT_LIST, payload, PATIENT, **token)


def refusal(dmp: DmpMock, response, rule: str) -> None:
    assert response.status_code == 500 and rule in response.text, response.text[-800:]
    (finding,) = [f for f in dmp.exchanges()[-1].findings if f.rule_id == rule]
    assert finding.is_error and finding.requirements == ("SC.DMP.04.MS1",)


@pytest.mark.parametrize("certificate", ["insi-auto", "mss-app", "unknown-org"])
def test_certificates_of_other_uses_are_refused(dmp: DmpMock, pki: TestPki, certificate: str) -> None:
    client = DmpClient(dmp.url, pki, client_cert=certificate)
    try:
        response = patient_list(client)
    finally:
        client.close()
    assert b"DMPOk" not in response.content
    refusal(dmp, response, "DMP.CERTIFICATE")


def test_bench_dui_is_accepted(dmp: DmpMock, nurse: DmpClient) -> None:
    assert b"DMPOk" in patient_list(nurse).content


def test_unsigned_direct_token_with_made_up_doctor(dmp: DmpMock, nurse: DmpClient) -> None:
    """DIRECTE + bris de glace, no signature, a doctor nobody authenticated: refused, nothing read."""
    token = build_vihf(nurse.claims(PATIENT, mode="DIRECTE", purpose="BRIS_DE_GLACE",
                                    subject_nameid="810009999999", subject_name="FAUX MEDECIN"))
    payload = stored_query(FIND_DOCUMENTS, {"$XDSDocumentEntryPatientId": [f"{PATIENT}^^^&1.2.250.1.213.1.4.10&ISO^NH"]})
    response = nurse.post("urn:ihe:iti:2007:RegistryStoredQuery", payload, PATIENT, assertion=token)
    assert b"ExtrinsicObject" not in response.content
    refusal(dmp, response, "DMP.CERTIFICATE")


def test_unsigned_direct_token_claiming_authorship_cannot_delete(dmp: DmpMock, nurse: DmpClient) -> None:
    fed = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT)
    entry = dmp.store.document(unique_id=fed.unique_id)
    forged = build_vihf(nurse.claims(PATIENT, mode="DIRECTE"))  # same author id, unsigned
    original = nurse.vihf
    nurse.vihf = lambda ins="", **changes: forged  # type: ignore[method-assign]
    try:
        response = nurse.update_status(PATIENT, entry.entry_uuid, entry.status,
                                       "urn:asip:ci-sis:2010:StatusType:Deleted")
    finally:
        nurse.vihf = original  # type: ignore[method-assign]
    refusal(dmp, response, "DMP.CERTIFICATE")
    assert dmp.store.document(unique_id=fed.unique_id).status == entry.status


def test_direct_mode_with_the_professionals_card(dmp: DmpMock, pki: TestPki) -> None:
    """DIRECTE is accepted when the TLS certificate is the card of the token's professional."""
    pki.issue("cps-810000000001", "810000000001")
    card = DmpClient(dmp.url, pki, client_cert="cps-810000000001", mode="DIRECTE")
    try:
        response = patient_list(card, assertion=build_vihf(card.claims(PATIENT)))
    finally:
        card.close()
    assert b"DMPOk" in response.content, response.text[-800:]


def test_token_captured_from_another_client(dmp: DmpMock, nurse: DmpClient, pki: TestPki) -> None:
    """A second DUI (own TLS and VIHF certificates, own structure): its token over the bench
    DUI's connection, the bench's token over its connection, and its certificate for another
    structure are refused."""
    pki.issue("dui-b", "DUI-B-TEST")
    pki.issue("vihf-b", "SIGNATURE-VIHF-DUI-B", usage="signing")
    dmp.app.duis.append(RegisteredDui("dui-b", frozenset({fingerprint(pki.cert("dui-b").read_text())}),
                                      frozenset({fingerprint(pki.cert("vihf-b").read_text())}),
                                      structure_id="340000000000001"))
    other = DmpClient(dmp.url, pki, client_cert="dui-b")
    try:
        own = build_vihf_for(pki.directory, other.claims(PATIENT), signing="vihf-b")
        assert b"DMPOk" in patient_list(other, assertion=own).content
        refusal(dmp, patient_list(nurse, assertion=own), "DMP.VIHF_BINDING")
        refusal(dmp, patient_list(other, assertion=nurse.vihf(PATIENT)), "DMP.VIHF_BINDING")
        elsewhere = build_vihf_for(pki.directory, other.claims(PATIENT, structure_id="340000000000009"),
                                   signing="vihf-b")
        refusal(dmp, patient_list(other, assertion=elsewhere), "DMP.STRUCTURE")
    finally:
        dmp.app.duis.pop()
        other.close()
