"""Scenario « Retour à domicile après hospitalisation » against the reference DUI: every step
passes on observed traffic with no fault; each fault of the receiving/sending side turns red
exactly the requirements it breaks (over this scenario and the tour)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome
from banc.scenario.verdicts import requirement_verdicts
from scenarios import retour_domicile
from scenarios.reference_dui.measure import play

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("retour"), pki_dir=pki.directory, ports={},
                     label="retour à domicile") as running:
        yield running


def test_scenario_passes_against_the_reference_dui(bench: RunningBench) -> None:
    (run,) = play(bench, (retour_domicile.SCENARIO,))
    for result in run.steps:
        assert result.outcome is Outcome.PASSED, (result.step, result.reason, result.findings)
        for exchange_id in result.evidence:
            assert bench.journal.get(exchange_id).dui == "dui-reference"
    assert {v.outcome for v in requirement_verdicts(run)} == {Outcome.PASSED}
