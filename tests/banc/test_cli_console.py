"""A quiet and honest console: version, a refused missing journal, a busy port said in one
French line by the standalone mocks, no third-party warning about the bench's own choices."""

from __future__ import annotations

import logging
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from banc import __version__
from banc.cli import main
from banc.cli.console import busy_ports, quiet_third_party
from banc.journal import Journal
from banc.pki import TestPki


def _mock(module: str, *args: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", f"simulators.{module}", *args],
                          capture_output=True, text=True, timeout=120, **options)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port some other program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"banc {__version__}\n"
    done = _mock("dmp_mock", "--version")
    assert done.returncode == 0 and done.stdout == f"python -m simulators.dmp_mock {__version__}\n"


@pytest.mark.parametrize("option", ["--journal", "--db"])
def test_missing_journal_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    missing = tmp_path / "faute.sqlite"
    assert main(["journal", option, str(missing), "liste"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"banc : journal introuvable : {missing}") and "aucune base créée" in err
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_missing_default_journal_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BANC_HOME", str(tmp_path))
    assert main(["journal", "sessions"]) == 2
    assert "journal introuvable" in capsys.readouterr().err
    assert not list(tmp_path.rglob("journal.sqlite"))


def test_existing_journal_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "j.sqlite"
    session = Journal(db).start_session("essai")
    assert main(["journal", "--journal", str(db), "sessions"]) == 0
    assert session in capsys.readouterr().out


def test_busy_ports_sees_a_listening_socket(taken_port: int) -> None:
    assert busy_ports({"insi": taken_port, "dmp": 0}) == {"insi": taken_port}


@pytest.mark.parametrize(("module", "option", "name"), [
    ("insi_mock", "--port", "insi"),
    ("dmp_mock", "--port", "dmp"),
    ("annuaire_mock", "--port", "annuaire"),
    ("psc_mock", "--port", "psc"),
    ("mssante_mock", "--port-imaps", "mssante.imaps"),
])
def test_standalone_mock_on_a_busy_port_says_so_in_one_line(
    tmp_path: Path, pki: TestPki, taken_port: int, module: str, option: str, name: str
) -> None:
    done = _mock(module, option, str(taken_port), "--pki", str(pki.directory),
                 "--donnees", str(tmp_path), "--journal", str(tmp_path / "j.sqlite"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {taken_port} ({name}) déjà utilisé" in lines[0]
    assert lines[0].startswith(f"python -m simulators.{module} : ")


@pytest.mark.slow
def test_mssante_mock_takes_a_port_per_service_and_stays_quiet(tmp_path: Path, pki: TestPki) -> None:
    """The implicit-TLS listener made aiosmtpd log "auth_required == True but auth_require_tls
    == False" on every connection; the given ports are the ones served."""
    ports = []
    for _ in range(4):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.mssante_mock", "--pki", str(pki.directory),
         "--donnees", str(tmp_path), "--journal", str(tmp_path / "j.sqlite"),
         *(f"--port-{c}={p}" for c, p in zip(("smtp", "smtps", "imaps", "imap"), ports, strict=True))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        announced = []
        while not announced or not announced[-1].startswith("Ctrl+C"):
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, process.stderr.read()  # type: ignore[union-attr]
            announced.append(line)
        assert announced[0].startswith("MSSanté simulé : démarrage")
        for channel, port in zip(("smtp", "smtps", "imaps", "imap"), ports, strict=True):
            assert any(f"mssante.{channel} " in line and f":{port}" in line for line in announced)
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.check_hostname = False
        with smtplib.SMTP_SSL("127.0.0.1", ports[1], context=context, timeout=30) as smtp:
            assert smtp.ehlo()[0] == 250
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert "auth_require" not in err and "Warning" not in err and "Traceback" not in err, err


def test_quiet_third_party_drops_only_the_known_noise(caplog: pytest.LogCaptureFixture) -> None:
    quiet_third_party()
    quiet_third_party()  # idempotent
    assert len(logging.getLogger("mail.log").filters) == 1
    with caplog.at_level(logging.WARNING):
        logging.getLogger("mail.log").warning("auth_required == True but auth_require_tls == False")
        logging.getLogger("mail.log").warning("autre chose")
    assert [r.getMessage() for r in caplog.records] == ["autre chose"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn("Session.login_data is deprecated and will be removed in version 2.0",
                      DeprecationWarning, stacklevel=1)
        warnings.warn("un autre avertissement", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["un autre avertissement"]
