"""Refusals one by one: each is a precise SOAP 1.2 Fault (siram detail) or a TLS refusal,
nothing crashes, and the journal records the refused exchange with its findings."""

from __future__ import annotations

import ssl
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from banc.cli.insi import ACTION_VITALE, build_traits_request
from banc.soap import SOAP11_NS, SOAP12_NS, parse_envelope, parse_fault
from simulators.insi_mock.wire import SAML_NS, SIRAM_NS, WSSE_NS

pytestmark = pytest.mark.slow

ADRUN = ("ADRUN", "ZOE", "F", "1975-12-31")


def fault_of(response: httpx.Response) -> tuple[str, str, str, str]:
    """(SOAP code, siram code, severite, reason) of a fault answer."""
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith("application/soap+xml")
    fault = parse_fault(parse_envelope(response.content, require_payload=False))
    assert fault is not None
    erreur = fault.detail[0]
    assert erreur.tag == f"{{{SIRAM_NS}}}Erreur"
    return fault.code, erreur.get("code"), erreur.get("severite"), fault.reason


def refused(insi_mock, post, data: bytes, **kwargs) -> tuple[tuple[str, str, str, str], object]:
    since = insi_mock.journal.last_id()
    answer = fault_of(post(data, **kwargs))
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.status == "500" and not exchange.conform
    assert exchange.summary["fault"] == answer[1]
    return answer, exchange


def test_no_client_certificate(insi_mock, post) -> None:
    (code, siram, _, reason), exchange = refused(insi_mock, post, build_traits_request(*ADRUN), cert=None)
    assert (code, siram) == ("Sender", "desir_561")
    assert "non authentifié" in reason
    assert exchange.findings[0].requirements == ("SC.INS.27.MS1",)
    assert exchange.peer_certificate == ""


def test_wrong_common_name(insi_mock, post) -> None:
    (_, siram, severity, reason), exchange = refused(
        insi_mock, post, build_traits_request(*ADRUN), cert="unknown-org"
    )
    assert (siram, severity) == ("desir_560", "erreur")
    assert "ORGANISATION-INCONNUE" in reason
    assert "CN=ORGANISATION-INCONNUE" in exchange.peer_certificate


def test_certificate_of_another_ca_is_refused_by_tls(insi_mock, tmp_path) -> None:
    from banc.pki import TestPki

    stranger = TestPki.ensure(tmp_path / "other-pki")
    context = ssl.create_default_context(cafile=str(insi_mock.server.pki.ca_cert))
    context.load_cert_chain(stranger.cert("insi-auto"), stranger.key("insi-auto"))
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.post(insi_mock.url, content=build_traits_request(*ADRUN), verify=context)


def test_missing_contexte_lps(insi_mock, post) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request(*ADRUN, with_lps=False)
    )
    assert siram == "desir_520" and "ContexteLPS" in reason


def test_missing_contexte_bam(insi_mock, post) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request(*ADRUN, with_bam=False)
    )
    assert siram == "desir_521" and "ContexteBAM" in reason


def test_unknown_idam(insi_mock, post) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request(*ADRUN, idam="LOGICIEL-PIRATE")
    )
    assert siram == "desir_550" and "LOGICIEL-PIRATE" in reason


@pytest.mark.parametrize("born", ["31/12/1975", "1975-13-01", "1975-02-30", "2999-01-01"])
def test_invalid_date(insi_mock, post, born) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request("ADRUN", "ZOE", "F", born)
    )
    assert siram == "insi_101" and "DateNaissance" in reason and born in reason


@pytest.mark.parametrize(("name", "first"), [("adrun", "ZOE"), ("ADRUN", "Zoé"), ("ADRÛN", "ZOE")])
def test_lowercase_or_accented_names(insi_mock, post, name, first) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request(name, first, "F", "1975-12-31")
    )
    assert siram == "insi_101" and "majuscules sans accent" in reason


def test_lunar_date_is_accepted(post) -> None:
    response = post(build_traits_request("ADRUN", "ZOE", "F", "1975-00-00"))
    assert response.status_code == 200
    assert b"<CodeCR>00</CodeCR>" in response.content
    assert b"<NumIdentifiant>2751263220749</NumIdentifiant>" in response.content


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "vide"),
        (b"<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Body>",
         "bien formé"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
         b"<r>&x;</r>", "DOCTYPE"),
        (b"not xml at all", "pas du XML"),
        (f"<soap:Envelope xmlns:soap='{SOAP12_NS}'><soap:Body/></soap:Envelope>".encode(),
         "Body SOAP est vide"),
    ],
    ids=["empty", "malformed", "external-entity", "not-xml", "empty-body"],
)
def test_unreadable_messages(insi_mock, post, data, expected) -> None:
    (code, siram, severity, reason), exchange = refused(insi_mock, post, data)
    assert (code, siram, severity) == ("Sender", "desir_510", "fatale")
    assert expected in reason
    assert exchange.request == data


