"""From a run to requirement verdicts, and from the scenario definitions to the coverage matrix.

A requirement's verdict in a run combines the outcomes of every step that declares it (or whose
error findings cite it): one failed step fails it — when its errors cite the requirement (a
step judging one message for several requirements fails only those its errors cite: missing
X-MSS headers fail SC.MSS.17.MS1, not the document's SC.DOC.04.MS1 checked on the same
message), or when it failed without a finding; a step that could not be judged (skipped, not evaluated) leaves it not
evaluated; a manual proof awaited or attached is said as such; it is passed only when every
step that verifies it passed. Omitted steps do not count, unless all are omitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import entry_points

from banc.requirements import catalogue
from banc.scenario.model import ManualProof, Outcome, Scenario
from banc.scenario.runs import Run

SCENARIO_GROUP = "banc.scenarios"

_PRECEDENCE = (
    Outcome.FAILED,
    Outcome.NOT_EVALUATED,
    Outcome.SKIPPED,
    Outcome.AWAITING_PROOF,
    Outcome.PROOF_ATTACHED,
    Outcome.PASSED,
)


@dataclass(frozen=True)
class RequirementVerdict:
    requirement: str
    outcome: Outcome
    steps: tuple[str, ...]
    """Ids of the steps that verify it in this run."""
    evidence: tuple[int, ...]


def requirement_verdicts(run: Run) -> list[RequirementVerdict]:
    """Verdict of every requirement a step declares, and of every requirement an error
    finding of a failed step cites (a document refused for its missing recipients fails
    SC.DOC.04.MS1 too, not only the feed step's own requirement)."""
    by_requirement: dict[str, list] = {}
    for result in run.steps:
        cited = [r for f in result.findings if f.is_error for r in f.requirements]
        for requirement in dict.fromkeys((*result.requirements, *cited)):
            by_requirement.setdefault(requirement, []).append(result)
    verdicts = []
    for requirement, results in by_requirement.items():
        counted = [outcome_for(requirement, r) for r in results if r.outcome is not Outcome.OMITTED]
        outcome = Outcome.OMITTED if not counted else next(o for o in _PRECEDENCE if o in counted)
        verdicts.append(RequirementVerdict(
            requirement, outcome, tuple(r.step for r in results),
            tuple(sorted({e for r in results for e in r.evidence}))))
    return sorted(verdicts, key=lambda v: v.requirement)


def outcome_for(requirement: str, result) -> Outcome:
    """A step's outcome as far as one of its requirements goes (reports use it per
    requirement × step, the verdicts combine it over the steps)."""
    if result.outcome is not Outcome.FAILED:
        return result.outcome
    errors = [f for f in result.findings if f.is_error]
    if not errors or any(requirement in f.requirements or not f.requirements for f in errors):
        return Outcome.FAILED
    return Outcome.PASSED  # the step failed for other requirements' errors only


class Coverage(StrEnum):
    AUTOMATED = "automatisé"
    MANUAL = "preuve manuelle"
    NOT_COVERED = "non couvert"


@dataclass(frozen=True)
class CoverageRow:
    requirement: str
    level: str
    summary: str
    coverage: Coverage
    scenarios: tuple[str, ...]


def coverage_matrix(scenarios: Iterable[Scenario]) -> list[CoverageRow]:
    """Each catalogue requirement: verified by an automated step, only by manual proofs, or by
    nothing. Requirements cited by scenarios but absent from the catalogue are listed too."""
    automated: dict[str, set[str]] = {}
    manual: dict[str, set[str]] = {}
    for scenario in scenarios:
        for step in scenario.steps:
            target = manual if isinstance(step, ManualProof) else automated
            for requirement in step.requirements:
                target.setdefault(requirement, set()).add(scenario.id)
    known = catalogue()
    rows = []
    for requirement in sorted(set(known) | set(automated) | set(manual)):
        entry = known.get(requirement)
        if requirement in automated:
            coverage, where = Coverage.AUTOMATED, automated[requirement] | manual.get(requirement, set())
        elif requirement in manual:
            coverage, where = Coverage.MANUAL, manual[requirement]
        else:
            coverage, where = Coverage.NOT_COVERED, set()
        rows.append(CoverageRow(requirement, entry.level if entry else "?",
                                entry.summary if entry else "(absente du catalogue)",
                                coverage, tuple(sorted(where))))
    return rows


def registered_scenarios() -> dict[str, Scenario]:
    """Scenarios declared under the entry point group `banc.scenarios` (id → scenario)."""
    found: dict[str, Scenario] = {}
    for ep in entry_points(group=SCENARIO_GROUP):
        scenario = ep.load()
        if isinstance(scenario, Scenario):
            found[scenario.id] = scenario
    return dict(sorted(found.items()))
