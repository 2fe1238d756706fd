"""Scenario « Retour à domicile après hospitalisation » against the reference DUI: every step
passes on observed traffic with no fault; each fault of the receiving/sending side turns red
exactly the requirements it breaks (over this scenario and the tour)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.cli.run import register_everywhere
from banc.scenario.model import Outcome, Scenario
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import Run
from banc.scenario.verdicts import requirement_verdicts
from scenarios import retour_domicile, tour
from scenarios.reference_dui import ReferenceDriver
from scenarios.reference_dui.faults import FAULTS

pytestmark = pytest.mark.slow
SCENARIOS = (retour_domicile.SCENARIO, tour.SCENARIO)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("retour"), pki_dir=pki.directory, ports={},
                     label="retour à domicile") as running:
        yield running


def play(bench: RunningBench, scenarios: tuple[Scenario, ...], faults: tuple[str, ...] = ()) -> list[Run]:
    driver = ReferenceDriver(faults)
    try:
        profile = driver.default_profile(bench.sheet)
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True),
                        planes=bench.planes(), timeout_scale=0.2)
        return [runner.play(scenario, profile) for scenario in scenarios]
    finally:
        driver.close()


def test_scenario_passes_against_the_reference_dui(bench: RunningBench) -> None:
    (run,) = play(bench, (retour_domicile.SCENARIO,))
    for result in run.steps:
        assert result.outcome is Outcome.PASSED, (result.step, result.reason, result.findings)
        for exchange_id in result.evidence:
            assert bench.journal.get(exchange_id).dui == "dui-reference"
    assert {v.outcome for v in requirement_verdicts(run)} == {Outcome.PASSED}


MINE = ("sans-en-tetes-xmss", "sans-accuse-lecture", "envoi-malgre-refus", "ignore-remplacement-entrant",
        "rattachement-sans-verification", "sans-feuille-de-style", "sans-mentions-rgpd")
EARLIER = ("insi-mauvaise-authentification", "vihf-non-signe", "oid-ins-faux", "sans-destinataire",
           "sans-datamatrix", "sans-xdm")


def red_and_others(runs: list[Run]) -> tuple[set[str], dict[str, Outcome]]:
    outcomes: dict[str, Outcome] = {}
    for run in runs:
        for verdict in requirement_verdicts(run):
            if outcomes.get(verdict.requirement) is not Outcome.FAILED:
                outcomes[verdict.requirement] = verdict.outcome
    return {r for r, o in outcomes.items() if o is Outcome.FAILED}, outcomes


@pytest.mark.parametrize("name", [*MINE, *EARLIER])
def test_fault_turns_red_exactly_what_it_breaks_here(bench: RunningBench, name: str) -> None:
    runs = play(bench, SCENARIOS, (name,))
    red, outcomes = red_and_others(runs)
    cited = {req for scenario in SCENARIOS for req in scenario.requirements()}
    failed = [(s.step, s.reason[:160]) for run in runs for s in run.steps if s.outcome is Outcome.FAILED]
    assert red == set(FAULTS[name].breaks) & (cited | red), (sorted(red), failed)
    assert {o for r, o in outcomes.items() if r not in red} <= {Outcome.PASSED, Outcome.SKIPPED}, outcomes
    reasons = " ".join(f.message for run in runs for s in run.steps for f in s.findings if f.is_error)
    assert reasons, "aucune anomalie nommée"
