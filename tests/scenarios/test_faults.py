"""Each fault profile of the reference DUI turns red exactly the requirements it breaks, in every
registered scenario together; the others stay passed (or are skipped because a step they need
failed). The table of docs/reference-dui.md is generated from the same data."""

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
from scenarios.reference_dui.faults import DOC, FAULTS, TABLE_END, TABLE_START, table

pytestmark = pytest.mark.slow


def test_documented_table_is_generated_from_the_faults() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text[text.index(TABLE_START) + len(TABLE_START):text.index(TABLE_END)].strip() == table(), (
        "table des défauts périmée : python -m scenarios.reference_dui.faults")


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("defauts"), pki_dir=pki.directory, ports={},
                     label="défauts") as running:
        yield running


def verdicts_with(bench: RunningBench, faults: tuple[str, ...]) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    driver = ReferenceDriver(faults)
    try:
        profile = driver.default_profile(bench.sheet)
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True),
                        planes=bench.planes(), timeout_scale=0.2)
        for scenario in registered_scenarios().values():
            for verdict in requirement_verdicts(runner.play(scenario, profile)):
                previous = outcomes.get(verdict.requirement)
                if previous is None or verdict.outcome is Outcome.FAILED:
                    outcomes[verdict.requirement] = verdict.outcome
    finally:
        driver.close()
    return outcomes


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_turns_red_exactly_what_it_breaks(bench: RunningBench, name: str) -> None:
    outcomes = verdicts_with(bench, (name,))
    red = {req for req, outcome in outcomes.items() if outcome is Outcome.FAILED}
    assert red == set(FAULTS[name].breaks), outcomes
    others = {outcome for req, outcome in outcomes.items() if req not in red}
    assert others <= {Outcome.PASSED, Outcome.SKIPPED}, outcomes
