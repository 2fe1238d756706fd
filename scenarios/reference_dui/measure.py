"""Measuring what each fault profile turns red: the same code for the test and for the table.

`play` has one reference DUI (with faults) play scenarios on a running bench; `red_and_others`
reads the requirement verdicts; `failure_text` is what the failed steps say. The fault test
(`tests/scenarios/test_faults.py`) asserts with them that each fault turns red exactly its
`breaks` and names its mistake (`says`); `python -m scenarios.reference_dui.measure [FAULT…]`
starts a bench, measures, and prints what `faults.py` should declare when a scenario changes.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome, Scenario
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import Run
from banc.scenario.verdicts import registered_scenarios, requirement_verdicts
from scenarios.reference_dui import ReferenceDriver
from scenarios.reference_dui.faults import FAULTS

CLEAN = frozenset({Outcome.PASSED, Outcome.SKIPPED, Outcome.OMITTED})
"""What the requirements a fault does not break may be: passed, skipped after a failed step, or
omitted (a PEUT function the reference DUI does not offer)."""


def play(bench: RunningBench, scenarios: Iterable[Scenario], faults: tuple[str, ...] = (),
         timeout_scale: float = 0.2) -> list[Run]:
    """One reference DUI (with `faults`) plays each scenario in turn, timeouts scaled down."""
    from banc.cli.run import register_everywhere

    driver = ReferenceDriver(faults)
    try:
        profile = driver.default_profile(bench.sheet)
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(quiet=True),
                        planes=bench.planes(), timeout_scale=timeout_scale)
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


def main(names: list[str]) -> int:
    from banc.cli.console import quiet_third_party

    quiet_third_party()
    scenarios = list(registered_scenarios().values())
    with tempfile.TemporaryDirectory() as folder, start_bench(
            data_dir=Path(folder), ports={}, label="mesure des défauts") as bench:
        for name in names or list(FAULTS):
            runs = play(bench, scenarios, (name,))
            red, others, _ = red_and_others(runs)
            declared = set(FAULTS[name].breaks)
            mark = "=" if red == declared and others <= CLEAN else "≠"
            print(f"{mark} {name}: {tuple(sorted(red))}"
                  + ("" if mark == "=" else f"  (déclaré : {tuple(sorted(declared))}, autres : "
                                             f"{sorted(str(o) for o in others)})"), flush=True)
            if mark != "=":
                print(f"    {failure_text(runs)[:600]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
