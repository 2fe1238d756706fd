"""Run reports from Run objects built by hand (no bench): JUnit elements as CI tools read them,
JSON against its published schema, the referencing sheet read back, French severities."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from openpyxl import load_workbook

from banc.journal import Journal
from banc.scenario.model import Outcome
from banc.scenario.report import build
from banc.scenario.report.data import to_dict, to_junit
from banc.scenario.report.html import to_html
from banc.scenario.report.model import CATEGORIES
from banc.scenario.report.sheet import COLUMNS, to_csv, to_xlsx
from banc.scenario.runs import RunStore, StepResult
from banc.verdict import Finding, Severity

SCHEMA = json.loads((Path(__file__).parents[3] / "docs" / "schemas" / "execution.schema.json").read_text())


@pytest.fixture
def store(journal: Journal) -> RunStore:
    return RunStore(journal)


def _step(position: int, step: str, outcome: Outcome, requirements: tuple[str, ...], **kwargs) -> StepResult:
    now = time.time()
    return StepResult(step=step, title=f"Étape {step}", kind="le DUI agit", outcome=outcome,
                      requirements=requirements, position=position, started_at=now, ended_at=now + 0.5,
                      **kwargs)


@pytest.fixture
def run(store: RunStore):
    run = store.create("tour", "dui-essai", "manual", {"usager_nom": "DUPONT", "usager_ins": "297022A02077878"},
                       None)
    findings = [Finding("DSR.A", "premier constat", requirements=("SC.DOC.04.MS1", "SC.MSS.17.MS1")),
                Finding("DSR.B", "second constat", severity=Severity.WARNING, location="/ClinicalDocument")]
    for result in (
        _step(0, "ok", Outcome.PASSED, ("SC.ANN.01.MS1",)),
        _step(1, "ko", Outcome.FAILED, ("SC.MSS.17.MS1", "SC.DMP.04.MS1"), reason="document refusé",
              findings=findings),
        _step(2, "banc", Outcome.NOT_EVALUATED, ("SC.INS.26.MS1",), reason="le simulateur INSi a échoué"),
        _step(3, "capture", Outcome.AWAITING_PROOF, ("SC.TBB.01.MS1",), reason="capture attendue"),
        _step(4, "saad", Outcome.OMITTED, ("SC.MSS.18.MS1",), reason="non applicable"),
        _step(5, "suite", Outcome.SKIPPED, ("SC.MSS.20.MS1",), reason="l'étape ko n'a pas réussi"),
    ):
        store.save_step(run, result)
    store.set_status(run, "terminé")
    return store.get(run.id)


def test_junit_uses_failure_error_and_skipped_as_ci_tools_mean_them(run, journal, store, tmp_path) -> None:
    (tmp_path / "rapport.junit.xml").write_text(to_junit(build(run, journal, store)), encoding="utf-8")
    xml = JUnitXml.fromfile(str(tmp_path / "rapport.junit.xml"))
    cases = {(case.classname, case.name): case for suite in xml for case in suite}
    # requirement × step: the failed step's two declared requirements and the one its error cites;
    # SC.DMP.04.MS1, which its error does not cite, passed in that step
    assert {name for cls, name in cases if cls == "tour.ko"} == {"SC.MSS.17.MS1", "SC.DMP.04.MS1", "SC.DOC.04.MS1"}
    assert [type(r) for r in cases[("tour.ko", "SC.DMP.04.MS1")].result] == []
    kinds = {key: [type(r) for r in case.result] for key, case in cases.items()}
    assert kinds[("tour.ok", "SC.ANN.01.MS1")] == []
    assert kinds[("tour.ko", "SC.MSS.17.MS1")] == [Failure]
    assert kinds[("tour.banc", "SC.INS.26.MS1")] == [Error]
    for step in ("capture", "saad", "suite"):
        assert [k for (cls, _), k in kinds.items() if cls == f"tour.{step}"] == [[Skipped]]
    failure = cases[("tour.ko", "SC.MSS.17.MS1")].result[0]
    assert "DSR.A" in failure.text and "DSR.B" in failure.text and "[avertissement]" in failure.text
    suite = next(iter(xml))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (8, 2, 1, 3)


def test_json_follows_its_published_schema(run, journal, store) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    data = to_dict(build(run, journal, store))
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert data["conforme"] is False
    assert data["synthese"]["échoué"] == 2 and data["synthese"]["preuve manuelle attendue"] == 1
    broken = {**data, "synthese": {**data["synthese"], "réussi": -1}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_every_catalogue_requirement_is_in_one_of_five_categories(run, journal, store) -> None:
    report = build(run, journal, store)
    rows = {r.requirement: r.category for r in report.requirements}
    assert rows["SC.ANN.01.MS1"] == "réussi" and rows["SC.MSS.17.MS1"] == "échoué"
    assert rows["SC.INS.26.MS1"] == "non évalué" and rows["SC.MSS.20.MS1"] == "non évalué"
    assert rows["SC.TBB.01.MS1"] == "preuve manuelle attendue"
    assert rows["SC.MSS.18.MS1"] == "non couvert" and rows["SC.DMP.03.MS1"] == "non couvert"
    assert sum(report.counts().values()) == len(report.requirements) and set(report.counts()) == set(CATEGORIES)


def test_sheet_read_back_matches_the_run(run, journal, store) -> None:
    report = build(run, journal, store)
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    rows = list(book["Preuves"].iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    by_requirement = {r[1]: r for r in rows[1:]}
    assert set(by_requirement) == {r.requirement for r in report.requirements}
    assert by_requirement["SC.MSS.17.MS1"][6] == "échoué"
    assert by_requirement["SC.MSS.17.MS1"][4] == "SC.MSS.17.MS1-P1"
    assert by_requirement["SC.DMP.03.MS1"][6] == "non couvert"
    csv_rows = to_csv(report).lstrip("\ufeff").splitlines()
    assert csv_rows[0].split(";") == list(COLUMNS) and len(csv_rows) == len(rows)


def test_html_report_speaks_french_severities_and_links_every_anchor(run, journal, store) -> None:
    import re

    text = to_html(build(run, journal, store))
    assert "avertissement" in text and "warning" not in text.lower().replace("ko line", "")
    anchors = set(re.findall(r"id='([^']+)'", text)) | set(re.findall(r'id="([^"]+)"', text))
    links = set(re.findall(r"href=['\"]#([^'\"]+)['\"]", text))
    assert links and links <= anchors, links - anchors
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "") and "https://" not in text


def test_severity_labels_are_french_and_values_unchanged() -> None:
    assert [s.label for s in Severity] == ["erreur", "avertissement", "information"]
    assert [str(s) for s in Severity] == ["error", "warning", "info"]


def test_rapport_command_formats_and_usage_errors(run, journal, tmp_path, capsys) -> None:
    from banc.cli import main

    base = ["rapport", run.id, "--journal", str(journal.path)]
    assert main([*base, "--masquer"]) == 2
    assert "--masquer ne s'applique qu'au paquet de preuves" in capsys.readouterr().err
    assert main(["rapport", "inconnue", "--journal", str(journal.path)]) == 2
    assert "exécution « inconnue » introuvable" in capsys.readouterr().err
    assert main([*base, "--format", "csv"]) == 0
    assert capsys.readouterr().out.lstrip("\ufeff").startswith("Profil;ID exigence;")
    target = tmp_path / "fiche.xlsx"
    assert main([*base, "--format", "xlsx", "--sortie", str(target)]) == 0
    assert load_workbook(target)["Preuves"].max_row == 1 + len(build(run, journal).requirements)
