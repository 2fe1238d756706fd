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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from banc.requirements import describe
from banc.verdict import Verdict, to_junit

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
    judged = [v for v in verdicts if not is_input_error(v)]
    conform = sum(v.conform for v in judged)
    text = f"{conform}/{len(judged)} document(s) conforme(s)"
    if len(judged) > conform:
        text += f", {len(judged) - conform} non conforme(s)"
    inputs = len(verdicts) - len(judged)
    if inputs:
        text += f" ; {inputs} fichier(s) non jugé(s) (entrée invalide)"
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


def to_junit_xml(verdicts: Sequence[Verdict]) -> str:
    return to_junit(verdicts, suite="banc-validate")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
.ok{color:#1a7f37;font-weight:bold} .ko{color:#b42318;font-weight:bold} .ne{color:#9a6700}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border:1px solid #ddd;padding:4px;vertical-align:top}
th{background:#f4f4f4;text-align:left} .cols{display:flex;gap:1em} .cols>div{flex:1;min-width:0}
iframe{width:100%;height:40em;border:1px solid #ccc} code{font-size:.85em;word-break:break-all}
.summary td{border:none;padding:2px 8px} .legende{font-size:.85em;color:#555}
"""


def _state(verdict: Verdict, heading: bool = False) -> str:
    if is_input_error(verdict):
        css, text = "ne", "entrée invalide (non jugé)"
    else:
        css, text = ("ok", "conforme") if verdict.conform else ("ko", "non conforme")
    return f"<span class='{css}'>{text.upper() if heading else text}</span>"


def to_html(
    verdicts: Sequence[Verdict],
    *,
    title: str = "Rapport de validation CDA",
    render: Callable[[Verdict], str | None] | None = None,
    steps: Sequence[tuple[str, str]] = (),
) -> str:
    """A self-contained HTML page; `render(verdict)` gives the document's HTML rendering if any.

    `steps` are (title, French text) shown before the verdicts (the demo's narrative).
    """
    esc = html.escape
    now = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1><p>Généré le {now} — {esc(summary(verdicts))}.</p>",
        f"<p class='legende'>{esc(LEGEND)}</p>",
    ]
    for step_title, text in steps:
        parts.append(f"<h2>{esc(step_title)}</h2><p>{esc(text)}</p>")
    parts.append("<table class='summary'>")
    for index, verdict in enumerate(verdicts):
        parts.append(f"<tr><td><a href='#doc{index}'>{esc(verdict.subject)}</a></td><td>{_state(verdict)}</td></tr>")
    parts.append("</table>")
    for index, verdict in enumerate(verdicts):
        record = as_record(verdict)
        parts.append(f"<h2 id='doc{index}'>{esc(verdict.subject)} — {_state(verdict, heading=True)}</h2>")
        if "input_error" in record:
            parts.append(f"<p class='ko'>{esc(record['input_error'])}</p>")
            continue
        parts.append(
            f"<p>Volet : <b>{esc(record['volet'] or 'aucun')}</b> ({esc(record['volet_reason'] or '')}). "
            f"Règles appliquées : {esc(', '.join(record['rulesets']))}.</p>"
        )
        parts.append("<div class='cols'><div>")
        if verdict.findings:
            parts.append(
                "<table><tr><th>Gravité</th><th>Jeu de règles</th><th>Règle</th><th>Exigences</th>"
                "<th>Emplacement</th><th>Message</th></tr>"
            )
            for finding in verdict.findings:
                reqs = "<br>".join(esc(describe(r)) for r in finding.requirements)
                parts.append(
                    f"<tr><td>{esc(str(finding.severity))}</td><td>{esc(finding.ruleset)}</td>"
                    f"<td>{esc(finding.rule_id)}</td><td>{reqs}</td><td><code>{esc(finding.location)}</code></td>"
                    f"<td>{esc(finding.message)}</td></tr>"
                )
            parts.append("</table>")
        else:
            parts.append("<p class='ok'>Aucune erreur ni avertissement.</p>")
        if verdict.not_evaluated:
            parts.append("<p class='ne'>Non évalué (jamais compté comme réussi) :</p><ul>")
            parts.extend(f"<li class='ne'>[{esc(n.ruleset)}] {esc(n.reason)}</li>" for n in verdict.not_evaluated)
            parts.append("</ul>")
        parts.append("</div>")
        rendering = render(verdict) if render else None
        if rendering:
            parts.append(f"<div><iframe title='rendu' sandbox srcdoc=\"{esc(rendering, quote=True)}\"></iframe></div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
