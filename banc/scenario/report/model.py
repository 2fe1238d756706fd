"""What every report of a run reads: the run, its steps with the exchanges each one saw, the
verdict of every catalogue requirement, the manual proofs and the versions that judged.

Built once from the run store and the journal (`build`), then rendered as HTML, JSON, JUnit,
a referencing sheet or an evidence pack, so all of them say the same thing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from banc.dui import DuiProfile
from banc.journal import Exchange, Journal
from banc.report.versions import ans_package_version, bench_version
from banc.requirements import catalogue
from banc.scenario.model import Outcome
from banc.scenario.runs import Run, RunStore, StepResult
from banc.scenario.verdicts import registered_scenarios, requirement_verdicts
from banc.verdict import Finding

PASSED, FAILED, MANUAL, NOT_EVALUATED, NOT_COVERED = (
    "réussi", "échoué", "preuve manuelle attendue", "non évalué", "non couvert")
CATEGORIES = (PASSED, FAILED, MANUAL, NOT_EVALUATED, NOT_COVERED)
"""The five answers a vendor reads for each catalogue requirement, in the summary's order."""

_CATEGORY = {
    Outcome.PASSED: PASSED,
    Outcome.FAILED: FAILED,
    Outcome.AWAITING_PROOF: MANUAL,
    Outcome.PROOF_ATTACHED: MANUAL,
    Outcome.NOT_EVALUATED: NOT_EVALUATED,
    Outcome.SKIPPED: NOT_EVALUATED,
    Outcome.OMITTED: NOT_COVERED,
}

SERVICE_ACTORS = {"psc": "PSC", "annuaire": "Annuaire", "insi": "INSi", "dmp": "DMP",
                  "mssante": "MSSanté"}
ACTORS = ("DUI", "PSC", "Annuaire", "INSi", "DMP", "MSSanté")
"""Lanes of every sequence diagram, in this order; the bench's simulated actors follow."""

_SIMULATED_CLIENTS = {"correspondant": "Correspondant (simulé)", "patient.reponse": "Usager (simulé)"}
_SERVER_SENT = {"mdn", "dsn"}
"""MSSanté operations where the mock itself sends (a receipt) rather than answers a client."""


def category(outcome: Outcome | None) -> str:
    return NOT_COVERED if outcome is None else _CATEGORY[outcome]


@dataclass(frozen=True)
class RequirementRow:
    requirement: str
    level: str
    summary: str
    outcome: Outcome | None
    """None: no step of this run verifies it."""
    steps: tuple[str, ...] = ()
    evidence: tuple[int, ...] = ()

    @property
    def category(self) -> str:
        return category(self.outcome)

    @property
    def shown(self) -> str:
        """The outcome as said to the reader (`omis` stays visible as such inside "non couvert")."""
        if self.outcome is None:
            return NOT_COVERED
        if self.outcome is Outcome.OMITTED:
            return "non couvert (omis : non applicable au profil)"
        return str(self.outcome)


@dataclass(frozen=True)
class Arrow:
    """One exchange as the sequence diagram draws it: who called whom."""

    exchange: Exchange
    source: str
    target: str


@dataclass
class StepView:
    result: StepResult
    arrows: list[Arrow] = field(default_factory=list)
    proofs: list[dict] = field(default_factory=list)

    @property
    def evidence(self) -> set[int]:
        return set(self.result.evidence)

    def findings_of(self, exchange_id: int) -> list[Finding]:
        """The step's findings citing this exchange (`journal:ID`), beside it in the report."""
        tag = f"journal:{exchange_id}"
        return [f for f in self.result.findings if tag in f.evidence]

    def unplaced_findings(self) -> list[Finding]:
        """Findings that cite no exchange of this step (nothing observed, a result check…)."""
        shown = {f"journal:{a.exchange.id}" for a in self.arrows}
        return [f for f in self.result.findings if not shown & set(f.evidence)]


