"""MSSanté mock throughput: SMTP submissions/s of a 2 MB XDM message with the health checks on
and off, and IMAP FETCH of 1 000 messages — printed side by side.

    .venv/bin/python bench/mssante.py [--seconds 8] [--messages 1000] [--cda]

The mocks run in a separate process (so the client's work does not share their interpreter);
the clients are `smtplib` (one connection, STARTTLS + XOAUTH2 once, then back-to-back
`sendmail`) and `imaplib` (IMAPS + XOAUTH2). `--cda` adds a column with the CDA engine
(`banc.cda`, compiled once before measuring) validating every document as well.
"""

from __future__ import annotations

import argparse
import base64
import imaplib
import multiprocessing as mp
import os
import smtplib
import tempfile
import time
from datetime import datetime
from pathlib import Path

from lxml import etree

from banc.pki import TestPki

DUI = "secretariat@ssiad-val-de-morge.mssante.fr"
HOSPITAL = "medecine.geriatrique@ch-riom-limagne.mssante.fr"
MB = 1024 * 1024


def _n1_message(size: int) -> bytes:
    """A realistic health message (factory N1 + XDM + PDF/A) whose CDA is padded to `size`."""
    from banc.directory import build_directory
    from banc.documents.header import DocumentContext
    from banc.documents.n1 import generate_n1
    from banc.documents.parties import from_directory
    from banc.mail.compose import HealthMessage
    from banc.population import cnam_test_identities

    directory = build_directory()
    hospital = directory.person("medecin_hospitalier")
    service = directory.hospital_service
    context = DocumentContext(identity=cnam_test_identities()[0],
                              author=from_directory(hospital, service), when=datetime(2024, 1, 5))
    document = generate_n1(context)
    if size:
        text = document.root.find(".//{urn:hl7-org:v3}nonXMLBody/{urn:hl7-org:v3}text")
        padding = os.urandom(max(0, size - len(document.pdf or b"")))
        text.text = base64.b64encode((document.pdf or b"") + padding).decode()
    cda = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(document.root, encoding="UTF-8")
    return HealthMessage(sender=DUI, recipients=[HOSPITAL], cda=cda, pdf=document.pdf).build()


def _servers(directory: str, messages: int, with_cda: bool, ready: mp.Queue, stop: mp.Event) -> None:
    from banc.journal import Journal
    from simulators.mssante_mock.app import MssanteMock

    base = Path(directory)
    pki = TestPki.ensure(base / "pki")
    mocks = {}
    variants = {"checks off": {"checks": False}, "checks on": {"checks": True}}
    if with_cda:
        from banc.cda import engine, validate_root

        engine().warm()
        variants["checks + CDA"] = {"checks": True, "validate_cda": validate_root}
    for label, options in variants.items():
        mocks[label] = MssanteMock(journal=Journal(base / f"{label}.sqlite"), pki=pki,
                                   data_dir=base / label.replace(" ", "-"), **options)
    first = next(iter(mocks.values()))
    sample = _n1_message(0)
    for _ in range(messages):
        first.store.deliver(DUI, sample)
    ready.put({
        "smtp": {label: m.smtp.starttls_port for label, m in mocks.items()},
        "imap": first.imap.port,
        "tokens": {label: {DUI: m.token_for(DUI)} for label, m in mocks.items()},
        "sample_size": len(sample),
    })
    stop.wait()
    for mock in mocks.values():
        mock.stop()


def _smtp_rate(port: int, token: str, pki: TestPki, raw: bytes, seconds: float) -> float:
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: f"user={DUI}\x01auth=Bearer {token}\x01\x01")
        smtp.sendmail(DUI, [HOSPITAL], raw)  # warm-up
        sent, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            smtp.sendmail(DUI, [HOSPITAL], raw)
            sent += 1
        return sent / (time.perf_counter() - started)


def _imap_fetch(port: int, token: str, pki: TestPki, query: str) -> tuple[float, int, int]:
    with imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=pki.client_context(), timeout=300) as imap:
        imap.authenticate("XOAUTH2", lambda _: f"user={DUI}\x01auth=Bearer {token}\x01\x01".encode())
        imap.select("INBOX", readonly=True)
        started = time.perf_counter()
        typ, data = imap.fetch("1:*", query)
        elapsed = time.perf_counter() - started
    assert typ == "OK"
    items = [d for d in data if isinstance(d, tuple)]
    return elapsed, len(items), sum(len(d[1]) for d in items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--size", type=float, default=1.4, help="CDA payload in MB (→ ~2 MB message)")
    parser.add_argument("--cda", action="store_true", help="also measure with the CDA engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pki = TestPki.ensure(Path(directory) / "pki")
        ready: mp.Queue = mp.Queue()
        stop = mp.Event()
        server = mp.Process(target=_servers, args=(directory, args.messages, args.cda, ready, stop))
        server.start()
        try:
            info = ready.get(timeout=900)
            raw = _n1_message(int(args.size * MB))
            print(f"message soumis : {len(raw) / MB:.2f} Mo (XDM + PDF/A), {args.seconds:.0f} s par mesure")
            rates = {label: _smtp_rate(port, info["tokens"][label][DUI], pki, raw, args.seconds)
                     for label, port in info["smtp"].items()}
            print(f"{'SMTP (1 connexion)':<24}" + "".join(f"{label:>16}" for label in rates))
            print(f"{'  messages/s':<24}" + "".join(f"{r:>16.1f}" for r in rates.values()))
            print(f"{'  Mo/s':<24}" + "".join(f"{r * len(raw) / MB:>16.1f}" for r in rates.values()))
            token = info["tokens"]["checks off"][DUI]
            print(f"\nIMAP FETCH 1:* sur {args.messages} messages de {info['sample_size'] / 1024:.0f} Ko")
            for label, query in (("(FLAGS ENVELOPE)", "(FLAGS ENVELOPE)"),
                                 ("(BODY.PEEK[])", "(BODY.PEEK[])")):
                elapsed, count, size = _imap_fetch(info["imap"], token, pki, query)
                print(f"  {label:<20} {count:>5} messages en {elapsed:6.2f} s  "
                      f"{count / elapsed:8.0f} messages/s  {size / MB / elapsed:7.1f} Mo/s")
        finally:
            stop.set()
            server.join(timeout=60)


if __name__ == "__main__":
    main()
