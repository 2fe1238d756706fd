"""banc.soap: envelope parsing/building, WS-Addressing, SOAP 1.2 faults, offline transport."""

from __future__ import annotations

import pytest
from lxml import etree

from banc.soap import (
    SOAP11_NS,
    SOAP12_NS,
    WSA_NS,
    Fault,
    SoapError,
    addressing_headers,
    build_envelope,
    build_fault,
    content_type_action,
    parse_envelope,
    parse_fault,
    read_addressing,
    version_mismatch_fault,
)
from banc.soap.offline import OfflineTransport, known_schema_files

REQUEST = f"""<s:Envelope xmlns:s="{SOAP12_NS}" xmlns:a="{WSA_NS}">
  <s:Header>
    <a:MessageID>urn:uuid:1</a:MessageID>
    <a:Action>urn:test:op</a:Action>
    <a:To>https://localhost/svc</a:To>
    <a:ReplyTo><a:Address>{WSA_NS}/anonymous</a:Address></a:ReplyTo>
    <x:Other xmlns:x="urn:x">v</x:Other>
  </s:Header>
  <s:Body><p:Ping xmlns:p="urn:p">1</p:Ping></s:Body>
</s:Envelope>""".encode()


def test_parse_envelope_headers_and_payload() -> None:
    envelope = parse_envelope(REQUEST)
    assert envelope.payload is not None and envelope.payload.tag == "{urn:p}Ping"
    assert envelope.header("urn:x", "Other").text == "v"
    addressing = read_addressing(envelope)
    assert addressing.message_id == "urn:uuid:1"
    assert addressing.action == "urn:test:op"
    assert addressing.to == "https://localhost/svc"
    assert addressing.reply_to == f"{WSA_NS}/anonymous"
    assert addressing.missing("MessageID", "RelatesTo") == ["RelatesTo"]


@pytest.mark.parametrize(
    ("data", "code", "fault_code"),
    [
        (b"", "empty", "Sender"),
        (b"<a><b></a>", "malformed", "Sender"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
         "doctype", "Sender"),
        (b"<Ping/>", "not-envelope", "Sender"),
        (f'<s:Envelope xmlns:s="{SOAP11_NS}"><s:Body><x/></s:Body></s:Envelope>'.encode(),
         "soap11", "VersionMismatch"),
        (b'<s:Envelope xmlns:s="urn:other"><s:Body><x/></s:Body></s:Envelope>',
         "soap-version", "VersionMismatch"),
        (f'<s:Envelope xmlns:s="{SOAP12_NS}"><s:Header/></s:Envelope>'.encode(), "no-body", "Sender"),
        (f'<s:Envelope xmlns:s="{SOAP12_NS}"><s:Body> </s:Body></s:Envelope>'.encode(),
         "empty-body", "Sender"),
    ],
)
def test_parse_envelope_refusals(data: bytes, code: str, fault_code: str) -> None:
    with pytest.raises(SoapError) as caught:
        parse_envelope(data)
    assert caught.value.code == code
    assert caught.value.fault_code == fault_code
    assert caught.value.message  # French, non-empty


def test_parse_envelope_size_limit() -> None:
    with pytest.raises(SoapError) as caught:
        parse_envelope(REQUEST + b" " * 2048, max_bytes=1024)
    assert caught.value.code == "too-large"


def test_build_envelope_with_addressing_round_trip() -> None:
    payload = etree.Element("{urn:p}Pong")
    data = build_envelope(
        payload, addressing_headers("urn:test:opResponse", relates_to="urn:uuid:1", to="urn:to")
    )
    envelope = parse_envelope(data)
    addressing = read_addressing(envelope)
    assert addressing.action == "urn:test:opResponse"
    assert addressing.relates_to == "urn:uuid:1"
    assert addressing.to == "urn:to"
    assert addressing.message_id and addressing.message_id.startswith("urn:uuid:")
    assert envelope.payload.tag == "{urn:p}Pong"


def test_fault_round_trip_with_subcode_and_detail() -> None:
    detail = etree.Element("{urn:siram}Erreur", severite="erreur", code="desir_550")
    detail.text = "logiciel inconnu"
    data = build_fault(
        Fault("Sender", "identifiant de logiciel inconnu", subcodes=(("urn:siram", "siram_100"),),
              detail=[detail])
    )
    fault = parse_fault(parse_envelope(data))
    assert fault is not None
    assert fault.code == "Sender"
    assert fault.subcodes == (("urn:siram", "siram_100"),)
    assert fault.reason == "identifiant de logiciel inconnu" and fault.lang == "fr"
    assert fault.detail[0].get("code") == "desir_550"


def test_parse_fault_none_for_normal_body() -> None:
    assert parse_fault(parse_envelope(REQUEST)) is None


def test_version_mismatch_has_upgrade_header() -> None:
    envelope = parse_envelope(version_mismatch_fault("SOAP 1.2 seulement"))
    upgrade = envelope.header(SOAP12_NS, "Upgrade")
    assert upgrade is not None
    assert upgrade[0].get("qname") == "soap:Envelope"
    assert parse_fault(envelope).code == "VersionMismatch"


def test_fault_code_must_be_soap12() -> None:
    with pytest.raises(ValueError):
        Fault("Client", "SOAP 1.1 code")


def test_content_type_action() -> None:
    assert content_type_action('application/soap+xml;charset=UTF-8;action="urn:a:b"') == "urn:a:b"
    assert content_type_action("application/soap+xml; action=urn:x") == "urn:x"
    assert content_type_action("application/soap+xml") is None
    assert content_type_action(None) is None


def test_offline_transport_serves_local_and_refuses_remote(tmp_path) -> None:
    local = tmp_path / "s.xsd"
    local.write_bytes(b"<schema/>")
    transport = OfflineTransport({"http://example.org/s.xsd": local})
    assert transport.load("http://example.org/s.xsd") == b"<schema/>"
    with pytest.raises(OSError, match="hors ligne"):
        transport.load("http://example.org/other.xsd")


def test_offline_transport_allows_listed_prefixes(monkeypatch) -> None:
    transport = OfflineTransport({}, allow=("https://localhost:1234",))
    fetched: list[str] = []
    monkeypatch.setattr(
        "zeep.transports.Transport.load", lambda self, url: fetched.append(url) or b"<ok/>"
    )
    assert transport.load("https://localhost:1234/lps?wsdl") == b"<ok/>"
    assert fetched == ["https://localhost:1234/lps?wsdl"]
    with pytest.raises(OSError):
        transport.load("https://localhost:9999/x.xsd")


def test_offline_transport_knows_ws_addressing(reference) -> None:
    files = known_schema_files()
    url = "http://www.w3.org/2006/03/addressing/ws-addr.xsd"
    assert files[url] == reference / "w3c" / "ws-addr.xsd"
    assert b"http://www.w3.org/2005/08/addressing" in OfflineTransport().load(url)
