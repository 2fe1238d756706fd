"""Bad input: each case gets a precise SOAP Fault or RegistryError, is journaled, writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from dmp_helpers import PATIENT
from lxml import etree

from banc.soap import SOAP12_NS, mtom
from simulators.dmp_mock import DmpMock
from simulators.dmp_mock.client import DmpClient, minimal_cda, soap_request

pytestmark = pytest.mark.slow

OTHER = "297022A02077878"  # ADRTROIS DOMINIQUE, seeded
PNR = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"


def fault_reason(response) -> str:
    root = etree.fromstring(response.content)
    return root.findtext(f".//{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or ""


def last_exchange(dmp: DmpMock):
    return dmp.exchanges()[-1]


@pytest.fixture
def unchanged(dmp: DmpMock):
    before = dmp.store.count_documents()
    yield
    assert dmp.store.count_documents() == before, "écriture partielle"


def feed_body(nurse: DmpClient, ins: str = PATIENT) -> tuple[bytes, str]:
    """A valid ITI-41 MTOM body and content type, captured without sending."""
    captured = {}

    def capture(action, envelope, attachments):
        captured["body"], captured["type"] = mtom.build(envelope, attachments, action=action)
        return type("R", (), {"content": b"", "status_code": 0})()

    original = nurse.post_mtom
    nurse.post_mtom = capture  # type: ignore[method-assign]
    try:
        nurse.provide(minimal_cda(ins, family="ADRUN", given="ZOE"), ins)
    finally:
        nurse.post_mtom = original  # type: ignore[method-assign]
    return captured["body"], captured["type"]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b, t: (b, t.replace('boundary="', 'boundary="X')), "mtom-bad-boundary"),
        (lambda b, t: (b.replace(b"Content-ID: <", b"Content-ID: <autre-", 2), t), "mtom-missing-part"),
        (lambda b, t: (b.rsplit(b"--", 2)[0], t), "mtom-unterminated"),
    ],
    ids=["mauvais-separateur", "partie-absente", "message-tronque"],
)
def test_malformed_mtom(dmp: DmpMock, nurse: DmpClient, unchanged, mutate, expected: str) -> None:
    body, content_type = mutate(*feed_body(nurse))
    response = nurse.http.post(nurse.url(PNR), content=body, headers={"content-type": content_type})
    assert response.status_code == 500
    assert expected in response.text
    assert not last_exchange(dmp).conform
    assert last_exchange(dmp).findings[0].rule_id == f"SOAP.{expected}"


def test_soap11_envelope(dmp: DmpMock, nurse: DmpClient) -> None:
    body = soap_request("urn:hl7-org:v3:PRPA_IN201307UV02", etree.Element("x"), nurse.vihf(PATIENT))
    body = body.replace(SOAP12_NS.encode(), b"http://schemas.xmlsoap.org/soap/envelope/")
    response = nurse.http.post(nurse.url("urn:hl7-org:v3:PRPA_IN201307UV02"), content=body,
                               headers={"content-type": "text/xml"})
    assert b"VersionMismatch" in response.content
    assert "SOAP 1.1" in fault_reason(response)


@pytest.mark.parametrize("header", ["MessageID", "To", "Action"])
def test_missing_addressing_header(dmp: DmpMock, nurse: DmpClient, header: str) -> None:
    from simulators.dmp_mock.client import hl7_query

    response = nurse.post("urn:hl7-org:v3:PRPA_IN201307UV02", hl7_query(PATIENT), PATIENT, omit=(header,))
    assert b"MessageAddressingHeaderRequired" in response.content
    assert header in fault_reason(response)
    assert dmp.exchanges()[-1].findings[-1].location == f"wsa:{header}"


def test_action_sent_to_wrong_service(nurse: DmpClient) -> None:
    from simulators.dmp_mock.client import hl7_query

    response = nurse.post("urn:hl7-org:v3:PRPA_IN201307UV02", hl7_query(PATIENT), PATIENT, service="registry")
    assert b"ActionNotSupported" in response.content


@pytest.mark.parametrize("case", ["non-signe", "altere", "expire", "autre-patient"])
def test_vihf_refusals(dmp: DmpMock, nurse: DmpClient, unchanged, case: str) -> None:
    from banc.vihf import build_vihf, build_vihf_for

    claims = nurse.claims(PATIENT)
    if case == "non-signe":
        token, expected = build_vihf(claims), "VIHF.UNSIGNED"
    elif case == "altere":
        data = etree.tostring(nurse.vihf(PATIENT)).replace(b"CLAIRE SOIGNANTE", b"CLAIRE AUTRE")
        token, expected = etree.fromstring(data), "VIHF.SIGNATURE"
    elif case == "expire":
        token = build_vihf_for(nurse.pki.directory, claims,
                               now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
        expected = "VIHF.VALIDITY"
    else:
        token, expected = nurse.vihf(OTHER), "XDSPatientIdDoesNotMatch"
    fed = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT, assertion=token)
    assert expected in fed.response.text
    exchange = last_exchange(dmp)
    assert not exchange.conform and any(f.rule_id == expected for f in exchange.findings)


def test_unknown_unique_id(dmp: DmpMock, nurse: DmpClient) -> None:
    nurse.set_authorization(PATIENT)
    response = nurse.retrieve(PATIENT, ["1.2.3.4.5.inconnu"])
    assert b"XDSDocumentUniqueIdError" in response.content
    assert b"ResponseStatusType:Failure" in response.content


def test_duplicate_unique_id(dmp: DmpMock, nurse: DmpClient) -> None:
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", unique_id="1.2.250.1.213.1.1.9.999.3.4242")
    assert b"Success" in nurse.provide(cda, PATIENT).response.content
    before = dmp.store.count_documents()
    again = nurse.provide(cda, PATIENT)
    assert b"XDSDuplicateUniqueIdInRegistry" in again.response.content
    assert dmp.store.count_documents() == before  # nor the signature nor the submission set


def test_fifty_megabytes(dmp: DmpMock, nurse: DmpClient, unchanged) -> None:
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", padding=50 * 1024 * 1024)
    fed = nurse.provide(cda, PATIENT)
    assert fed.response.status_code == 500
    assert "mtom-too-large" in fed.response.text and "Mo" in fault_reason(fed.response)


def test_external_entity(dmp: DmpMock, nurse: DmpClient, unchanged) -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>&e;</soap:Body></soap:Envelope>')
    response = nurse.http.post(nurse.url(PNR), content=body,
                               headers={"content-type": "application/soap+xml"})
    assert response.status_code == 500 and "DOCTYPE" in fault_reason(response)
    assert b"root:" not in response.content


def test_patient_mismatch_between_set_and_entry(dmp: DmpMock, nurse: DmpClient, unchanged) -> None:
    from dataclasses import replace

    def mutate(submission):
        submission.documents[0] = replace(submission.documents[0],
                                          patient_id=f"{OTHER}^^^&1.2.250.1.213.1.4.10&ISO^NH")

    fed = nurse.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT, mutate=mutate)
    assert b"XDSPatientIdDoesNotMatch" in fed.response.content


def test_lenient_mode_accepts_and_records(dmp: DmpMock, nurse: DmpClient) -> None:
    from dataclasses import replace

    from banc.xds.codes import Code

    def mutate(submission):
        submission.documents[0] = replace(submission.documents[0],
                                          practice_setting=Code("INCONNU", "1.2.250.1.213.1.1.4.9"))

    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE")
    strict = nurse.provide(cda, PATIENT, mutate=mutate)
    assert b"DMP.VALUE_SET" in strict.response.content and b"Failure" in strict.response.content
    dmp.settings.strictness = "lenient"
    try:
        lenient = nurse.provide(cda, PATIENT, mutate=mutate)
    finally:
        dmp.settings.strictness = "strict"
    assert b"Success" in lenient.response.content
    exchange = last_exchange(dmp)
    assert any(f.rule_id == "DMP.VALUE_SET" for f in exchange.findings)


def test_twenty_five_megabytes(dmp: DmpMock, nurse: DmpClient, unchanged) -> None:
    """Under the 40 MB request limit but over the 20 MB document limit: a RegistryError naming
    the limit (it used to be a 500: `'Finding' object has no attribute 'code'`)."""
    cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", padding=25 * 1024 * 1024)
    fed = nurse.provide(cda, PATIENT)
    assert fed.response.status_code == 200
    assert b"XDSRepositoryError" in fed.response.content and b"ResponseStatusType:Failure" in fed.response.content
    assert "20 Mo" in fed.response.text
    assert not any(f.rule_id == "DMP.INTERNAL" for f in last_exchange(dmp).findings)


def test_query_without_adhoc_query(dmp: DmpMock, nurse: DmpClient) -> None:
    from simulators.dmp_mock.client import stored_query
    from simulators.dmp_mock.wire import FIND_DOCUMENTS, RIM

    payload = stored_query(FIND_DOCUMENTS, {"$XDSDocumentEntryPatientId": [f"{PATIENT}^^^&1.2.250.1.213.1.4.10&ISO^NH"]})
    payload.remove(payload.find(f"{{{RIM}}}AdhocQuery"))
    response = nurse.post("urn:ihe:iti:2007:RegistryStoredQuery", payload, PATIENT)
    assert response.status_code == 200 and b"ResponseStatusType:Failure" in response.content
    assert b"AdhocQuery" in response.content
    assert not any(f.rule_id == "DMP.INTERNAL" for f in last_exchange(dmp).findings)


@pytest.mark.parametrize("path", ["HL7V3/NE2008/coreschemas/voc.xsd%00.txt", "%00", "..%2f..%2fetc%2fpasswd"])
def test_schema_path_refused(dmp: DmpMock, nurse: DmpClient, path: str) -> None:
    response = nurse.http.get(f"{dmp.url}/si-dmp-server/v2/schema/{path}")
    assert response.status_code == 404 and "schéma introuvable" in response.text


def test_concurrent_submissions_do_not_collide(dmp: DmpMock, pki) -> None:
    """Two DUI workers feeding at the same time: both accepted (the submission-set uniqueId
    once came from the current millisecond → XDSDuplicateUniqueIdInRegistry)."""
    from concurrent.futures import ThreadPoolExecutor

    clients = [DmpClient(dmp.url, pki) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            fed = list(pool.map(lambda c: c.provide(minimal_cda(PATIENT, family="ADRUN", given="ZOE"), PATIENT),
                                clients))
    finally:
        for client in clients:
            client.close()
    assert all(b"ResponseStatusType:Success" in f.response.content for f in fed), [
        f.response.text[-800:] for f in fed if b"Success" not in f.response.content]
