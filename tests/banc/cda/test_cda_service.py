"""The warm validation service: loopback, token, same verdicts as in-process."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from banc.cda import service
from banc.cda.engine import Engine

pytestmark = [pytest.mark.slow, pytest.mark.reference]


def test_service_answers_with_the_engine_verdict(
    cda_engine: Engine, example_files: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANC_HOME", str(tmp_path))
    path = example_files["IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"]
    local = cda_engine.validate(path, subject="é dossier/IMG.xml")
    thread = threading.Thread(
        target=service.serve, kwargs={"engine": cda_engine, "idle": 4.0}, daemon=True
    )
    thread.start()
    client = service.Client(cda_engine.package)
    for _ in range(100):
        state = client._read_state()
        if state and client._alive(state):
            break
        thread.join(0.1)
    state = client.ensure()
    assert httpx.get(f"http://127.0.0.1:{state['port']}/health").status_code == 403
    remote = client.validate(path.read_bytes(), subject="é dossier/IMG.xml")
    assert remote.subject == "é dossier/IMG.xml"
    assert [f.to_dict() for f in remote.findings] == [f.to_dict() for f in local.findings]
    assert client.validate(b"", subject="vide").details["input_error"]
    thread.join(10)
    assert not thread.is_alive(), "the service stops when idle"
    assert not service.state_file(cda_engine.package).exists()
