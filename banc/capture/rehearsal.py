"""A capture made on the bench itself: recorders in front of its mocks, a DUI played through them.

What a vendor does against the real test platforms — `banc capture` between their DUI and the
service, then `banc capture importer` — rehearsed on one machine: each recorder is a reverse
proxy to one mock, presenting upstream the certificate the DUI uses there (mutual TLS on both
sides), and the DUI is given the bench's sheet with those services' addresses moved to the
recorders (what a DUI configured through a proxy sees). The tests compare the offline verdicts
with the live ones; the capture notebook shows the whole path to a trainer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

from banc.capture.process import RecorderProcess
from banc.pki import TestPki
from banc.sheet import BenchSheet

CLIENT_CERTIFICATES = {"dmp": "dui", "insi": "insi-auto"}
"""The certificate each recorder presents upstream: the one a DUI uses with that service."""


def _origin(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}"


def recorder_for(sheet: BenchSheet, pki: TestPki, service: str, folder: Path) -> RecorderProcess:
    """`banc capture` in front of one mock of the bench (its own process, capture in `folder/service`)."""
    name = CLIENT_CERTIFICATES[service]
    return RecorderProcess([
        "--ecoute", "0", "--amont", _origin(sheet.url(service)), "--pki", str(pki.directory),
        "--sortie", str(folder / service), "--certificat-client", str(pki.cert(name)),
        "--cle-client", str(pki.key(name))])


@contextmanager
def recorded(sheet: BenchSheet, pki: TestPki, folder: Path,
             services: tuple[str, ...] = tuple(CLIENT_CERTIFICATES)) -> Iterator[tuple[BenchSheet, dict[str, RecorderProcess]]]:
    """Recorders in front of `services` and the sheet a DUI then uses (control planes untouched).
    On exit the recorders stop and their capture files are complete."""
    with ExitStack() as stack:
        recorders = {s: stack.enter_context(recorder_for(sheet, pki, s, folder)) for s in services}
        endpoints = dict(sheet.endpoints)
        for key, url in endpoints.items():
            service = key.split(".")[0]
            if service in recorders and not key.endswith(".controle") and url.startswith("https://"):
                endpoints[key] = url.replace(urlparse(url).netloc, urlparse(recorders[service].url).netloc)
        yield replace(sheet, endpoints=endpoints), recorders
