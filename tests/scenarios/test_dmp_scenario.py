"""The focused DMP scenario against the reference DUI: it passes with no fault, on DMP exchanges
the mock observed; each DMP fault of the reference DUI turns red exactly its requirements over
this scenario and the tour, for the reason the mock or the scenario names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome
from banc.scenario.verdicts import requirement_verdicts
from scenarios import dmp, tour
from scenarios.reference_dui.measure import play
from simulators.dmp_mock.models import DELETED, DEPRECATED

pytestmark = pytest.mark.slow

SCENARIOS = (dmp.SCENARIO, tour.SCENARIO)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("dmp-scenario"), pki_dir=pki.directory, ports={},
                     label="scénario dmp") as running:
        yield running


def test_the_dmp_scenario_passes_on_observed_dmp_exchanges(bench: RunningBench) -> None:
    (run,) = play(bench, (dmp.SCENARIO,))
    for result in run.steps:
        assert result.outcome is Outcome.PASSED, (result.step, result.reason, result.findings)
    by_step = {s.step: s for s in run.steps}
    for step in ("alimentation", "masquage", "visibilite", "remplacement", "archivage", "suppression"):
        assert by_step[step].evidence, step
        assert all(bench.journal.get(i).service == "dmp" for i in by_step[step].evidence)
    replaced = bench.journal.get(by_step["remplacement"].evidence[0])
    assert replaced.operation == "TD2.1" and replaced.summary["remplace"]
    assert run.inputs["document_v2"] != run.inputs["document_v1"]
    deleted = bench.journal.get(by_step["suppression"].evidence[0])
    assert deleted.summary["modifications"] == [f"TD3.3c.supprimer {run.inputs['document_v2']}"]
    store = bench.mocks["dmp"].store
    assert store.document(unique_id=run.inputs["document_v1"]).status == DEPRECATED
    assert store.document(unique_id=run.inputs["document_v2"]).status == DELETED
    assert {v.outcome for v in requirement_verdicts(run)} == {Outcome.PASSED}
