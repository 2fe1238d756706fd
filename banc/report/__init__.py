"""Reports of CDA verdicts: text (terminal), JSON, JUnit and HTML (French, self-contained).

The JSON shape is the one the command line documents: a list of objects with `file`,
`conform`, `volet`, `volet_reason`, `volet_declared`, `xsd_errors`, `failures` (`ruleset`,
`rule_id`, `role`, `location`, `message`, `requirements`), `not_evaluated` and, for unusable
input, `input_error`.

Unusable input (empty, not XML, DOCTYPE, not a regular file…) is its own category: such a file
was not judged, so it is neither conform nor non-conform (`conform` is null in JSON, a JUnit
`<error>`, counted apart in every summary). Messages keep their author's words: the official
ANS schematrons' as the ANS wrote them (some in English), the XSD parser's (libxml2, English),
ours in French; every report says so (`LEGEND`).
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from banc.report.versions import versions_line
from banc.requirements import describe
from banc.verdict import Finding, Verdict

FORMATS = ("text", "json", "junit", "html")
LEGEND = (
    "Messages : ceux des schématrons officiels de l'ANS (StrucMin, profils, volets CI-SIS_…) sont "
    "reproduits tels que l'ANS les a écrits, certains en anglais ; ceux du schéma XSD sont ceux de "
    "l'analyseur libxml2, en anglais ; ceux du banc (règles DSR, contrôles N1, entrée) sont en français."
)


def is_input_error(verdict: Verdict) -> bool:
    """The file could not be judged (not a CDA document): neither conform nor non-conform."""
    return bool(verdict.details.get("input_error"))


def summary(verdicts: Sequence[Verdict]) -> str:
    """French one-liner: conform / non-conform among the judged files, input errors apart."""
    judged = [v for v in verdicts if not is_input_error(v) and not v.details.get("internal_error")]
    conform = sum(v.conform for v in judged)
    text = f"{conform}/{len(judged)} document(s) conforme(s)"
    if len(judged) > conform:
        text += f", {len(judged) - conform} non conforme(s)"
    inputs = sum(is_input_error(v) for v in verdicts)
    if inputs:
        text += f" ; {inputs} fichier(s) non jugé(s) (entrée invalide)"
    if len(verdicts) - len(judged) - inputs:
        text += f" ; {len(verdicts) - len(judged) - inputs} fichier(s) sur lesquels le validateur a échoué"
    return text


def as_record(verdict: Verdict) -> dict:
    details = verdict.details
    record = {
        "file": verdict.subject,
        "conform": None if is_input_error(verdict) else verdict.conform,
        "volet": details.get("volet"),
        "volet_reason": details.get("volet_reason"),
        "volet_declared": details.get("volet_declared"),
        "rulesets": details.get("rulesets", []),
        "xsd_errors": [f.message for f in verdict.findings if f.ruleset == "xsd"],
        "failures": [
            {
                "ruleset": f.ruleset,
                "rule_id": f.rule_id,
                "role": str(f.severity),
                "location": f.location,
                "message": f.message,
                "requirements": list(f.requirements),
            }
            for f in verdict.findings
            if f.ruleset != "xsd"
        ],
        "not_evaluated": [n.to_dict() for n in verdict.not_evaluated],
        "timings_ms": details.get("timings_ms", {}),
    }
    if is_input_error(verdict):
        record["input_error"] = verdict.findings[0].message if verdict.findings else "entrée invalide"
    return record


def to_json(verdicts: Sequence[Verdict]) -> str:
    return json.dumps([as_record(v) for v in verdicts], ensure_ascii=False, indent=2)


def to_text(verdicts: Sequence[Verdict]) -> str:
    lines = []
    for verdict in verdicts:
        record = as_record(verdict)
        if "input_error" in record:
            lines.append(f"ENTRÉE INVALIDE  {record['input_error']}")
            continue
        status = "CONFORME" if verdict.conform else "NON CONFORME"
        volet = record["volet"] or "aucun volet"
        lines.append(f"{status}  {verdict.subject}  [{volet}]")
        if record["volet"] and record["volet_reason"]:
            lines.append(f"  volet : {record['volet_reason']}")
        for finding in verdict.findings:
            reqs = f" ({', '.join(finding.requirements)})" if finding.requirements else ""
            lines.append(f"  {finding.severity.label:<13} [{finding.ruleset}] {finding.rule_id}{reqs}")
            lines.append(f"          {finding.location}")
            lines.append(f"          {finding.message}")
        for item in verdict.not_evaluated:
            lines.append(f"  non évalué [{item.ruleset}] {item.reason}")
    lines.append(summary(verdicts))
    if any(not is_input_error(v) for v in verdicts):
        lines.append(LEGEND)
    return "\n".join(lines) + "\n"


OFFICIAL_PREFIXES = ("xsd", "StrucMin", "ModelesDeContenusCDA", "Modeles_ANS", "IHE", "CI-SIS_")
"""Rule sets of the ANS package (and the CDA schema); the others are the bench's own (dsr, n1…)."""


