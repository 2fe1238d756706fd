"""`start_bench` does not wait for the CDA engine, and documents received before it is ready
are still judged: real servers, real clients (smtplib, the DMP's httpx ITI-41 client)."""

from __future__ import annotations

import os
import queue
import signal
import smtplib
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack
from pathlib import Path

import pytest

import banc.cda
from banc.bench import start_bench
from banc.cda import service
from banc.cda.package import find_package
from banc.cda.rulesets import PROFILES
from banc.mail.compose import HealthMessage
from banc.paths import REPO_ROOT
from banc.pki import TestPki
from banc.population import cnam_test_identities
from simulators.dmp_mock.client import DmpClient, minimal_cda

pytestmark = [pytest.mark.slow, pytest.mark.reference]

SENDER = "secretariat@ssiad-val-de-morge.mssante.fr"
RECIPIENT = "helene.vidal@medecin.mssante.fr"
ENGINE_RULESETS = {"xsd", *PROFILES}
"""Rule sets only the CDA engine reports (the mocks' own rules have their own names)."""


class HeldStart:
    """The lock every "is the service running? else start it" takes, held until `release()`:
    the bench's validation cannot be ready before, whatever the machine's speed."""

    def __init__(self) -> None:
        self._lock = service._start_lock(find_package())
        self._lock.__enter__()
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._lock.__exit__(None, None, None)


def _send_mail(bench, raw: bytes) -> dict:
    mss = bench.mocks["mssante"]
    credentials = f"user={SENDER}\x01auth=Bearer {mss.token_for(SENDER)}\x01\x01"
    with smtplib.SMTP("127.0.0.1", mss.smtp.starttls_port, timeout=300) as smtp:
        smtp.starttls(context=bench.context.pki.client_context())
        smtp.ehlo()
        smtp.auth("XOAUTH2", lambda _=None: credentials)
        return smtp.sendmail(SENDER, [RECIPIENT], raw)


def _feed_dmp(bench, cda: bytes, ins: str) -> int:
    client = DmpClient(bench.mocks["dmp"].url, bench.context.pki, timeout=300)
    try:
        return client.provide(cda, ins).response.status_code
    finally:
        client.close()


def test_documents_sent_while_validation_warms_are_judged(
    reference: Path, tmp_path: Path, pki: TestPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(banc.cda, "_validation", None)  # this bench's own start-up, not an earlier one's
    ins = cnam_test_identities()[1].ins
    cda = minimal_cda(ins)
    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(2))
        held = HeldStart()
        stack.callback(held.release)
        bench = stack.enter_context(start_bench(
            data_dir=tmp_path / "data", pki_dir=pki.directory, ports={}, services=["dmp", "mssante"],
            validation="service"))
        validation = bench.validation
        assert validation.started and not validation.ready.is_set(), "start_bench waited for validation"
        assert "en préparation" in validation.describe()

        raw = HealthMessage(sender=SENDER, recipients=[RECIPIENT], cda=cda).build()
        sent = [pool.submit(_send_mail, bench, raw), pool.submit(_feed_dmp, bench, cda, ins)]
        deadline = time.monotonic() + 120
        while validation.waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert validation.waiting == 2, "both documents reached the validation"
        assert not any(f.done() for f in sent), "a document was answered before it was judged"
        assert "2 document(s) en attente de verdict" in validation.describe()

        held.release()
        done, _ = wait(sent, timeout=600)
        assert len(done) == 2
        assert sent[0].result() == {} and sent[1].result() == 200
        assert validation.where == "service" and validation.waiting == 0
        for name in ("mssante", "dmp"):
            exchanges = [e for e in bench.journal.exchanges(session=bench.session, service=name)
                         if e.findings]
            assert exchanges, f"{name}: nothing journaled with findings"
            rulesets = {f.ruleset for e in exchanges for f in e.findings}
            assert rulesets & ENGINE_RULESETS, f"{name}: no finding of the CDA engine in {rulesets}"


def test_banc_demarrer_says_where_validation_runs(tmp_path: Path) -> None:
    """The command lists its services, then says where CDA is validated, and when ready."""
    command = [sys.executable, "-m", "banc", "demarrer", "dmp", "--ports-ephemeres", "--donnees", str(tmp_path)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=dict(os.environ, BANC_VALIDATION="service"))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 600
        while not any(line.startswith("validation CDA : prête") for line in seen):
            assert time.monotonic() < deadline and process.poll() is None, "".join(seen)
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    first = next(i for i, line in enumerate(seen) if line.startswith("validation CDA : "))
    assert any(line.startswith("Services simulés démarrés en") for line in seen[:first])
    assert "service de validation pid" in seen[-1]
