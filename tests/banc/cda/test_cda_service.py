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


def test_service_status_and_stop_commands(
    cda_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`banc service statut` says where it runs and when it stops; `arreter` stops it now."""
    from banc.cli import main

    monkeypatch.setenv("BANC_HOME", str(tmp_path))
    assert main(["service", "statut"]) == 0
    assert capsys.readouterr().out == "aucun service de validation en cours\n"
    thread = threading.Thread(target=service.serve, kwargs={"engine": cda_engine, "idle": 600.0}, daemon=True)
    thread.start()
    client = service.Client(cda_engine.package)
    for _ in range(100):
        if (state := client._read_state()) and client._alive(state):
            break
        thread.join(0.1)
    assert main(["service", "statut"]) == 0
    status = capsys.readouterr().out
    assert f"127.0.0.1:{state['port']}" in status and "arrêt automatique à" in status
    assert "10 min d'inactivité" in status and "banc service arreter" in status
    from banc.cli.service import notice

    ending = notice()  # what `banc demo` prints at its end
    assert ending is not None and ending.startswith("toujours actif : service de validation pid ")
    assert f"127.0.0.1:{state['port']}" in ending
    assert main(["service", "arreter"]) == 0
    assert "arrêté" in capsys.readouterr().out
    thread.join(10)
    assert not thread.is_alive() and not service.state_file(cda_engine.package).exists()
    assert main(["service", "arreter"]) == 0
    assert "aucun service" in capsys.readouterr().out
    assert notice() is None


def test_one_service_per_package_content(cda_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two copies of the same package share one service (`--ans` paths no longer start one
    each); another content gets its own."""
    import shutil

    from banc.cda.package import AnsPackage

    monkeypatch.setenv("BANC_HOME", str(tmp_path / "home"))
    copy = tmp_path / "copie"
    for folder in ("schematrons", "jeuxDeValeurs"):
        shutil.copytree(cda_engine.package.root / folder, copy / folder)
    assert service.state_file(AnsPackage(copy)) == service.state_file(cda_engine.package)
    other = tmp_path / "autre"
    shutil.copytree(copy, other)
    (other / "schematrons" / "ajout.sch").write_text("<schema/>", encoding="utf-8")
    assert service.state_file(AnsPackage(other)) != service.state_file(cda_engine.package)
