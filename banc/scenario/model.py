"""What a scenario is: data a QA engineer can read, in French, citing DSR requirements.

A `Scenario` has an id, a French title, the DSR profile it belongs to, a function choosing its
inputs per run (the usager, correspondents… — fresh per run and per DUI), and steps. A step is
one of:

- `BenchActs` — a simulated actor acts through a mock's control plane (the hospital sends a
  discharge letter, the GP sends a request…);
- `DuiActs` — the DUI must do something; a *driver* makes it happen (an operator following
  French instructions, the DUI's automation endpoint, or the reference DUI), and the step's
  `expect` list says which exchanges must then be observed;
- `Expect` — exchanges that must be observed (e.g. the DUI fetching the letter it was sent);
- `ManualProof` — the operator attaches a screenshot or file; recorded as such, never counted
  as an automated pass.

Every step declares the requirement ids it verifies, whatever its outcome (as Inferno's
`verifies_requirements`), so the coverage matrix and the requirement verdicts follow from the
scenario definitions and the run alone.

Text fields and parameter values may name run values as `{usager_ins}`: they are filled from
the run's inputs (`RunContext.values`) when the step is played.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from banc.verdict import Finding

if TYPE_CHECKING:
    from banc.journal import Exchange
    from banc.scenario.runner import RunContext


class Outcome(StrEnum):
    """A step's outcome. Only PASSED is a pass."""

    PASSED = "réussi"
    FAILED = "échoué"
    SKIPPED = "ignoré"
    """A precondition is unmet (a step it needs did not pass); the reason says which."""
    OMITTED = "omis"
    """Not applicable to this DUI's profile (e.g. a SSIAD-only step for a SAAD)."""
    AWAITING_PROOF = "preuve manuelle attendue"
    PROOF_ATTACHED = "preuve manuelle fournie"
    """A proof is attached: a reviewer must judge it; still not an automated pass."""
    NOT_EVALUATED = "non évalué"
    """The bench could not judge (its own actor failed, nothing to compare with…)."""


Check = Callable[["Exchange", "RunContext"], list[Finding]]
"""A step-specific check of one observed exchange: findings (empty when as expected)."""

ResultCheck = Callable[[Mapping[str, Any], "RunContext"], list[Finding]]
"""A check of what a DUI's read action reported (its worklist, dashboard…) against what the
bench knows from the traffic (the run's values, the journal): findings when they differ."""


@dataclass(frozen=True)
class Expectation:
    """Exchanges that must be observed after a step starts, within `timeout` seconds.

    `service` and `operations` select the candidate exchanges (of the run's DUI unless
    `from_dui` is False — e.g. a mock's own delivery to the DUI's mailbox); `where` names
    summary fields that must equal the given values (templates like "{usager_ins}"): a
    candidate that differs is a failure naming the field ("mauvais patient"), not a match.
    The exchange's own findings (the mock's checks) and `checks` judge it."""

    service: str
    operations: tuple[str, ...] = ()
    description: str = ""
    where: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    timeout: float = 120.0
    from_dui: bool = True
    count: int = 1
    remember: Mapping[str, str] = field(default_factory=dict)
    """Summary field → run value name, taken from the first matching exchange: identifiers
    learnt from the traffic itself (the uniqueId of the document the DUI fed), so later steps
    can name them whatever the driver — an operator gives the bench no identifiers."""
    absent: bool = False
    """The exchange must NOT be observed while the step is played (e.g. nothing sent to an
    usager who refused). Only meaningful beside a positive expectation or a DUI action that
    signals completion: the window is the action's duration (plus a grace), or the timeout."""

    def label(self) -> str:
        what = "/".join(self.operations) or "tout échange"
        return self.description or f"{self.service} {what}"


@dataclass(frozen=True)
class Step:
    """Common part of every step kind."""

    id: str
    title: str
    requirements: tuple[str, ...]
    requires: tuple[str, ...] = ()
    """Ids of earlier steps that must have passed; otherwise this step is SKIPPED."""
    applies_to: tuple[str, ...] = ()
    """Structure types (SSIAD, SAAD, SPASAD) the step applies to; empty: all. Else OMITTED."""
    feature: str = ""
    """An optional (PEUT) DSR function (`banc.dui.FEATURES`) the step is about: OMITTED for a
    DUI whose profile does not declare it."""


@dataclass(frozen=True)
class BenchActs(Step):
    service: str = ""
    action: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    remember: Mapping[str, str] = field(default_factory=dict)
    """Result key (dotted for a nested answer: "demande.message_id") → run value name: facts the
    bench's actor returns for later steps."""
    expect: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class DuiActs(Step):
    action: str = ""
    """Name of the action in the automation protocol (the `http` and `reference` drivers)."""
    instruction: str = ""
    """What the operator must do in the DUI (the `manual` driver), French, with templates."""
    params: Mapping[str, Any] = field(default_factory=dict)
    expect: tuple[Expectation, ...] = ()
    result_checks: tuple[ResultCheck, ...] = ()
    """Checks of the action's result (read actions): the DUI's report compared with what the
    bench observed. A driver that returns no result (manual) makes the step await a proof."""
    remember: Mapping[str, str] = field(default_factory=dict)
    """Result key → run value name: identifiers the DUI gives (a document id) for later steps'
    parameters. Never a verdict by itself: what is judged is still the traffic."""
    refusal_expected: bool = False
    """A conforming DUI must refuse this action (answer `impossible`, e.g. attach a document
    whose identity does not match): the step passes only on a refusal, its expectations met."""


@dataclass(frozen=True)
class Expect(Step):
    expect: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class ManualProof(Step):
    instruction: str = ""
    """Exactly what screenshot or export the vendor must attach."""


AnyStep = BenchActs | DuiActs | Expect | ManualProof


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    profile: str
    """DSR profile, e.g. "DSR ESMS vague 1 — DUI domicile"."""
    description: str
    steps: tuple[AnyStep, ...]
    inputs: Callable[[RunContext], dict[str, Any]] = lambda context: {}
    """Chooses the run's usager, correspondents…: values for templates and for the steps."""

    def requirements(self) -> list[str]:
        seen: dict[str, None] = {}
        for step in self.steps:
            for req in step.requirements:
                seen.setdefault(req, None)
        return list(seen)

    def step(self, step_id: str) -> AnyStep:
        return next(s for s in self.steps if s.id == step_id)


def kind_of(step: AnyStep) -> str:
    """French name of the step kind, for reports and the console."""
    return {BenchActs: "le banc agit", DuiActs: "le DUI agit", Expect: "attente d'échanges",
            ManualProof: "preuve manuelle"}[type(step)]


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Replace `{name}` in strings (recursively in dicts/lists/tuples) by run values; a string
    that is exactly one `{name}` becomes the value itself (a list, a dict), not its text."""
    if isinstance(template, str):
        whole = _WHOLE.fullmatch(template)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        try:
            return template.format_map(_Strict(values))
        except (KeyError, ValueError, IndexError):
            return template
    if isinstance(template, Mapping):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list | tuple):
        return type(template)(fill(v, values) for v in template)
    return template


_WHOLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(dict):
    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__(values)

    def __missing__(self, key: str) -> str:
        raise KeyError(key)
