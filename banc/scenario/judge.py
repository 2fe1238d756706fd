"""Judging expectations from the journal: which exchanges match, and what is wrong with them.

Pure functions of the journal's content (plus the run's values), so the same judgement applies
to live traffic and, later, to imported captures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from banc.journal import Exchange, Journal
from banc.scenario.model import Expectation, fill
from banc.verdict import RuleSet

if TYPE_CHECKING:
    from banc.scenario.runner import RunContext

RULES = RuleSet("scenario", "SCN")


@dataclass
class Observation:
    """Where an expectation stands: matching exchanges, decisive mismatches, strangers."""

    expectation: Expectation
    matched: list[Exchange] = field(default_factory=list)
    mismatched: list[tuple[Exchange, list[str]]] = field(default_factory=list)
    unattributed: int = 0

    @property
    def satisfied(self) -> bool:
        if self.expectation.absent:
            return not self.matched
        return len(self.matched) >= self.expectation.count

    @property
    def decisive_mismatch(self) -> bool:
        """No need to wait longer: the DUI did the operation with other values (wrong
        patient…), or did what it must not do."""
        if self.expectation.absent:
            return bool(self.matched)
        return not self.satisfied and bool(self.mismatched)


def _selected(exchange: Exchange, expectation: Expectation) -> bool:
    if exchange.summary.get("controle"):
        return False
    return not expectation.operations or exchange.operation in expectation.operations


def observe(journal: Journal, expectation: Expectation, context: RunContext, since_id: int) -> Observation:
    """Classify the exchanges recorded after `since_id` for one expectation."""
    result = Observation(expectation)
    wanted = {k: str(fill(v, context.values)) for k, v in expectation.where.items()}
    for exchange in journal.exchanges(service=expectation.service, since_id=since_id):
        if not _selected(exchange, expectation):
            continue
        if expectation.from_dui and exchange.dui != context.dui.name:
            if exchange.dui is None:
                result.unattributed += 1
            continue
        differences = [
            f"{key} : attendu {value}, observé {exchange.summary.get(key)}"
            for key, value in wanted.items()
            if key in exchange.summary and str(exchange.summary.get(key)) != value
        ]
        missing = [key for key in wanted if key not in exchange.summary]
        refused = next((f for f in exchange.findings if f.is_error), None)
        if differences:
            result.mismatched.append((exchange, differences))
        elif not missing:
            result.matched.append(exchange)
        elif refused is not None:  # the DUI did it, the service refused it before reading further
            result.mismatched.append((exchange, [f"refusé par le service ({refused.rule_id} : {refused.message})"]))
    return result


def judge(observation: Observation, context: RunContext, requirements: tuple[str, ...],
          waited: float) -> tuple[list, list[int]]:
    """Findings and evidence (journal ids) for one expectation once the wait is over."""
    expectation = observation.expectation
    if expectation.absent:
        ids = [e.id for e in observation.matched if e.id is not None]
        return [RULES.error(
            "INTERDIT", f"{expectation.label()} observé alors que le DUI ne devait pas le faire "
            f"({', '.join(f'journal:{i}' for i in ids)})", requirements=requirements,
            evidence=tuple(f"journal:{i}" for i in ids))] if ids else [], ids
    if observation.satisfied:
        findings = []
        for exchange in observation.matched:
            evidence = (f"journal:{exchange.id}",)
            for finding in [*exchange.findings, *(f for check in expectation.checks
                                                  for f in check(exchange, context))]:
                findings.append(replace(finding, requirements=finding.requirements or requirements,
                                        evidence=(*finding.evidence, *evidence)))
        return findings, [e.id for e in observation.matched if e.id is not None]
    if observation.mismatched:
        exchange, differences = observation.mismatched[0]
        findings = [RULES.error(
            "ATTRIBUT", f"{expectation.label()} observé (journal:{exchange.id}) mais non conforme à "
            f"l'attendu : {'; '.join(differences)}", requirements=requirements,
            evidence=(f"journal:{exchange.id}",))]
        findings += [replace(f, requirements=f.requirements or requirements,
                             evidence=(*f.evidence, f"journal:{exchange.id}"))
                     for f in exchange.findings if f.is_error]
        return findings, [e.id for e, _ in observation.mismatched if e.id]
    hint = ""
    if observation.unattributed:
        hint = (f" ; {observation.unattributed} échange(s) d'un DUI inconnu observé(s) : vérifiez "
                "que le profil du DUI déclare son certificat, son IDAM, son client_id ou sa BAL")
    return [RULES.error(
        "RIEN_RECU", f"rien reçu : aucun échange « {expectation.label()} » observé du DUI "
        f"en {waited:.0f} s d'attente{hint}", requirements=requirements)], []