def is_internal_error(verdict: Verdict) -> bool:
    """The validator itself failed on this file: not judged either, and a defect of ours."""
    return bool(verdict.details.get("internal_error"))


def is_official(ruleset: str) -> bool:
    return ruleset.startswith(OFFICIAL_PREFIXES)


def state(verdict: Verdict) -> str:
    """One of « conforme », « non conforme », « entrée invalide », « erreur du validateur »."""
    if is_input_error(verdict):
        return "entrée invalide"
    if is_internal_error(verdict):
        return "erreur du validateur"
    return "conforme" if verdict.conform else "non conforme"


def rulesets(verdict: Verdict) -> list[str]:
    """Every rule set the document went through or that spoke about it, in order."""
    names = [*verdict.details.get("rulesets", ()), *(f.ruleset for f in verdict.findings),
             *(n.ruleset for n in verdict.not_evaluated)]
    return list(dict.fromkeys(n for n in names if n))


def why(verdict: Verdict) -> str:
    """Why the verdict, in one French sentence: which rule sets, how many errors, and when only
    the bench's DSR rules fail, which requirement and what the first error says."""
    if is_input_error(verdict) or is_internal_error(verdict):
        return verdict.findings[0].message if verdict.findings else state(verdict)
    errors: dict[str, list[Finding]] = {}
    for finding in verdict.errors:
        errors.setdefault(finding.ruleset, []).append(finding)
    if not errors:
        warnings = len(verdict.findings)
        return (f"aucune erreur sur {len(rulesets(verdict))} jeu(x) de règles"
                + (f" ({warnings} avertissement(s) ou information(s))" if warnings else ""))
    counts = ", ".join(f"{name} : {len(found)} erreur(s)" for name, found in errors.items())
    if not any(is_official(name) for name in errors):
        requirements = list(dict.fromkeys(r for found in errors.values() for f in found for r in f.requirements))
        first = next(iter(errors.values()))[0].message
        return (f"règle(s) du banc seulement ({counts})"
                + (f", exigence(s) DSR {', '.join(requirements)}" if requirements else "")
                + f" : {first}")
    official = [name for name in errors if is_official(name)]
    return f"règles officielles de l'ANS en échec ({', '.join(official)}) — {counts}"


def to_junit_xml(verdicts: Sequence[Verdict]) -> str:
    """JUnit as CI tools read it: one testcase per document × rule set; a `<failure>` (one per
    testcase, every finding of that rule set in its text) when the rule set found errors, a
    `<skipped>` when it could not be evaluated, an `<error>` when the file could not be judged
    at all (input error, validator failure)."""
    suite = ET.Element("testsuite", name="banc-valider")
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="versions", value=versions_line())
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for verdict in verdicts:
        if is_input_error(verdict) or is_internal_error(verdict):
            counts["tests"] += 1
            counts["errors"] += 1
            case = ET.SubElement(suite, "testcase", classname=verdict.subject, name="entrée")
            error = ET.SubElement(case, "error", message=why(verdict), type=state(verdict))
            error.text = "\n".join(f"{f.rule_id} : {f.message}" for f in verdict.findings)
            continue
        skipped = {n.ruleset: n.reason for n in verdict.not_evaluated}
        for ruleset in rulesets(verdict):
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=verdict.subject, name=ruleset)
            found = [f for f in verdict.findings if f.ruleset == ruleset]
            errors = [f for f in found if f.is_error]
            if errors:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", type=ruleset,
                                        message=f"{len(errors)} erreur(s) : {errors[0].message}"[:500])
                failure.text = "\n".join(_line(f) for f in found)
            elif ruleset in skipped:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"non évalué : {skipped[ruleset]}")
            elif found:
                ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in found)
    for key, value in counts.items():
        suite.set(key, str(value))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _line(finding: Finding) -> str:
    reqs = f" ({', '.join(finding.requirements)})" if finding.requirements else ""
    where = f" — {finding.location}" if finding.location else ""
    return f"[{finding.severity.label}] {finding.rule_id}{reqs} : {finding.message}{where}"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em 1.5em;max-width:120rem;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
