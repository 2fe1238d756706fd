"""`banc insi …` against a running mock, and the offline sub-commands."""

from __future__ import annotations

import json

import pytest

from banc.cli import main

pytestmark = pytest.mark.slow


def test_search_found(insi_mock, pki, capsys) -> None:
    code = main(["insi", "chercher", "ADRTROIS", "DOMINIQUE", "F", "1997-02-26",
                 "--url", insi_mock.url, "--pki", str(pki.directory)])
    out = capsys.readouterr().out
    assert code == 0
    assert "CR 00" in out and "INS 297022A02077878" in out


def test_search_refused_names_the_rule(insi_mock, pki, capsys) -> None:
    code = main(["insi", "chercher", "adrtrois", "DOMINIQUE", "F", "1997-02-26",
                 "--url", insi_mock.url, "--pki", str(pki.directory)])
    out = capsys.readouterr().out
    assert code == 1
    assert "insi_101" in out and "majuscules" in out


def test_search_unreachable_is_a_usage_error(pki, capsys) -> None:
    code = main(["insi", "chercher", "ADRUN", "ZOE", "F", "1975-12-31",
                 "--url", "https://localhost:9/lps", "--pki", str(pki.directory)])
    assert code == 2
    assert "injoignable" in capsys.readouterr().err


def test_cases_and_identities(tmp_path, capsys) -> None:
    assert main(["insi", "cas"]) == 0
    assert "TCHITCHI OLA (prénom inconnu)" in capsys.readouterr().out
    target = tmp_path / "people.json"
    assert main(["insi", "identites", "--generees", "3", "--sortie", str(target)]) == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 13
