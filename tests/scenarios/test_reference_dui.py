"""Every registered scenario passes against the reference DUI with no fault, through its
automation endpoint (the `reference` driver is the `http` driver aimed at it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.cli.run import register_everywhere
from banc.scenario.model import Outcome
from banc.scenario.runner import Console, Runner
from banc.scenario.verdicts import registered_scenarios, requirement_verdicts
from scenarios.reference_dui import ReferenceDriver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("reference"), pki_dir=pki.directory, ports={},
                     label="dui de référence") as running:
        yield running


@pytest.mark.parametrize("scenario_id", sorted(registered_scenarios()))
def test_scenario_passes_against_the_reference_dui(bench: RunningBench, scenario_id: str) -> None:
    scenario, driver = registered_scenarios()[scenario_id], ReferenceDriver()
    try:
        profile = driver.default_profile(bench.sheet)
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        run = Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True),
                     planes=bench.planes(), timeout_scale=0.2).play(scenario, profile)
    finally:
        driver.close()
    optional = {s.id for s in scenario.steps if s.feature and s.feature not in profile.features}
    for result in run.steps:
        expected = Outcome.OMITTED if result.step in optional else Outcome.PASSED  # a PEUT function not offered
        assert result.outcome is expected, (result.step, result.reason, result.findings)
        for exchange in map(bench.journal.get, result.evidence):
            if exchange.operation not in ("mdn", "dsn"):  # a simulated correspondent's receipt is nobody's DUI's
                assert exchange.dui == profile.name, (result.step, exchange.operation)
    omitted = {r for s in scenario.steps if s.id in optional for r in s.requirements}
    verdicts = {v.requirement: v.outcome for v in requirement_verdicts(run)}
    assert {o for r, o in verdicts.items() if r not in omitted} == {Outcome.PASSED}, verdicts
    assert {verdicts[r] for r in omitted} <= {Outcome.OMITTED}, verdicts
