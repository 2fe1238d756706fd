"""The "Demande d'intervention SSIAD" scenario against the reference DUI: it passes on observed
traffic; INSi really answered CR 01 and CR 02 to the searches that must leave an identity
provisional; the DMP saw the consultation and the web access for the run's usager; ten
correspondents were looked up in the Annuaire. Each fault turns red exactly its requirements
over every scenario (tests/scenarios/test_faults.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome
from banc.scenario.runs import Run
from banc.scenario.verdicts import requirement_verdicts
from scenarios import demande_ssiad
from scenarios.reference_dui.measure import play

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("demande"), pki_dir=pki.directory, ports={},
                     label="demande ssiad") as running:
        yield running


@pytest.fixture(scope="module")
def run(bench: RunningBench) -> Run:
    (played,) = play(bench, (demande_ssiad.SCENARIO,))
    return played


def _exchanges(bench: RunningBench, run: Run, step: str):
    return [bench.journal.get(i) for i in run.result(step).evidence]


def test_the_scenario_passes_on_observed_traffic(run: Run) -> None:
    for result in run.steps:
        assert result.outcome is Outcome.PASSED, (result.step, result.reason, result.findings)
    assert {v.outcome for v in requirement_verdicts(run)} == {Outcome.PASSED}
    assert set(demande_ssiad.SCENARIO.requirements()) >= {
        "SC.MSS.14.MS1", "SC.DMP.03.MS1", "SC.INS.27.MS1", "SC.MSS.25.MS1", "SC.MSS.26.MS1", "SC.MSS.18.MS1"}


def test_insi_answered_nobody_then_two_people_then_the_usager(bench: RunningBench, run: Run) -> None:
    codes = {step: [e.summary.get("cr") for e in _exchanges(bench, run, step)]
             for step in ("recherche-inconnu", "recherche-homonymes", "creation-usager")}
    assert codes == {"recherche-inconnu": ["01"], "recherche-homonymes": ["02"], "creation-usager": ["00"]}
    (found,) = _exchanges(bench, run, "creation-usager")
    assert found.summary["patient_ins"] == run.inputs["usager_ins"]


def test_the_dmp_saw_consultation_and_web_access_for_the_usager(bench: RunningBench, run: Run) -> None:
    seen = {(e.operation, e.summary.get("patient_ins")) for step in ("consultation-dmp", "acces-web-dmp")
            for e in _exchanges(bench, run, step)}
    ins = run.inputs["usager_ins"]
    assert seen == {("TD0.2", ins), ("TD3.1", ins), ("TD3.2", ins), ("TD0.9", ins)}


def test_ten_distinct_correspondents_were_looked_up(bench: RunningBench, run: Run) -> None:
    asked = {str(e.summary.get("query")) for n in range(1, 11) for e in _exchanges(bench, run, f"correspondant-{n}")}
    assert len(asked) == demande_ssiad.CORRESPONDENTS
    assert len({c["identifiant"] for c in run.inputs["correspondants"]}) == demande_ssiad.CORRESPONDENTS