def test_ten_megabyte_body(insi_mock, post) -> None:
    data = build_traits_request(*ADRUN).replace(b"ZOE", b"Z" * (10 * 1024 * 1024))
    (_, siram, _, reason), exchange = refused(insi_mock, post, data)
    assert siram == "desir_510" and "Ko" in reason
    assert exchange.summary["truncated"] is True and exchange.summary["size"] > 10_000_000


def test_soap11_gets_version_mismatch(insi_mock, post) -> None:
    data = build_traits_request(*ADRUN).replace(SOAP12_NS.encode(), SOAP11_NS.encode())
    since = insi_mock.journal.last_id()
    response = post(data, content_type="text/xml; charset=utf-8")
    code, siram, _, _ = fault_of(response)
    assert code == "VersionMismatch" and siram == "desir_510"
    envelope = parse_envelope(response.content, require_payload=False)
    assert envelope.header(SOAP12_NS, "Upgrade") is not None
    assert insi_mock.exchanges(since_id=since)[0].findings[0].rule_id == "INSI.SOAP.SOAP11"


def test_xsd_error_names_the_element(insi_mock, post) -> None:
    data = build_traits_request(*ADRUN).replace(
        b"</ins:RECSANSVITALE>", b"<ins:Surnom>ZAZA</ins:Surnom></ins:RECSANSVITALE>"
    )
    (_, siram, _, reason), exchange = refused(insi_mock, post, data)
    assert siram == "desir_511" and "Surnom" in reason
    assert "RECSANSVITALE" in exchange.findings[0].location


def test_context_temps_must_be_a_datetime(insi_mock, post) -> None:
    tree = etree.fromstring(build_traits_request(*ADRUN))
    for element in tree.iter("{urn:siram:lps:ctxlps}Temps"):
        element.text = "hier"
    (_, siram, _, reason), _ = refused(insi_mock, post, etree.tostring(tree))
    assert siram == "desir_511" and "Temps" in reason


def test_action_must_match_body(insi_mock, post) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request(*ADRUN, action=ACTION_VITALE)
    )
    assert siram == "desir_530" and "RECVITALE" in reason


def test_unknown_action(insi_mock, post) -> None:
    (_, siram, _, reason), _ = refused(
        insi_mock, post, build_traits_request(*ADRUN, action="urn:autre:operation")
    )
    assert siram == "desir_530" and "urn:autre:operation" in reason


def test_other_methods_are_not_a_crash(insi_mock, pki) -> None:
    with httpx.Client(verify=pki.client_context("insi-auto")) as client:
        assert client.get(insi_mock.url).status_code == 404
        assert "SOAP 1.2" in client.get(insi_mock.url).text
        assert client.put(insi_mock.url, content=b"x").status_code == 405
        base = insi_mock.url.removesuffix("/lps")
        assert client.get(f"{base}/xsd/%2e%2e/%2e%2e/etc/passwd.xsd").status_code == 404
        assert client.get(f"{base}/xsd/CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd").status_code == 200


# -- second mode: signed card assertion in wsse:Security ----------------------------------

def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def card_security(
    pki, *, tamper: bool = False, issued: datetime | None = None,
    valid_for: timedelta | None = None,
) -> etree._Element:
    """wsse:Security with a card assertion signed by the bench CA, issued at `issued`
    (default: now), with Conditions lasting `valid_for` when given."""
    from signxml import XMLSigner

    assertion_id = f"_{uuid.uuid4()}"
    issued = issued or datetime.now(UTC)
    assertion = etree.Element(
        f"{{{SAML_NS}}}Assertion", nsmap={"saml2": SAML_NS},
        ID=assertion_id, IssueInstant=_iso(issued), Version="2.0",
    )
    etree.SubElement(assertion, f"{{{SAML_NS}}}Issuer").text = "CN=899900063480,O=Banc Segur (test)"
    etree.SubElement(
        assertion, "{http://www.w3.org/2000/09/xmldsig#}Signature", Id="placeholder",
        nsmap={"ds": "http://www.w3.org/2000/09/xmldsig#"},
    )
    subject = etree.SubElement(assertion, f"{{{SAML_NS}}}Subject")
    etree.SubElement(subject, f"{{{SAML_NS}}}NameID", NameQualifier="CPS").text = "899900063480"
    if valid_for is not None:
        etree.SubElement(
            assertion, f"{{{SAML_NS}}}Conditions",
            NotBefore=_iso(issued), NotOnOrAfter=_iso(issued + valid_for),
        )
    signed = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        assertion, key=pki.key("vihf-signing").read_bytes(),
        cert=pki.cert("vihf-signing").read_text(), reference_uri=assertion_id,
    )
    if tamper:
        signed.find(f".//{{{SAML_NS}}}NameID").text = "899900000000"
    security = etree.Element(f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS})
    security.append(signed)
    return security