@dataclass
class RunReport:
    run: Run
    scenario_title: str
    scenario_profile: str
    requirements: list[RequirementRow]
    steps: list[StepView]
    proofs: list[dict]
    profile: DuiProfile | None
    bench_version: str
    ans_version: str
    generated_at: float = field(default_factory=time.time)

    def counts(self) -> dict[str, int]:
        return {c: sum(r.category == c for r in self.requirements) for c in CATEGORIES}

    def exchanges(self) -> list[Exchange]:
        """Every exchange shown in the report, once, in journal order."""
        seen: dict[int, Exchange] = {}
        for step in self.steps:
            for arrow in step.arrows:
                seen.setdefault(arrow.exchange.id or 0, arrow.exchange)
        return [seen[k] for k in sorted(seen)]

    @property
    def conform(self) -> bool:
        """Every requirement the run judged passed (nothing failed, awaited or unjudged)."""
        judged = [r for r in self.requirements if r.outcome not in (None, Outcome.OMITTED)]
        return bool(judged) and all(r.outcome is Outcome.PASSED for r in judged)


def requirement_rows(run: Run) -> list[RequirementRow]:
    """Every catalogue requirement (not covered when no step verifies it), then any id a step
    cites that the catalogue lacks."""
    verdicts = {v.requirement: v for v in requirement_verdicts(run)}
    known = catalogue()
    rows = []
    for requirement in [*known, *sorted(set(verdicts) - set(known))]:
        entry, verdict = known.get(requirement), verdicts.get(requirement)
        rows.append(RequirementRow(
            requirement, entry.level if entry else "?",
            entry.summary if entry else "(absente du catalogue)",
            verdict.outcome if verdict else None,
            verdict.steps if verdict else (), verdict.evidence if verdict else ()))
    return rows


def actors_of(exchange: Exchange) -> tuple[str, str]:
    """(caller, called) of an exchange: the DUI when the journal attributed it to the DUI, a
    simulated actor of the bench for the mocks' own traffic (a correspondent's mail, a receipt)."""
    service = SERVICE_ACTORS.get(exchange.service, exchange.service)
    if exchange.service == "mssante" and exchange.operation in _SERVER_SENT:
        return service, "DUI" if exchange.dui else "Correspondant (simulé)"
    if exchange.dui:
        return "DUI", service
    return _SIMULATED_CLIENTS.get(exchange.operation, "Banc (simulateurs)"), service


def run_window(journal: Journal, run: Run) -> dict[int, Exchange]:
    """The run's exchanges and the mocks' own traffic recorded among them (no run), read once
    and bounded by the run's first and last exchange ids — a long `banc demarrer` session holds
    many other runs' exchanges, with their bodies."""
    found = {e.id or 0: e for e in journal.exchanges(run=run.id)}
    ids = [*found, *(i for result in run.steps for i in result.evidence)]
    if not ids:
        return found
    first, last = min(ids), max(ids)
    if run.session:
        for exchange in journal.exchanges(session=run.session, since_id=first - 1, limit=last - first + 1):
            if exchange.run in (run.id, None):
                found[exchange.id or 0] = exchange
    for exchange_id in ids:
        if exchange_id not in found and (exchange := journal.get(exchange_id)) is not None:
            found[exchange_id] = exchange
    return found


def step_exchanges(window: dict[int, Exchange], result: StepResult) -> list[Exchange]:
    """The exchanges a step saw: its evidence, plus every exchange of the run's window recorded
    while it was played (the DUI's other calls, the mocks' own traffic)."""
    chosen = {i for i, e in window.items() if result.started_at <= e.started_at <= result.ended_at}
    chosen |= {i for i in result.evidence if i in window}
    return [window[i] for i in sorted(chosen)]


def build(run: Run, journal: Journal | None = None, store: RunStore | None = None) -> RunReport:
    scenario = registered_scenarios().get(run.scenario)
    proofs = store.proofs(run.id) if store else []
    window = run_window(journal, run) if journal else {}
    steps = []
    for result in run.steps:
        exchanges = step_exchanges(window, result)
        steps.append(StepView(result, [Arrow(e, *actors_of(e)) for e in exchanges],
                              [p for p in proofs if p["step"] == result.step]))
    return RunReport(
        run=run,
        scenario_title=scenario.title if scenario else str(run.inputs.get("titre") or run.scenario),
        scenario_profile=scenario.profile if scenario else "",
        requirements=requirement_rows(run),
        steps=steps,
        proofs=proofs,
        profile=journal.dui(run.dui) if journal else None,
        bench_version=bench_version(),
        ans_version=ans_package_version(),
    )
