"""The runner: plays a scenario's steps against one DUI through a driver, stores the run.

For each step, in order: not applicable to the DUI's structure type → omitted; a required step
did not pass → skipped (saying which); then the step is played and judged from the journal
(`banc.scenario.judge`). Results are stored as each step ends (`RunStore`), so `resume` picks
up a run after a manual proof or an interruption. The DUI's exchanges are tied to the run by
the journal (`Journal.set_active_run`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from banc.control import ControlError, ControlPlane, act
from banc.dui import DuiProfile
from banc.journal import Journal
from banc.scenario.drivers import ActionState, Driver, DriverError
from banc.scenario.judge import RULES, judge, observe
from banc.scenario.model import (
    AnyStep,
    BenchActs,
    DuiActs,
    Expect,
    Expectation,
    ManualProof,
    Outcome,
    Scenario,
    fill,
    kind_of,
)
from banc.scenario.runs import FINISHED, INTERRUPTED, RUNNING, WAITING, Run, RunStore, StepResult
from banc.sheet import BenchSheet

POLL_SECONDS = 0.2
GRACE_SECONDS = 1.5
"""After the driver says the DUI is done, late exchanges (a journal write in another process)
still count for this long."""


class Console:
    """What the runner tells the operator, in French; quiet=True for tests and notebooks."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self._last_countdown = 0.0

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def step(self, number: int, total: int, step: AnyStep) -> None:
        self.say(f"[{number}/{total}] {step.title} ({kind_of(step)}) — exigences : "
                 f"{', '.join(step.requirements) or 'aucune'}")

    def instruction(self, step: DuiActs, text: str, interactive: bool) -> None:
        self.say(f"  ➜ À FAIRE DANS LE DUI : {text}")
        if interactive:
            self.say("    (le banc attend les échanges ; tapez « fait » quand c'est fait, "
                     "ou « impossible <raison> »)")

    def proof_request(self, step: ManualProof, text: str, interactive: bool) -> None:
        self.say(f"  ➜ PREUVE MANUELLE : {text}")
        self.say("    Chemin du fichier (vide : plus tard) :" if interactive else
                 f"    À joindre ensuite : banc preuve <exécution> {step.id} FICHIER")

    def countdown(self, label: str, remaining: float) -> None:
        now = time.monotonic()
        if self.quiet or now - self._last_countdown < 5.0:
            return
        self._last_countdown = now
        self.say(f"    … en attente de {label} : encore {remaining:.0f} s")

    def result(self, result: StepResult) -> None:
        mark = {"réussi": "✔", "échoué": "✘"}.get(str(result.outcome), "•")
        detail = f" — {result.reason}" if result.reason else ""
        self.say(f"  {mark} {result.outcome}{detail}")
        for finding in result.findings:
            if finding.is_error:
                self.say(f"      {finding.rule_id} : {finding.message}")


@dataclass
class RunContext:
    """What a step needs while it is played."""

    journal: Journal
    sheet: BenchSheet
    dui: DuiProfile
    run: Run
    driver: Driver
    console: Console
    values: dict[str, Any] = field(default_factory=dict)
    planes: Mapping[str, ControlPlane] = field(default_factory=dict)
    """In-process control planes by service; others are reached through the sheet."""
    timeout_scale: float = 1.0

    def fill(self, template: Any) -> Any:
        return fill(template, self.values)

    def control(self, service: str) -> ControlPlane:
        if service in self.planes:
            return self.planes[service]
        return self.sheet.control(service)  # type: ignore[return-value]

    def act(self, service: str, action: str, **params: Any) -> dict:
        plane = self.control(service)
        if hasattr(plane, "act"):
            return plane.act(action, **params)  # ControlClient
        return act(plane, action, **params)