def test_signed_card_assertion_without_certificate(insi_mock, post, pki) -> None:
    data = build_traits_request(*ADRUN, extra_headers=[card_security(pki)])
    since = insi_mock.journal.last_id()
    response = post(data, cert=None)
    assert response.status_code == 200, response.text
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.summary["auth"].startswith("assertion") and "SIGNATURE-VIHF-DUI" in exchange.summary["auth"]


def test_tampered_card_assertion(insi_mock, post, pki) -> None:
    data = build_traits_request(*ADRUN, extra_headers=[card_security(pki, tamper=True)])
    (_, siram, _, reason), _ = refused(insi_mock, post, data, cert=None)
    assert siram == "desir_562" and "assertion" in reason


@pytest.mark.parametrize(
    ("issued", "valid_for", "expected"),
    [
        (datetime(2021, 3, 1, 9, 0, tzinfo=UTC), timedelta(hours=2), "expirée"),
        (datetime(2021, 3, 1, 9, 0, tzinfo=UTC), None, "expirée"),
        (datetime.now(UTC) + timedelta(days=1), timedelta(hours=2), "futur"),
        (datetime.now(UTC) - timedelta(hours=1), timedelta(minutes=30), "expirée"),
    ],
    ids=["2021-with-conditions", "2021-without-conditions", "tomorrow", "expired-an-hour-ago"],
)
def test_card_assertion_outside_its_validity_is_refused(
    insi_mock, post, pki, issued, valid_for, expected
) -> None:
    """A well-signed assertion of 2021 must not open the service: the signature does not age,
    the validity window does."""
    security = card_security(pki, issued=issued, valid_for=valid_for)
    data = build_traits_request(*ADRUN, extra_headers=[security])
    (_, siram, _, reason), exchange = refused(insi_mock, post, data, cert=None)
    assert siram == "desir_562" and expected in reason
    assert exchange.findings[0].requirements == ("SC.INS.27.MS1",)


def test_card_assertion_within_its_conditions_is_accepted(post, pki) -> None:
    security = card_security(pki, issued=datetime.now(UTC) - timedelta(minutes=10),
                             valid_for=timedelta(hours=1))
    response = post(build_traits_request(*ADRUN, extra_headers=[security]), cert=None)
    assert response.status_code == 200 and b"<CodeCR>00</CodeCR>" in response.content


def test_assertion_of_a_foreign_ca_is_refused(insi_mock, post, reference) -> None:
    """The ANS example carries an assertion signed by the IGC-Santé test CA: without an
    organisation certificate, the bench (which trusts only its own CA) refuses it."""
    request = (
        reference / "dmp" / "messages" / "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml"
    ).read_bytes()
    (_, siram, _, reason), _ = refused(insi_mock, post, request, cert=None)
    assert siram == "desir_562" and "assertion" in reason


def test_fault_detail_is_valid_against_the_fault_schema(post) -> None:
    from simulators.insi_mock.wire import load_schemas

    response = post(build_traits_request(*ADRUN, idam="INCONNU"))
    fault = parse_fault(parse_envelope(response.content, require_payload=False))
    schemas = load_schemas()
    assert schemas.request.validate(fault.detail[0]), schemas.request.error_log


def test_zeep_raises_the_fault(zeep_insi) -> None:
    from zeep.exceptions import Fault as ZeepFault

    with pytest.raises(ZeepFault) as caught:
        zeep_insi.traits("ADRUN", "ZOE", "F", "1975-12-31", idam="INCONNU")
    assert "INCONNU" in caught.value.message
    assert caught.value.detail.find(f"{{{SIRAM_NS}}}Erreur").get("code") == "desir_550"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_doctype_in_utf16_without_bom_is_refused(insi_mock, post, encoding) -> None:
    """The same DOCTYPE refusal whatever the encoding: UTF-16 without byte-order mark used to
    slip past the check (an XXE attempt must never be answered as a normal search)."""
    text = build_traits_request(*ADRUN).decode("utf-8").split("?>", 1)[-1]
    data = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE soap:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + text
    ).encode(encoding)
    (code, siram, _, reason), _ = refused(insi_mock, post, data)
    assert (code, siram) == ("Sender", "desir_510")
    assert "DOCTYPE" in reason or "UTF-16" in reason  # named, not a generic "not XML"
