"""Crash test: kill -9 the mock process during a burst of ITI-41 submissions; after a restart
every acknowledged document is retrievable (byte-identical) and no half-written submission is
visible (each stored submission has its document, its signature and its content)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dmp_helpers import NURSE, PATIENT

from banc.paths import REPO_ROOT
from banc.pki import TestPki
from simulators.dmp_mock.client import DmpClient, minimal_cda, retrieved
from simulators.dmp_mock.models import DmpStore

pytestmark = pytest.mark.slow


def start(data: Path, pki: TestPki) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.dmp_mock", "--port", "0", "--data", str(data), "--pki",
         str(pki.directory), "--journal", str(data / "journal.sqlite"), "--sans-validation-cda",
         "--documents", "0"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(r"(https://localhost:\d+)", line)
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError("le simulateur DMP n'a pas démarré")


def test_kill_during_burst(tmp_path: Path, pki: TestPki) -> None:
    process, url = start(tmp_path, pki)
    acknowledged: dict[str, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def burst(worker: int) -> None:
        client = DmpClient(url, pki, author=NURSE, timeout=10)
        number = 0
        while not stop.is_set():
            number += 1
            cda = minimal_cda(PATIENT, family="ADRUN", given="ZOE", text=f"rafale {worker}-{number}",
                              padding=20_000)
            try:
                fed = client.provide(cda, PATIENT)
            except Exception:  # the process was killed mid-request: not acknowledged
                break
            if b"ResponseStatusType:Success" in fed.response.content:
                with lock:
                    acknowledged[fed.unique_id] = cda
        client.close()

    try:
        setup = DmpClient(url, pki, author=NURSE)
        assert b"DMPOk" in setup.set_authorization(PATIENT).content
        setup.close()
        workers = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 15 and time.monotonic() < deadline and any(w.is_alive() for w in workers):
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
    assert len(acknowledged) >= 15

    store = DmpStore(tmp_path / "dmp" / "dmp.sqlite")
    db = store._database.connection()
    # every fed submission is whole: document + signature + content (the seeded documents of
    # the official examples' patient are filed one per submission set, without signature)
    rows = db.execute(
        "SELECT s.entry_uuid, COUNT(d.entry_uuid), SUM(d.is_signature), SUM(d.content IS NULL)"
        " FROM submission_sets s LEFT JOIN documents d ON d.submission_uuid = s.entry_uuid"
        " WHERE s.patient_ins = ? GROUP BY s.entry_uuid", (PATIENT,)).fetchall()
    orphans = db.execute("SELECT COUNT(*) FROM documents WHERE submission_uuid NOT IN"
                         " (SELECT entry_uuid FROM submission_sets)").fetchone()[0]
    assert rows and all(count == 2 and signatures == 1 and empty == 0 for _, count, signatures, empty in rows)
    assert orphans == 0
    store.close()

    process, url = start(tmp_path, pki)
    try:
        client = DmpClient(url, pki, author=NURSE)
        ids = sorted(acknowledged)
        for start_index in range(0, len(ids), 10):
            chunk = ids[start_index:start_index + 10]
            documents = retrieved(client.retrieve(PATIENT, chunk))
            for unique_id in chunk:
                assert documents.get(unique_id) == acknowledged[unique_id], unique_id
        client.close()
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()
