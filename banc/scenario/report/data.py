"""A run as JSON (shape published in `docs/schemas/execution.schema.json`) and as JUnit XML.

JUnit follows what CI tools mean by each element: one testcase per requirement × step; a
`<failure>` when the DUI did something wrong (one per testcase, every finding in its text); an
`<error>` when the bench could not judge (its own actor failed, nothing to compare with); a
`<skipped>` when the step was not played for this DUI (omitted, skipped) or awaits a human
(manual proof). A pass is only a step that passed.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

from banc.scenario.model import Outcome
from banc.scenario.report.model import RunReport
from banc.scenario.runs import StepResult
from banc.scenario.verdicts import outcome_for
from banc.verdict import Finding

SCHEMA_ID = "banc-segur/execution/1"
"""Names the shape each JSON report follows: `docs/schemas/execution.schema.json`, version 1."""

_JUNIT_KIND = {Outcome.FAILED: "failure", Outcome.NOT_EVALUATED: "error", Outcome.SKIPPED: "skipped",
               Outcome.OMITTED: "skipped", Outcome.AWAITING_PROOF: "skipped",
               Outcome.PROOF_ATTACHED: "skipped"}


def finding_line(finding: Finding) -> str:
    """One finding as a line of plain text (JUnit bodies, the referencing sheet)."""
    reqs = f" ({', '.join(finding.requirements)})" if finding.requirements else ""
    where = f" — emplacement {finding.location}" if finding.location else ""
    evidence = f" — {', '.join(finding.evidence)}" if finding.evidence else ""
    return f"[{finding.severity.label}] {finding.rule_id}{reqs} : {finding.message}{where}{evidence}"


def step_requirements(result: StepResult) -> list[str]:
    """The requirements a step judges: those it declares, then those its errors cite (the same
    rule as `banc.scenario.verdicts.requirement_verdicts`)."""
    cited = [r for f in result.findings if f.is_error for r in f.requirements]
    return list(dict.fromkeys((*result.requirements, *cited)))


def to_dict(report: RunReport) -> dict:
    run, profile = report.run, report.profile
    return {
        "schema": SCHEMA_ID,
        "banc": report.bench_version,
        "paquet_ans": report.ans_version,
        "genere_le": _iso(report.generated_at),
        "execution": run.id, "scenario": run.scenario, "titre": report.scenario_title,
        "profil_dsr": report.scenario_profile, "dui": run.dui, "pilote": run.driver,
        "dui_profil": None if profile is None else {
            "nom": profile.name, "libelle": profile.label, "editeur": profile.editor,
            "logiciel": profile.software, "version": profile.software_version,
            "type_structure": profile.structure_type},
        "statut": run.status, "debut": _iso(run.started_at), "fin": _iso(run.ended_at),
        "session": run.session, "conforme": report.conform,
        "synthese": report.counts(),
        "exigences": [
            {"exigence": r.requirement, "niveau": r.level, "resume": r.summary, "categorie": r.category,
             "verdict": None if r.outcome is None else str(r.outcome), "etapes": list(r.steps),
             "preuves": [f"journal:{e}" for e in r.evidence]}
            for r in report.requirements],
        "etapes": [
            {"etape": s.result.step, "position": s.result.position, "titre": s.result.title,
             "nature": s.result.kind, "resultat": str(s.result.outcome),
             "exigences": list(s.result.requirements), "raison": s.result.reason,
             "debut": _iso(s.result.started_at), "fin": _iso(s.result.ended_at),
             "preuves": [f"journal:{e}" for e in s.result.evidence],
             "echanges": [a.exchange.id for a in s.arrows],
             "constats": [f.to_dict() for f in s.result.findings]}
            for s in report.steps],
        "preuves_manuelles": [
            {"etape": p["step"], "fichier": p["name"], "taille": p["size"], "note": p["note"],
             "jointe_le": _iso(p["attached_at"])} for p in report.proofs],
    }


def to_json(report: RunReport) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2)


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(timestamp))


def to_junit(report: RunReport) -> str:
    run = report.run
    suite = ET.Element("testsuite", name=f"banc-segur {run.scenario}", timestamp=_iso(run.started_at) or "",
                       hostname="banc-segur")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("execution", run.id), ("dui", run.dui), ("banc", report.bench_version),
                        ("paquet_ans", report.ans_version), ("profil_dsr", report.scenario_profile)):
        ET.SubElement(properties, "property", name=name, value=value)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in run.steps:
        for requirement in step_requirements(result) or ["(aucune exigence)"]:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"{run.scenario}.{result.step}",
                                 name=requirement, time=f"{max(result.ended_at - result.started_at, 0):.3f}")
            outcome = outcome_for(requirement, result)
            kind = _JUNIT_KIND.get(outcome)
            if kind is None:
                continue
            counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
            message = f"{outcome} : {result.reason}" if result.reason else str(outcome)
            element = ET.SubElement(case, kind, message=message, type=str(outcome))
            if kind != "skipped":
                element.text = "\n".join(finding_line(f) for f in result.findings) or result.reason
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{max((run.ended_at or run.started_at) - run.started_at, 0):.3f}")
    root = ET.Element("testsuites", name="banc-segur", **{k: suite.get(k) or "0" for k in counts})
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
