"""An import as a run: the captured exchanges become the steps of an execution, so the run
reports, the referencing sheet and the evidence pack of `banc rapport` work on a capture exactly
as on a scenario run.

One step per captured exchange, in capture order: its evidence is the journal exchange, its
findings the mock's on the replayed request, its requirements those the findings cite plus
those a conform exchange of that operation proves (`PROVES`: a TD2.1 accepted with its VIHF is
the referencing file's "Message SOAP contenant le jeton VIHF", checked automatically). An
exchange that was classified but not replayed (Annuaire, PSC) is "non évalué", with the reason.
"""

from __future__ import annotations

from banc.capture.classify import describe
from banc.capture.replay import Imported
from banc.dui import DuiProfile
from banc.journal import Journal
from banc.scenario.model import Outcome
from banc.scenario.runs import FINISHED, Run, RunStore, StepResult

SCENARIO = "capture"
TITLE = "Trafic capturé d'un DUI (import hors ligne)"

PROVES: dict[tuple[str, str], tuple[str, ...]] = {
    ("dmp", "TD2.1"): ("SC.DMP.01.MS1", "SC.DMP.04.MS1"),
    ("dmp", "TD3.3"): ("SC.DMP.02.MS1",),
    ("dmp", "TD0.9"): ("SC.DMP.03.MS1",),
    ("insi", "rechercherInsAvecTraitsIdentite"): ("SC.INS.27.MS1",),
    ("insi", "rechercherInsAvecCarteVitale"): ("SC.INS.27.MS1",),
}
"""Requirements a conform exchange of an operation is evidence for (DSR MS1 texts: feed the DMP
with a VIHF, manage the documents fed, open the DMP in context, call INSi with the right
authentication)."""


def _step(position: int, item: Imported) -> StepResult:
    exchange = item.exchange
    service, operation = exchange.service, exchange.operation or ""
    cited = [r for f in exchange.findings if f.is_error for r in f.requirements]
    requirements = tuple(dict.fromkeys([*PROVES.get((service, operation), ()), *cited]))
    if not item.judged:
        outcome = Outcome.NOT_EVALUATED
        reason = next((f.message for f in exchange.findings), "échange classé mais pas rejoué hors ligne")
    elif exchange.conform:
        outcome, reason = Outcome.PASSED, ""
    else:
        first = next(f for f in exchange.findings if f.is_error)
        outcome, reason = Outcome.FAILED, f"{first.rule_id} : {first.message}"
    when = exchange.started_at
    return StepResult(
        step=f"{position:03d}-{operation or service}", title=describe(service, operation), kind="capture",
        outcome=outcome, requirements=requirements, reason=reason,
        evidence=(exchange.id,) if exchange.id is not None else (),
        findings=[f for f in exchange.findings if f.is_error], started_at=when, ended_at=when, position=position)


def record_run(imported: list[Imported], journal: Journal, profile: DuiProfile, *, files: list[str],
               session: str | None = None) -> Run:
    """The import recorded as a finished run of the DUI (`banc rapport RUN` then works on it)."""
    store = RunStore(journal)
    run = store.create(SCENARIO, profile.name, "capture", {"titre": TITLE, "captures": files}, session)
    for position, item in enumerate(imported, 1):
        result = _step(position, item)
        store.save_step(run, result)
        run.steps.append(result)
    store.set_status(run, FINISHED)
    run.status = FINISHED
    return run
