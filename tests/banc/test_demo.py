"""`banc demo`, the README's main job: examples validated with the reason of each verdict,
simulators started, scenarios played with their own reports, exit code from what was judged."""

from __future__ import annotations

import html as html_text
import json
import re
from pathlib import Path

import pytest
from lxml import etree

from banc.cli import main
from banc.scenario.verdicts import registered_scenarios

pytestmark = pytest.mark.slow


def test_demo_writes_the_report_with_every_step(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--sur-place"]) == 0  # every run of the reference DUI conforms
    printed = capsys.readouterr().out
    assert "étape 3/3 : Scénarios joués par le DUI de référence" in printed
    played = len(registered_scenarios())
    assert f"{played}/{played} exécution(s) conforme(s)" in printed, printed
    records = json.loads((out / "rapport.json").read_text(encoding="utf-8"))
    examples = sorted(p.name for p in (reference / "ans-testcontenucda-3.0" / "ExemplesCDA").glob("*.xml"))
    assert [r["file"] for r in records[: len(examples)]] == examples
    assert len(records) == len(examples) + len(list((reference / "tddui").glob("*.xml")))  # documents only
    runs = sorted((out / "executions").iterdir())
    assert len(runs) == played
    for folder in runs:
        assert {"rapport.html", "rapport.json", "rapport.junit.xml", "fiche-referencement.xlsx"} <= {
            p.name for p in folder.iterdir()}
    assert not all(r["conform"] for r in records[: len(examples)])  # known official failures
    html = html_text.unescape((out / "rapport.html").read_text(encoding="utf-8"))
    assert "Tour des services simulés" in html and "SC.DOC.04.MS1" in html
    assert "document(s) conforme(s)" in html and "Pourquoi" in html
    # the reason column says why an official example is not conform
    assert re.search(r"règle\(s\) du banc seulement \(dsr : 1 erreur\(s\)\), exigence\(s\) DSR SC\.DOC\.04\.MS1", html)
    assert "la chaîne officielle de l'ANS relève sur cet exemple : 4 erreur(s) volet" in html
    for folder in runs:
        assert f"executions/{folder.name}/rapport.html" in html
    assert "Volet : aucun ()" not in html and "Règles appliquées : ." not in html
    junit = etree.parse(str(out / "rapport.junit.xml")).getroot()
    assert {c.get("classname") for c in junit.iter("testcase")} == {r["file"] for r in records}
    assert (out / "journal.sqlite").exists()
