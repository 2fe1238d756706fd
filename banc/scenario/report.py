"""Reports of a run: requirement → verdict → proofs, as JSON, JUnit and one self-contained HTML.

The model (run, step results with evidence ids, requirement verdicts) is what the richer report
and the evidence pack will read; this module renders it plainly.
"""

from __future__ import annotations

import html
import json
import time
from xml.sax.saxutils import quoteattr

from banc import __version__
from banc.journal import Journal
from banc.requirements import describe
from banc.scenario.model import Outcome
from banc.scenario.runs import Run, RunStore
from banc.scenario.verdicts import requirement_verdicts


def to_dict(run: Run, store: RunStore | None = None) -> dict:
    return {
        "banc": __version__,
        "execution": run.id, "scenario": run.scenario, "dui": run.dui, "pilote": run.driver,
        "statut": run.status, "debut": run.started_at, "fin": run.ended_at, "session": run.session,
        "exigences": [
            {"exigence": v.requirement, "verdict": str(v.outcome), "etapes": list(v.steps),
             "preuves": [f"journal:{e}" for e in v.evidence]}
            for v in requirement_verdicts(run)
        ],
        "etapes": [s.to_dict() for s in run.steps],
        "preuves_manuelles": store.proofs(run.id) if store else [],
    }


def to_json(run: Run, store: RunStore | None = None) -> str:
    return json.dumps(to_dict(run, store), ensure_ascii=False, indent=2, default=str)


def to_junit(run: Run) -> str:
    """One testcase per requirement × step; failed → <failure>, not evaluated/skipped/manual
    proof → <skipped> with the reason (never a pass)."""
    cases = []
    for result in run.steps:
        for requirement in result.requirements or ("(aucune exigence)",):
            body = ""
            if result.outcome is Outcome.FAILED:
                text = "\n".join(f"{f.rule_id} : {f.message}" for f in result.findings if f.is_error)
                body = (f"<failure message={quoteattr(result.reason or 'échoué')} type=\"échoué\">"
                        f"{html.escape(text)}</failure>")
            elif result.outcome is not Outcome.PASSED:
                body = f"<skipped message={quoteattr(f'{result.outcome} : {result.reason}')}/>"
            cases.append(f"  <testcase classname={quoteattr(f'{run.scenario}.{result.step}')} "
                         f"name={quoteattr(requirement)}>{body}</testcase>")
    failures = sum("<failure" in c for c in cases)
    skipped = sum("<skipped" in c for c in cases)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<testsuite name={quoteattr(f'banc-segur {run.scenario} {run.id}')} tests=\"{len(cases)}\" "
            f"failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n" + "\n".join(cases)
            + "\n</testsuite>\n")


_COLOURS = {"réussi": "#1b7f3b", "échoué": "#b3261e", "omis": "#666"}


def to_html(run: Run, journal: Journal | None = None, store: RunStore | None = None) -> str:
    esc = html.escape

    def badge(outcome: Outcome) -> str:
        colour = _COLOURS.get(str(outcome), "#8a5a00")
        return f'<span class="badge" style="background:{colour}">{esc(str(outcome))}</span>'

    rows = "".join(
        f"<tr><td>{esc(describe(v.requirement))}</td><td>{badge(v.outcome)}</td>"
        f"<td>{', '.join(f'<a href=\"#etape-{esc(s)}\">{esc(s)}</a>' for s in v.steps)}</td>"
        f"<td>{', '.join(f'<a href=\"#journal-{e}\">journal:{e}</a>' for e in v.evidence)}</td></tr>"
        for v in requirement_verdicts(run))
    steps = []
    for result in run.steps:
        findings = "".join(
            f"<li><code>{esc(f.rule_id)}</code> ({esc(str(f.severity))}) : {esc(f.message)}</li>"
            for f in result.findings)
        steps.append(
            f'<section id="etape-{esc(result.step)}"><h3>{esc(result.title)} {badge(result.outcome)}</h3>'
            f"<p>{esc(result.kind)} — exigences : {esc(', '.join(result.requirements) or 'aucune')}</p>"
            + (f"<p>{esc(result.reason)}</p>" if result.reason else "")
            + (f"<ul>{findings}</ul>" if findings else "")
            + "".join(_exchange(journal, e) for e in result.evidence) + "</section>")
    proofs = store.proofs(run.id) if store else []
    proof_list = "".join(f"<li>{esc(p['step'])} : {esc(p['name'])} ({p['size']} octets)</li>" for p in proofs)
    when = time.strftime("%d/%m/%Y %H:%M", time.localtime(run.started_at))
    return (
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width\"><title>Banc Ségur — {esc(run.id)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:80rem}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
        "vertical-align:top;text-align:left}.badge{color:#fff;border-radius:.3rem;padding:0 .4rem}"
        "pre{white-space:pre-wrap;word-break:break-all;background:#f5f5f5;padding:.5rem;max-height:20rem;"
        "overflow:auto}</style></head><body>"
        f"<h1>Banc Ségur — exécution {esc(run.id)}</h1>"
        f"<p>Scénario <b>{esc(run.scenario)}</b>, DUI <b>{esc(run.dui)}</b>, pilote {esc(run.driver)}, "
        f"le {when} — statut : {esc(run.status)} — banc {__version__}</p>"
        "<h2>Verdict par exigence</h2><table><tr><th>Exigence</th><th>Verdict</th><th>Étapes</th>"
        f"<th>Preuves</th></tr>{rows}</table>"
        "<h2>Étapes</h2>" + "".join(steps)
        + (f"<h2>Preuves manuelles jointes</h2><ul>{proof_list}</ul>" if proof_list else "")
        + "</body></html>\n")


def _exchange(journal: Journal | None, exchange_id: int) -> str:
    if journal is None:
        return ""
    exchange = journal.get(exchange_id)
    if exchange is None:
        return ""
    head = exchange.request[:4000].decode("utf-8", "replace")
    return (f'<details id="journal-{exchange_id}"><summary>journal:{exchange_id} — {html.escape(exchange.service)} '
            f"{html.escape(exchange.operation)} — statut {html.escape(exchange.status)}</summary>"
            f"<pre>{html.escape(head)}</pre></details>")
