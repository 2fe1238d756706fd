"""The recorder's own guarantees, with real sockets and a real client: credentials cut in the
saved flows, the DUI's client certificate recorded, the upstream's answer kept, mutual TLS to
the upstream; one recorder per process; unreadable captures and bad options refused in French;
routing and masking."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from banc.capture.classify import route, route_all
from banc.capture.flows import CapturedExchange, CaptureError, read_capture
from banc.capture.recorder import Recorder, RecorderError, RecorderSettings
from banc.capture.report import MASK, Redactor
from banc.cli import main
from banc.dui import fingerprint
from banc.pki import TestPki
from banc.server import ServedApp, client_certificate


async def _upstream(scope: dict, receive, send) -> None:
    """Answers with the size of the client certificate it saw (0: none) and of the body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    der = client_certificate(scope) or b""
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": f"cert={fingerprint(der) if der else ''} taille={len(body)}".encode()})


@pytest.mark.slow
def test_recorder_saves_flows_without_credentials(pki: TestPki, tmp_path: Path) -> None:
    upstream = ServedApp(_upstream, pki=pki, client_cert="optional").start()
    settings = RecorderSettings(listen_port=0, output_dir=tmp_path, ca_cert=pki.ca_cert, ca_key=pki.ca_key,
                                upstream=upstream.url, upstream_ca=pki.ca_cert,
                                client_certificate=(pki.cert("insi-auto"), pki.key("insi-auto")))
    try:
        with Recorder(settings) as recorder:
            with pytest.raises(RecorderError, match="déjà"):
                Recorder(settings).start()
            with httpx.Client(verify=pki.client_context("dui")) as http:
                answer = http.post(f"{recorder.url}/lps?x=1", content=b"<soap/>",
                                   headers={"authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.secret.sig"})
            capture = recorder.capture_file
    finally:
        upstream.stop()
    assert answer.status_code == 201
    assert fingerprint(pki.cert("insi-auto").read_text()) in answer.text  # mutual TLS upstream
    assert capture.stat().st_mode & 0o077 == 0
    raw = capture.read_bytes()
    assert b"secret" not in raw and b"PRIVATE KEY" not in raw
    (saved,) = read_capture(capture)
    assert saved.header("authorization") == "Bearer eyJ…"
    assert (saved.method, saved.path, saved.body, saved.status) == ("POST", "/lps?x=1", b"<soap/>", 201)
    assert saved.response == answer.content
    assert fingerprint(saved.client_certificate_der) == fingerprint(pki.cert("dui").read_text())


def test_unreadable_capture_is_refused_in_french(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "pas-une-capture.flows"
    bogus.write_bytes(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(CaptureError, match="n'est pas une capture mitmproxy"):
        read_capture(bogus)
    assert main(["capture", "importer", str(bogus), "--dui", "x", "--journal", str(tmp_path / "j.sqlite")]) == 2
    assert "n'est pas une capture mitmproxy lisible" in capsys.readouterr().err
    assert main(["capture", "importer", str(tmp_path / "absente.flows"), "--dui", "x"]) == 2
    assert "capture introuvable" in capsys.readouterr().err


def test_bad_recorder_options_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capture", "--amont", "localhost:9102", "--pki", str(tmp_path / "pki")]) == 2
    assert "une URL http:// ou https:// est attendue" in capsys.readouterr().err
    assert main(["capture", "--certificat-client", str(tmp_path / "absent.pem"), "--pki", str(tmp_path / "pki")]) == 2
    assert "certificat client (--certificat-client) introuvable" in capsys.readouterr().err


def _captured(path: str, body: bytes = b"", url: str = "https://dmp.example:443", method: str = "POST") -> CapturedExchange:
    return CapturedExchange(method=method, path=path, url=url + path.split("?")[0], headers=(), body=body,
                            started_at=0.0)


def test_routes() -> None:
    assert route(_captured("/si-dmp-server/v2/services/repository")).service == "dmp"
    assert route(_captured("/prefixe/si-dmp-server/v2/services/registry")).path == "/si-dmp-server/v2/services/registry"
    insi = route(_captured("/ws/ICIR", b"<x xmlns='urn:siram:lps:ctxlps'/>"))
    assert (insi.service, insi.path) == ("insi", "/lps")
    assert route(_captured("/fhir/v2/Practitioner", method="GET")).service == "annuaire"
    assert not route(_captured("/fhir/v2/Practitioner", method="GET")).replayed
    assert route(_captured("/autre")).service is None
    both = route_all([_captured("/lps", b"rechercherInsAvecTraitsIdentite", "https://insi.example"),
                      _captured("/xsd/a.xsd", url="https://insi.example", method="GET")])
    assert [r.service for r in both] == ["insi", "insi"]


def test_redactor_masks_ins_and_learned_names() -> None:
    redact = Redactor()
    redact.learn(b"<NomNaissance>ADRTROIS</NomNaissance><hl7:given>DOMINIQUE</hl7:given>")
    shown = redact("patient 279035121518989 ADRTROIS Dominique, OID 1.2.250.1.213.1.4.10")
    assert "279035121518989" not in shown and "ADRTROIS" not in shown and "Dominique" not in shown
    assert shown.count(MASK) == 3 and "1.2.250.1.213.1.4.10" in shown
    assert Redactor(enabled=False)("279035121518989") == "279035121518989"