.ok{color:#1a7f37;font-weight:bold} .ko{color:#b42318;font-weight:bold} .ne{color:#9a6700;font-weight:bold}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border:1px solid #ddd;padding:4px;
vertical-align:top;text-align:left;overflow-wrap:anywhere} th{background:#f4f4f4}
table.findings{table-layout:fixed}
iframe{width:100%;height:40em;border:1px solid #ccc} code{font-size:.85em;overflow-wrap:anywhere}
.legende{font-size:.85em;color:#555} summary{cursor:pointer;font-weight:bold}
@media print{iframe{display:none}}
"""

_CSS = {"conforme": "ok", "non conforme": "ko", "entrée invalide": "ne", "erreur du validateur": "ne"}


def _state(verdict: Verdict, heading: bool = False) -> str:
    text = state(verdict)
    return f"<span class='{_CSS[text]}'>{html.escape(text.upper() if heading else text)}</span>"


def framed_rendering(rendering: str) -> str:
    """The document's rendering in a sandboxed frame: its scripts (the stylesheet's table of
    contents) may run, in an opaque origin that cannot reach this report; `about:srcdoc` as
    base keeps its `#section` links inside the frame."""
    base = "<base href='about:srcdoc'>"
    rendering = rendering.replace("<head>", "<head>" + base, 1) if "<head>" in rendering else base + rendering
    return (f"<details><summary>Rendu du document (feuille de style de l'ANS)</summary>"
            f"<iframe title='rendu' sandbox='allow-scripts' srcdoc=\"{html.escape(rendering, quote=True)}\"></iframe>"
            "</details>")


def to_html(
    verdicts: Sequence[Verdict],
    *,
    title: str = "Rapport de validation CDA",
    render: Callable[[Verdict], str | None] | None = None,
    steps: Sequence[tuple[str, str]] = (),
    reason: Callable[[Verdict], str] = why,
    extra: str = "",
) -> str:
    """A self-contained HTML page: one line per document with its verdict and why, input errors
    in their own table, then each document's findings and its rendering (`render(verdict)`).

    `steps` are (title, French text) shown before the verdicts (the demo's narrative); `reason`
    gives the "why" column (the demo explains the official examples); `extra` is HTML put
    before the documents (the demo's scenario runs)."""
    esc = html.escape
    now = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    judged = [v for v in verdicts if not (is_input_error(v) or is_internal_error(v))]
    unjudged = [v for v in verdicts if v not in judged]
    parts = [
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1><p>Généré le {now} — {esc(versions_line())}.</p>",
        f"<p><b>{esc(summary(verdicts))}.</b></p>",
        f"<p class='legende'>{esc(LEGEND)}</p>",
    ]
    for step_title, text in steps:
        parts.append(f"<h2>{esc(step_title)}</h2><p>{esc(text)}</p>")
    parts.append(extra)
    index = {id(v): i for i, v in enumerate(verdicts)}
    if judged:
        parts.append("<h2>Documents jugés</h2><table><tr><th style='width:30%'>Document</th>"
                     "<th style='width:9rem'>Verdict</th><th>Pourquoi</th></tr>")
        parts.extend(f"<tr><td><a href='#doc{index[id(v)]}'>{esc(v.subject)}</a></td><td>{_state(v)}</td>"
                     f"<td>{esc(reason(v))}</td></tr>" for v in judged)
        parts.append("</table>")
    if unjudged:
        parts.append("<h2>Fichiers non jugés (entrée invalide ou erreur du validateur)</h2>"
                     "<p>Ni conformes ni non conformes : le fichier n'a pas pu être jugé.</p>"
                     "<table><tr><th style='width:30%'>Fichier</th><th style='width:9rem'>État</th>"
                     "<th>Raison</th></tr>")
        parts.extend(f"<tr><td>{esc(v.subject)}</td><td>{_state(v)}</td><td>{esc(why(v))}</td></tr>"
                     for v in unjudged)
        parts.append("</table>")
    for verdict in judged:
        record = as_record(verdict)
        parts.append(f"<h2 id='doc{index[id(verdict)]}'>{esc(verdict.subject)} — {_state(verdict, heading=True)}</h2>")
        volet = (f"Volet : <b>{esc(record['volet'])}</b>" + (f" ({esc(record['volet_reason'])})" if record["volet_reason"] else "")
                 if record["volet"] else "Volet : aucun volet du CI-SIS reconnu"
                 + (f" ({esc(record['volet_reason'])})" if record["volet_reason"] else ""))
        applied = rulesets(verdict)
        parts.append(f"<p>{volet}." + (f" Règles appliquées : {esc(', '.join(applied))}." if applied else "")
                     + f"</p><p>Pourquoi : {esc(reason(verdict))}</p>")
        if verdict.findings:
            parts.append(
                "<table class='findings'><colgroup><col style='width:9%'><col style='width:11%'>"
                "<col style='width:13%'><col style='width:16%'><col style='width:17%'><col></colgroup>"
                "<tr><th>Gravité</th><th>Jeu de règles</th><th>Règle</th><th>Exigences</th>"
                "<th>Emplacement</th><th>Message</th></tr>")
            for finding in verdict.findings:
                reqs = "<br>".join(esc(describe(r)) for r in finding.requirements)
                parts.append(
                    f"<tr><td>{esc(finding.severity.label)}</td><td>{esc(finding.ruleset)}</td>"
                    f"<td>{esc(finding.rule_id)}</td><td>{reqs}</td><td><code>{esc(finding.location)}</code></td>"
                    f"<td>{esc(finding.message)}</td></tr>")
            parts.append("</table>")
        else:
            parts.append("<p class='ok'>Aucune erreur ni avertissement.</p>")
        if verdict.not_evaluated:
            parts.append("<p class='ne'>Non évalué (jamais compté comme réussi) :</p><ul>")
            parts.extend(f"<li class='ne'>[{esc(n.ruleset)}] {esc(n.reason)}</li>" for n in verdict.not_evaluated)
            parts.append("</ul>")
        rendering = render(verdict) if render else None
        if rendering:
            parts.append(framed_rendering(rendering))
    parts.append("</body></html>")
    return "\n".join(parts)