class Runner:
    """Plays scenarios; one instance per bench (journal + sheet) and driver."""

    def __init__(self, journal: Journal, sheet: BenchSheet, driver: Driver, *,
                 console: Console | None = None, planes: Mapping[str, ControlPlane] | None = None,
                 timeout_scale: float = 1.0) -> None:
        self.journal = journal
        self.sheet = sheet
        self.driver = driver
        self.console = console or Console()
        self.planes = dict(planes or {})
        self.store = RunStore(journal)
        self.timeout_scale = timeout_scale

    def play(self, scenario: Scenario, dui: DuiProfile) -> Run:
        run = self.store.create(scenario.id, dui.name, self.driver.name, {}, self.journal.active_session)
        context = self._context(run, dui)
        context.values.update(scenario.inputs(context))
        self._save_values(run, context)
        return self._continue(scenario, context)

    def resume(self, scenario: Scenario, run_id: str, dui: DuiProfile) -> Run:
        run = self.store.get(run_id)
        if run is None:
            raise DriverError(f"exécution « {run_id} » introuvable")
        context = self._context(run, dui)
        context.values.update(run.inputs)
        self.store.set_status(run, RUNNING)
        return self._continue(scenario, context)

    def _context(self, run: Run, dui: DuiProfile) -> RunContext:
        return RunContext(self.journal, self.sheet, dui, run, self.driver, self.console,
                          planes=self.planes, timeout_scale=self.timeout_scale)

    def _save_values(self, run: Run, context: RunContext) -> None:
        run.inputs = dict(context.values)
        self.journal.connection().execute(
            "UPDATE runs SET inputs = ? WHERE id = ?",
            (json.dumps(run.inputs, ensure_ascii=False, default=str), run.id))

    def _continue(self, scenario: Scenario, context: RunContext) -> Run:
        run = context.run
        self.console.say(f"Scénario « {scenario.title} » — DUI « {context.dui.label or context.dui.name} »"
                         f" — pilote {self.driver.name} — exécution {run.id}")
        self.journal.set_active_run(context.dui.name, run.id)
        try:
            for position, step in enumerate(scenario.steps):
                done = next((s for s in run.steps if s.position == position), None)
                if done is not None and done.outcome not in (Outcome.AWAITING_PROOF,):
                    continue
                self.console.step(position + 1, len(scenario.steps), step)
                started = time.time()
                since = self.journal.last_id()  # before the step is announced: nothing missed
                self.store.set_current(run, position)
                outcome, reason, findings, evidence = self._play_step(step, context, since)
                result = StepResult(step.id, step.title, kind_of(step), outcome, step.requirements,
                                    reason, tuple(evidence), findings, started, time.time(), position)
                self.store.save_step(run, result)
                if isinstance(step, BenchActs | DuiActs | Expect):
                    self._save_values(run, context)
                self.console.result(result)
        except KeyboardInterrupt:
            self.store.set_status(run, INTERRUPTED)
            raise
        finally:
            self.journal.set_active_run(context.dui.name, None)
        waiting = any(s.outcome is Outcome.AWAITING_PROOF for s in run.steps)
        self.store.set_status(run, WAITING if waiting else FINISHED)
        return run

    # -- one step ----------------------------------------------------------------------------
    def _play_step(self, step: AnyStep, context: RunContext, since: int) -> tuple[Outcome, str, list, list[int]]:
        if step.applies_to and context.dui.structure_type not in step.applies_to:
            return Outcome.OMITTED, f"ne s'applique qu'à : {', '.join(step.applies_to)}", [], []
        if step.feature and step.feature not in context.dui.features:
            return (Outcome.OMITTED, f"fonction facultative « {step.feature} » non déclarée par le DUI "
                    "(fonctions_facultatives du profil)", [], [])
        unmet = [r for r in step.requires
                 if (done := context.run.result(r)) is None or done.outcome is not Outcome.PASSED]
        if unmet:
            return Outcome.SKIPPED, f"précondition non remplie : étape(s) {', '.join(unmet)} non réussie(s)", [], []
        if isinstance(step, ManualProof):
            return self._manual_proof(step, context)
        if isinstance(step, BenchActs):
            try:
                answer = context.act(step.service, step.action, **context.fill(dict(step.params)))
            except ControlError as exc:
                return Outcome.NOT_EVALUATED, f"le banc n'a pas pu agir : {exc.message}", [], []
            for key, name in step.remember.items():
                found = _dig(answer, key)
                if found is not None:
                    context.values[name] = found
            if not step.expect:
                return Outcome.PASSED, "", [], []
            return self._wait(step, step.expect, context, since, handle=None)
        if isinstance(step, DuiActs):
            try:
                handle = self.driver.start(step, context.fill(dict(step.params)), context)
            except DriverError as exc:
                return Outcome.NOT_EVALUATED, str(exc), [], []
            return self._wait(step, step.expect, context, since, handle=handle)
        assert isinstance(step, Expect)
        return self._wait(step, step.expect, context, since, handle=None)

    def _manual_proof(self, step: ManualProof, context: RunContext) -> tuple[Outcome, str, list, list[int]]:
        instruction = str(context.fill(step.instruction))
        proofs = self.store.proofs(context.run.id, step.id)
        if not proofs:
            attached = self.driver.request_proof(step, instruction, context)
            if attached is not None:
                self.store.attach_proof(context.run.id, step.id, attached)
                proofs = self.store.proofs(context.run.id, step.id)
        if proofs:
            names = ", ".join(p["name"] for p in proofs)
            return Outcome.PROOF_ATTACHED, f"preuve jointe ({names}), à examiner", [], []
        return Outcome.AWAITING_PROOF, instruction, [], []

    def _wait(self, step: AnyStep, expectations: tuple[Expectation, ...], context: RunContext,
              since: int, handle) -> tuple[Outcome, str, list, list[int]]:
        timeout = max((e.timeout for e in expectations), default=60.0) * self.timeout_scale
        began = time.monotonic()
        deadline = began + timeout
        finished_at: float | None = None
        status = None
        while True:
            observations = [observe(self.journal, e, context, since) for e in expectations]
            if handle is not None and finished_at is None:
                status = handle.poll()
                if status.state is ActionState.UNSUPPORTED:
                    return (Outcome.AWAITING_PROOF, f"{status.message} : preuve manuelle à joindre "
                            f"({context.fill(getattr(step, 'instruction', '')) or step.title})", [], [])
                refused_as_asked = (status.state is ActionState.IMPOSSIBLE
                                    and getattr(step, "refusal_expected", False))
                if status.state in (ActionState.IMPOSSIBLE, ActionState.ERROR) and not refused_as_asked:
                    word = "impossible" if status.state is ActionState.IMPOSSIBLE else "en erreur"
                    return Outcome.FAILED, f"action du DUI {word} : {status.message}", [RULES.error(
                        "ACTION", f"le DUI n'a pas fait « {step.title} » : {status.message}",
                        requirements=step.requirements)], []
                if status.state is ActionState.DONE and getattr(step, "refusal_expected", False):
                    return Outcome.FAILED, "le DUI a fait ce qu'il devait refuser", [RULES.error(
                        "NON_REFUSE", f"le DUI devait refuser « {step.title} » et l'a fait",
                        requirements=step.requirements)], []
                if status.state in (ActionState.DONE, ActionState.IMPOSSIBLE):
                    finished_at = time.monotonic()
            all_matched = all(o.satisfied for o in observations if not o.expectation.absent)
            decisive = any(o.decisive_mismatch for o in observations)
            if handle is None and any(o.expectation.absent for o in observations):
                all_matched = False  # nothing ends a watch for what must not happen but time
            waits_for_driver = handle is not None and handle.signals_completion and finished_at is None
            if (all_matched or decisive) and not waits_for_driver:
                break
            if finished_at is not None and time.monotonic() - finished_at > GRACE_SECONDS:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.console.countdown(", ".join(e.label() for e in expectations), remaining)
            time.sleep(POLL_SECONDS)
        findings: list = []
        evidence: list[int] = []
        for observation in observations:
            found, ids = judge(observation, context, step.requirements, time.monotonic() - began)
            findings += found
            evidence += ids
        learnt: set[str] = set()
        for observation in observations:  # learnt from the traffic: wins over what a DUI said
            if observation.matched and not observation.expectation.absent:
                for key, name in observation.expectation.remember.items():
                    if key in observation.matched[0].summary:
                        context.values[name] = observation.matched[0].summary[key]
                        learnt.add(name)
        if isinstance(step, DuiActs):
            for key, name in step.remember.items():
                if status is not None and key in status.data and name not in learnt:
                    context.values[name] = status.data[key]
            if step.result_checks and not any(f.is_error for f in findings):
                if status is None or status.state is not ActionState.DONE or not handle.signals_completion:
                    return (Outcome.AWAITING_PROOF, "ce que le DUI affiche n'est pas lisible par le pilote : "
                            f"preuve manuelle à joindre ({context.fill(step.instruction) or step.title})",
                            findings, evidence)
                findings += [replace(f, requirements=f.requirements or step.requirements)
                             for check in step.result_checks for f in check(status.data, context)]
        if any(f.is_error for f in findings):
            first = next(f for f in findings if f.is_error)
            return Outcome.FAILED, first.message, findings, evidence
        return Outcome.PASSED, "", findings, evidence


def _dig(answer: Any, dotted: str) -> Any:
    """The value at `dotted` ("demande.message_id") of a control-plane answer, None if absent."""
    for part in dotted.split("."):
        if not isinstance(answer, dict) or part not in answer:
            return None
        answer = answer[part]
    return answer
