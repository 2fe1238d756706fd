"""The tour, played by the reference DUI through the scenario engine against the five mocks:
every step passes on observed traffic; a misbehaving or missing service fails its step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.cli.run import register_everywhere
from banc.scenario.model import Outcome
from banc.scenario.runner import Console, Runner
from banc.scenario.verdicts import requirement_verdicts
from scenarios import tour
from scenarios.reference_dui import ReferenceDriver, reference_profile

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    folder = tmp_path_factory.mktemp("tour")
    with start_bench(data_dir=folder, pki_dir=pki.directory, ports={}, label="tour") as running:
        register_everywhere(reference_profile(running.sheet), running.journal, running.sheet,
                            running.planes())
        yield running


def _play(bench: RunningBench, scenario=tour.SCENARIO):
    driver = ReferenceDriver()
    try:
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True),
                        planes=bench.planes(), timeout_scale=0.2)
        return runner.play(scenario, driver.default_profile(bench.sheet))
    finally:
        driver.close()


def test_every_step_passes_on_observed_exchanges(bench: RunningBench) -> None:
    run = _play(bench)
    for result in run.steps:
        assert result.outcome is Outcome.PASSED, (result.step, result.reason, result.findings)
        assert result.evidence, result.step
        for exchange_id in result.evidence:
            exchange = bench.journal.get(exchange_id)
            assert exchange.dui == "dui-reference" and exchange.run == run.id
    assert {v.outcome for v in requirement_verdicts(run)} == {Outcome.PASSED}


def test_a_misbehaving_service_fails_its_step_and_skips_what_needs_it(bench: RunningBench) -> None:
    usager = next(i for i in tour.cnam_test_identities() if (i.birth_name, i.first_name) == tour.USAGER)
    bench.mocks["insi"].identities.remove(usager.ins)  # INSi now answers "no identity" (CR 01)
    try:
        run = _play(bench)
    finally:
        bench.mocks["insi"].identities.add(usager)
    outcomes = {r.step: r.outcome for r in run.steps}
    assert outcomes["insi-traits"] is Outcome.FAILED
    assert outcomes["dmp-alimentation"] is Outcome.SKIPPED
    verdicts = {v.requirement: v.outcome for v in requirement_verdicts(run)}
    assert verdicts["SC.INS.26.MS1"] is Outcome.FAILED
