"""Each fault profile of the reference DUI turns red exactly the requirements it breaks, over
every registered scenario together, for the right reason (its `says` is in the failure); the
other requirements stay passed (or are skipped because a step they need failed). The table of
docs/reference-dui.md is generated from the same data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.verdicts import registered_scenarios
from scenarios.reference_dui.faults import DOC, FAULTS, TABLE_END, TABLE_START, table
from scenarios.reference_dui.measure import CLEAN, failure_text, play, red_and_others

pytestmark = pytest.mark.slow


def test_documented_table_is_generated_from_the_faults() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text[text.index(TABLE_START) + len(TABLE_START):text.index(TABLE_END)].strip() == table(), (
        "table des défauts périmée : python -m scenarios.reference_dui.faults")


def test_every_fault_says_what_it_breaks() -> None:
    assert all(f.breaks and f.says for f in FAULTS.values()), [n for n, f in FAULTS.items() if not f.says]


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("defauts"), pki_dir=pki.directory, ports={},
                     label="défauts") as running:
        yield running


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_turns_red_exactly_what_it_breaks(bench: RunningBench, name: str) -> None:
    runs = play(bench, registered_scenarios().values(), (name,))
    red, others, outcomes = red_and_others(runs)
    assert red == set(FAULTS[name].breaks), (outcomes, failure_text(runs)[:2000])
    assert others <= CLEAN, outcomes
    assert FAULTS[name].says.lower() in failure_text(runs).lower(), failure_text(runs)[:2000]
