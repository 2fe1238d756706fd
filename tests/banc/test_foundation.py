"""Journal, hardened XML, verdict serialisers, TLS server with client certificate."""

from __future__ import annotations

import threading

import httpx
import pytest
from lxml import etree

from banc.journal import Exchange, Journal
from banc.pki import TestPki, common_name
from banc.server import ServedApp, client_certificate
from banc.verdict import Finding, Severity, Verdict, to_json, to_junit
from banc.xml import XmlInputError, parse_untrusted


def test_journal_records_in_active_session_and_filters(journal: Journal) -> None:
    session = journal.start_session("essai", scenario="retour-domicile")
    finding = Finding("INSI.LPS", "ContexteLPS absent", requirements=("SC.INS.27.MS1",))
    first = journal.record(Exchange("insi", "rechercherInsAvecTraitsIdentite", request=b"<a/>"))
    journal.record(Exchange("dmp", "ITI-41", findings=[finding]))
    assert journal.active_session == session
    insi = journal.exchanges(session=session, service="insi")
    assert [e.id for e in insi] == [first]
    dmp = journal.exchanges(session=session, service="dmp")[0]
    assert not dmp.conform
    assert dmp.findings[0].requirements == ("SC.INS.27.MS1",)
    journal.end_session(session)
    assert journal.active_session is None


def test_journal_is_shared_between_threads_and_wait_for_sees_new_exchanges(journal: Journal) -> None:
    other = Journal(journal.path)
    start = journal.last_id()
    threading.Timer(0.1, lambda: other.record(Exchange("mss", "SMTP"))).start()
    seen = journal.wait_for(lambda e: e.service == "mss", timeout=5, since_id=start)
    assert seen is not None and seen.operation == "SMTP"
    assert journal.wait_for(lambda e: e.service == "nope", timeout=0.2) is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 binary", "not-xml"),
        (b"<a><b></a>", "malformed"),
        (b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', "doctype"),
        (b"<a>" + b"x" * 2048 + b"</a>", "too-large"),
    ],
)
def test_untrusted_xml_is_refused_with_a_named_problem(data: bytes, code: str) -> None:
    with pytest.raises(XmlInputError) as caught:
        parse_untrusted(data, max_bytes=1024, what="le fichier essai.xml")
    assert caught.value.code == code
    assert "essai.xml" in caught.value.message


def test_bom_is_accepted() -> None:
    assert etree.QName(parse_untrusted(b"\xef\xbb\xbf<ClinicalDocument/>")).localname == (
        "ClinicalDocument"
    )


def test_junit_marks_failures_and_unevaluated_rulesets() -> None:
    bad = Verdict("a.xml", [Finding("R1", "manque", ruleset="banc", requirements=("SC.DOC.04.MS1",))])
    partial = Verdict("b.xml")
    partial.not_evaluated.append(__import__("banc.verdict").verdict.NotEvaluated("AVC", "JDV absent"))
    ok = Verdict("c.xml", [Finding("I1", "info", severity=Severity.INFO)])
    junit = etree.fromstring(to_junit([bad, partial, ok]).encode())
    assert junit.get("failures") == "1" and junit.get("skipped") == "1"
    assert "SC.DOC.04.MS1" in junit.find("testcase/failure").get("message")
    assert '"conform": false' in to_json([bad])


def test_tls_server_exposes_client_certificate(pki: TestPki) -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        body = str(common_name(client_certificate(scope))).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    with ServedApp(app, pki=pki, client_cert="optional") as served:
        with httpx.Client(verify=pki.client_context("insi-auto")) as client:
            assert client.get(served.url).text == "INSI-AUTO"
        with httpx.Client(verify=pki.client_context()) as client:
            assert client.get(served.url).text == "None"
    with (
        ServedApp(app, pki=pki, client_cert="required") as served,
        httpx.Client(verify=pki.client_context()) as client,
        pytest.raises(httpx.HTTPError),
    ):
        client.get(served.url)
