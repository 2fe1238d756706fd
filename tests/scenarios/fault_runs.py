"""Playing scenarios against the reference DUI with faults, and reading the red requirements:
shared by the scenario test modules that assert each fault's exact red set."""

from __future__ import annotations

from banc.bench import RunningBench
from banc.cli.run import register_everywhere
from banc.scenario.model import Outcome, Scenario
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import Run
from banc.scenario.verdicts import requirement_verdicts
from scenarios.reference_dui import ReferenceDriver


def play(bench: RunningBench, scenarios: tuple[Scenario, ...], faults: tuple[str, ...] = ()) -> list[Run]:
    """One reference DUI (with `faults`) plays each scenario in turn, timeouts scaled down."""
    driver = ReferenceDriver(faults)
    try:
        profile = driver.default_profile(bench.sheet)
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True),
                        planes=bench.planes(), timeout_scale=0.2)
        return [runner.play(scenario, profile) for scenario in scenarios]
    finally:
        driver.close()


def red_and_others(runs: list[Run]) -> tuple[set[str], set[Outcome], dict[str, Outcome]]:
    """Requirements failed in any run, the outcomes of all the others, and every verdict."""
    outcomes: dict[str, Outcome] = {}
    for run in runs:
        for verdict in requirement_verdicts(run):
            if outcomes.get(verdict.requirement) is not Outcome.FAILED:
                outcomes[verdict.requirement] = verdict.outcome
    red = {r for r, o in outcomes.items() if o is Outcome.FAILED}
    return red, {o for r, o in outcomes.items() if r not in red}, outcomes


def failure_text(runs: list[Run]) -> str:
    """What the failed steps say (reasons and error findings), to check a fault is named."""
    return " | ".join(f"{s.step}: {s.reason} " + " ".join(f.message for f in s.findings if f.is_error)
                      for run in runs for s in run.steps if s.outcome is Outcome.FAILED)
