"""`banc demo`, the README's main job: examples validated, simulators started, tour played,
report written in three formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from banc.cli import main

pytestmark = pytest.mark.slow


def test_demo_writes_the_report_with_every_step(
    tmp_path: Path, reference: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--sur-place"]) == 0
    printed = capsys.readouterr().out
    assert "étape 3/3 : Scénarios joués par le DUI de référence" in printed
    records = json.loads((out / "rapport.json").read_text(encoding="utf-8"))
    examples = sorted(p.name for p in (reference / "ans-testcontenucda-3.0" / "ExemplesCDA").glob("*.xml"))
    assert [r["file"] for r in records[: len(examples)]] == examples
    tour = [r for r in records if str(r.get("file", "")).startswith("Tour des services")]
    assert len(tour) == 5 and all(r["conform"] for r in tour), tour
    ins = [r for r in records if str(r.get("file", "")).startswith("Qualification de l'INS")]
    assert len(ins) == 2 and all(r["conform"] for r in ins), ins
    assert len(list((out / "executions").glob("*/rapport.html"))) == 2
    assert not all(r["conform"] for r in records[: len(examples)])  # known official failures
    html = (out / "rapport.html").read_text(encoding="utf-8")
    assert "Tour des services simulés" in html and "SC.DOC.04.MS1" in html
    junit = etree.parse(str(out / "rapport.junit.xml")).getroot()
    assert int(junit.get("tests")) == len(records)
    assert (out / "journal.sqlite").exists()
