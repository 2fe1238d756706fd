"""The thin CLI: exit codes, French messages, no stack traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from banc.cli import main
from banc.journal import Exchange, Journal
from banc.verdict import Finding


def test_journal_commands_show_sessions_exchanges_and_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "j.sqlite"
    journal = Journal(db)
    session = journal.start_session("démonstration")
    ident = journal.record(
        Exchange(
            "insi", "rechercherInsAvecTraitsIdentite", request=b"<req/>", status="500",
            findings=[Finding("INSI.CTX.LPS", "ContexteLPS absent", requirements=("SC.INS.27.MS1",))],
        )
    )
    assert main(["journal", "--journal", str(db), "sessions"]) == 0
    assert session in capsys.readouterr().out
    assert main(["journal", "--journal", str(db), "liste", "--session", session]) == 0
    assert "1 constat(s)" in capsys.readouterr().out
    assert main(["journal", "--journal", str(db), "voir", str(ident)]) == 0
    shown = capsys.readouterr().out
    assert "INSI.CTX.LPS [SC.INS.27.MS1] : ContexteLPS absent" in shown
    assert main(["journal", "--journal", str(db), "voir", str(ident), "--brut", "requete"]) == 0
    assert capsys.readouterr().out == "<req/>"
    assert main(["journal", "--journal", str(db), "voir", "999"]) == 2
    assert "aucun échange n° 999" in capsys.readouterr().err


def test_journal_old_names_still_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "j.sqlite"
    ident = Journal(db).record(Exchange("dmp", "TD0.2", request=b"<r/>", response=b"<ok/>"))
    assert main(["journal", "--db", str(db), "list"]) == 0
    assert "TD0.2" in capsys.readouterr().out
    assert main(["journal", "--db", str(db), "show", str(ident), "--raw", "response"]) == 0
    assert capsys.readouterr().out == "<ok/>"


def test_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["up", "--ephemeral-ports", "pas-un-service"]) == 2
    assert "pas-un-service" in capsys.readouterr().err


def test_pki_init_lists_the_certificates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "initialiser", "--pki", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "INSI-AUTO" in out and (tmp_path / "insi-auto.p12").exists()


def test_identities_json_is_printed_and_a_file_goes_to_sortie(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["insi", "identites", "--generees", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    target = tmp_path / "identites.json"
    assert main(["insi", "identites", "--generees", "2", "--sortie", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == printed and len(printed) == 12
