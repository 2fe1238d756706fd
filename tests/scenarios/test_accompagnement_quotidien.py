"""The "Accompagnement quotidien" scenario against the reference DUI: it passes with no fault on
observed traffic; each fault of the reference DUI turns red exactly its requirements over this
scenario and the tour, for the reason the mock or the scenario names; the dashboard check is
a real comparison with the simulators' journal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome
from banc.scenario.verdicts import requirement_verdicts
from scenarios import accompagnement_quotidien as quotidien
from scenarios import tour
from scenarios.reference_dui.measure import play

pytestmark = pytest.mark.slow

SCENARIOS = (quotidien.SCENARIO, tour.SCENARIO)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("quotidien"), pki_dir=pki.directory, ports={},
                     label="accompagnement quotidien") as running:
        yield running


def test_the_scenario_passes_on_observed_traffic(bench: RunningBench) -> None:
    (run,) = play(bench, (quotidien.SCENARIO,))
    for result in run.steps:  # the agenda dashboard is a PEUT the reference DUI does not offer
        expected = Outcome.OMITTED if result.step == "tableau-de-bord-agenda" else Outcome.PASSED
        assert result.outcome is expected, (result.step, result.reason, result.findings)
    by_step = {s.step: s for s in run.steps}
    services = {bench.journal.get(i).service for i in by_step["remplacement"].evidence}
    assert services == {"dmp", "mssante"}
    verdicts = {v.requirement: v.outcome for v in requirement_verdicts(run)}
    assert verdicts.pop("SC.TBB.02.MS1") is Outcome.OMITTED
    assert set(verdicts.values()) == {Outcome.PASSED}
    assert set(quotidien.SCENARIO.requirements()) >= {
        "SC.DMP.02.MS1", "SC.MSS.20.MS1", "SC.DOC.01.MS1", "SC.DOC.02.MS1", "SC.TBB.01.MS1"}


def test_the_dashboard_check_compares_what_grew_during_the_run_with_its_traffic(bench: RunningBench) -> None:
    (run,) = play(bench, (quotidien.SCENARIO,))
    context = type("Context", (), {})()
    context.journal, context.values = bench.journal, dict(run.inputs)
    context.dui = type("Dui", (), {"name": run.dui, "structure_id": "999"})()
    context.run = run
    counted = quotidien.traffic_counts(context)
    assert counted["dmp"] and counted["mssante"]
    history = {"total": 40, "par_finess": {"999": 40}, "par_rpps": {"810000000001": 40}}  # the DUI's past
    context.values["tableau_initial_dmp"] = history
    context.values["tableau_initial_mssante"] = {"total": 0, "par_finess": {}, "par_rpps": {}}
    rpps = dict(Counter(r for _, r in counted["dmp"]))
    one_less = {"total": 40 + len(counted["dmp"]) - 1, "par_finess": {"999": 40 + len(counted["dmp"]) - 1},
                "par_rpps": {"810000000001": 40, **rpps}}
    findings = quotidien.dashboard_matches_traffic({"dmp": one_less}, context)
    messages = " ".join(f.message for f in findings)
    assert f"a augmenté de {len(counted['dmp']) - 1}, les simulateurs en ont reçu {len(counted['dmp'])}" in messages
    assert "sans comptes « mssante »" in messages
    assert all(f.requirements == quotidien.REQ_DASHBOARD for f in findings)
    exact = {**one_less, "total": one_less["total"] + 1, "par_finess": {"999": 40 + len(counted["dmp"])}}
    assert not quotidien.dashboard_matches_traffic(
        {"dmp": exact, "mssante": {"total": len(counted["mssante"]),
                                   "par_finess": {"999": len(counted["mssante"])},
                                   "par_rpps": dict(Counter(r for _, r in counted["mssante"]))}}, context)
