"""The one finding/verdict model. Every checker in the project speaks it.

A `Finding` is one observation (a failed assert, a protocol defect, a missing header) with a
stable rule id, a severity, a location, a French message, the DSR requirement ids it serves and
references to evidence (journal exchange ids, files). A `Verdict` groups the findings about one
subject (a document, an exchange, a scenario step) and says whether the subject conforms.
Serialisers for JSON and JUnit live here so that every report agrees on the shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr


class Severity(StrEnum):
    """Stored and serialised as the English values (JSON, journal, SVRL roles); shown to users
    only through `label`, so every command and report spells a severity the same French way."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        """The French word users read: « erreur », « avertissement », « information »."""
        return _SEVERITY_LABELS[self]


_SEVERITY_LABELS = {Severity.ERROR: "erreur", Severity.WARNING: "avertissement",
                    Severity.INFO: "information"}


@dataclass(frozen=True)
class Finding:
    rule_id: str
    message: str
    severity: Severity = Severity.ERROR
    location: str = ""
    ruleset: str = ""
    requirements: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict:
        data = asdict(self)
        data["severity"] = str(self.severity)
        data["requirements"] = list(self.requirements)
        data["evidence"] = list(self.evidence)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        return cls(
            rule_id=data["rule_id"],
            message=data["message"],
            severity=Severity(data.get("severity", "error")),
            location=data.get("location", ""),
            ruleset=data.get("ruleset", ""),
            requirements=tuple(data.get("requirements", ())),
            evidence=tuple(data.get("evidence", ())),
        )


@dataclass(frozen=True)
class RuleSet:
    """A family of rules: binds its rule-id prefix, its `ruleset` label and the DSR
    requirements its findings serve by default, once, so every finding of a mock or checker
    is built the same way (upper-case ids, one severity type, cited requirements).

    `finding("ACTION", "…")` gives rule id `PREFIX.ACTION`; requirement ids are checked against
    the catalogue (`banc.requirements`): citing an unknown id is a programming error.
    """

    name: str
    prefix: str
    requirements: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.prefix.upper())
        _check_cited(self.requirements)

    def rule_id(self, code: str) -> str:
        code = code.upper()
        return code if code == self.prefix or code.startswith(self.prefix + ".") else f"{self.prefix}.{code}"

    def finding(
        self,
        code: str,
        message: str,
        *,
        severity: Severity = Severity.ERROR,
        location: str = "",
        requirements: tuple[str, ...] | None = None,
        evidence: tuple[str, ...] = (),
    ) -> Finding:
        reqs = self.requirements if requirements is None else tuple(requirements)
        if requirements is not None:
            _check_cited(reqs)
        return Finding(self.rule_id(code), message, Severity(severity), location, self.name,
                       reqs, tuple(evidence))

    def error(self, code: str, message: str, **kwargs) -> Finding:
        return self.finding(code, message, severity=Severity.ERROR, **kwargs)

    def warning(self, code: str, message: str, **kwargs) -> Finding:
        return self.finding(code, message, severity=Severity.WARNING, **kwargs)

    def info(self, code: str, message: str, **kwargs) -> Finding:
        return self.finding(code, message, severity=Severity.INFO, **kwargs)


def _check_cited(requirements: tuple[str, ...]) -> None:
    from banc.requirements import catalogue

    unknown = [r for r in requirements if r not in catalogue()]
    if unknown:
        raise ValueError(f"exigence(s) absente(s) du catalogue : {', '.join(unknown)}")


@dataclass(frozen=True)
class NotEvaluated:
    """A rule or rule set that could not run: never counted as passed."""

    ruleset: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Verdict:
    subject: str
    findings: list[Finding] = field(default_factory=list)
    not_evaluated: list[NotEvaluated] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def conform(self) -> bool:
        return not self.errors

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def requirements(self) -> list[str]:
        seen: dict[str, None] = {}
        for finding in self.findings:
            for req in finding.requirements:
                seen.setdefault(req, None)
        return list(seen)

    def to_dict(self) -> dict:
        return {
            "subject": self.subject,
            "conform": self.conform,
            "findings": [f.to_dict() for f in self.findings],
            "not_evaluated": [n.to_dict() for n in self.not_evaluated],
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Verdict:
        return cls(
            subject=data["subject"],
            findings=[Finding.from_dict(f) for f in data.get("findings", ())],
            not_evaluated=[NotEvaluated(**n) for n in data.get("not_evaluated", ())],
            details=data.get("details", {}),
        )


def to_json(verdicts: Sequence[Verdict]) -> str:
    return json.dumps([v.to_dict() for v in verdicts], ensure_ascii=False, indent=2)


def to_junit(verdicts: Sequence[Verdict], suite: str = "banc-segur") -> str:
    """JUnit XML: one test case per verdict, one <failure> per error finding.

    Rule sets that could not be evaluated are reported as <skipped> with their reason so that
    a CI dashboard never shows them as passed. A subject that could not be judged at all
    (`details["input_error"]`: not a document) is an <error>, not a failure.
    """
    unjudged = [v for v in verdicts if v.details.get("input_error")]
    failures = sum(1 for v in verdicts if not v.conform) - len(unjudged)
    skipped = sum(1 for v in verdicts if v.conform and v.not_evaluated)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<testsuite name={quoteattr(suite)} tests=\"{len(verdicts)}\" "
        f"failures=\"{failures}\" skipped=\"{skipped}\" errors=\"{len(unjudged)}\">",
    ]
    for verdict in verdicts:
        lines.append(f"  <testcase classname={quoteattr(suite)} name={quoteattr(verdict.subject)}>")
        if verdict.details.get("input_error"):
            for finding in verdict.errors:
                lines.append(f"    <error message={quoteattr(finding.message)} type={quoteattr(finding.rule_id)}/>")
            lines.append("  </testcase>")
            continue
        for finding in verdict.errors:
            reqs = ", ".join(finding.requirements)
            head = f"[{finding.ruleset}] {finding.rule_id}" + (f" ({reqs})" if reqs else "")
            lines.append(
                f"    <failure message={quoteattr(head + ' : ' + finding.message)} "
                f"type={quoteattr(finding.rule_id)}>{escape(finding.location)}</failure>"
            )
        if verdict.conform and verdict.not_evaluated:
            reasons = "; ".join(f"{n.ruleset}: {n.reason}" for n in verdict.not_evaluated)
            lines.append(f"    <skipped message={quoteattr('non évalué : ' + reasons)}/>")
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"
