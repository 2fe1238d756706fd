"""The run report as one self-contained HTML file (no network: it opens from a mail attachment).

Order: who judged what (versions, DUI profile), the verdict of every catalogue requirement,
then each step with its sequence diagram and its exchanges — the raw messages made readable on
the left, the findings about that exchange on the right — then the manual proofs. Everything
links to everything (requirement ↔ step ↔ exchange). Usable from 1280 px wide, printable.
"""

from __future__ import annotations

import time
from html import escape

from banc.evidence import documents, exchange_files
from banc.journal import UNKNOWN_DUI, Exchange
from banc.report import framed_rendering
from banc.scenario.report.messages import Part, request_parts, response_parts
from banc.scenario.report.model import (
    CATEGORIES,
    FAILED,
    MANUAL,
    NOT_COVERED,
    NOT_EVALUATED,
    PASSED,
    RunReport,
    StepView,
    category,
)
from banc.scenario.report.sequence import sequence_svg
from banc.verdict import Finding

_CSS = {PASSED: "ok", FAILED: "ko", MANUAL: "manuel", NOT_EVALUATED: "ne", NOT_COVERED: "nc"}

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem 1.5rem;
max-width:120rem;color:#1f2328;line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0 .6rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #d0d7de}
h3{font-size:1.05rem;margin:1.5rem 0 .4rem} h4{font-size:.95rem;margin:.2rem 0 .4rem}
a{color:#0550ae} code{font-size:.85em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border:1px solid #d0d7de;padding:.25rem .45rem;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f6f8fa}
.meta td:first-child{width:13rem;font-weight:600;background:#f6f8fa}
.badge{display:inline-block;border-radius:.3rem;padding:0 .45rem;color:#fff;font-size:.85rem;white-space:nowrap}
.ok{background:#1a7f37}.ko{background:#cf222e}.manuel{background:#8250df}.ne{background:#9a6700}.nc{background:#6e7781}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0}
.counts span{font-size:1rem;padding:.2rem .7rem}
nav{background:#f6f8fa;border:1px solid #d0d7de;border-radius:.4rem;padding:.4rem .8rem;margin:1rem 0}
nav ol{margin:.2rem 0;padding-left:1.4rem;columns:2;column-gap:2.6rem}
.step{border:1px solid #d0d7de;border-radius:.4rem;padding:.2rem 1rem 1rem;margin:1.2rem 0}
.sequence{display:block;max-width:100%;height:auto;margin:.6rem 0;font-size:11px}
.sequence rect.actor{fill:#ddf4ff;stroke:#0969da}
.sequence text.actor{text-anchor:middle;font-weight:600;font-size:12px}
.sequence line.life{stroke:#8c959f;stroke-dasharray:4 4}
.sequence .arrow line{stroke:#57606a;stroke-width:1.3}.sequence .arrow path{fill:#57606a}
.sequence .arrow text{text-anchor:middle;fill:#1f2328}
.sequence .evidence line{stroke:#0969da;stroke-width:2.2}.sequence .evidence path{fill:#0969da}
.sequence .evidence text{font-weight:600}
.sequence .ko line{stroke:#cf222e}.sequence .ko path{fill:#cf222e}.sequence .ko text{fill:#cf222e}
.sequence text.none{text-anchor:middle;fill:#57606a}
.exchange{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,1fr);gap:1rem;
border-top:1px solid #d0d7de;padding-top:.6rem;margin-top:.8rem}
.exchange>div{min-width:0}
.exchange.preuve{border-left:4px solid #0969da;padding-left:.6rem}
details{margin:.25rem 0} summary{cursor:pointer;font-weight:600;font-size:.9rem}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.5rem;max-height:26rem;overflow:auto;
font-size:.78rem;white-space:pre;margin:.3rem 0}
table.findings{table-layout:fixed} .findings code{overflow-wrap:anywhere}
table.exigences td:first-child{white-space:nowrap;width:9.5rem} table.exigences td:nth-child(2){width:4rem}
table.exigences td:nth-child(4){width:12rem} table.exigences td:nth-child(5),table.exigences td:nth-child(6){width:10rem}
.none{color:#57606a;font-style:italic}
iframe{width:100%;height:36rem;border:1px solid #d0d7de}
footer{margin-top:2rem;font-size:.8rem;color:#57606a}
@media (max-width:1100px){.exchange{grid-template-columns:minmax(0,1fr)} nav ol{columns:1}}
@media print{body{max-width:none;padding:0;font-size:10pt} nav{display:none} iframe{display:none}
.step{break-inside:auto;border:none;padding:0} .exchange{grid-template-columns:minmax(0,1fr)}
pre{max-height:none;white-space:pre-wrap;word-break:break-all} a{color:inherit;text-decoration:none}
.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

_PRINT_SCRIPT = ("<script>addEventListener('beforeprint',()=>document.querySelectorAll('details')"
                 ".forEach(d=>d.open=true));</script>")


def badge(text: str, kind: str) -> str:
    return f'<span class="badge {_CSS[kind]}">{escape(text)}</span>'


def step_anchor(step: str) -> str:
    return f"etape-{step}"


def exchange_anchor(exchange_id: int | None) -> str:
    return f"echange-{exchange_id}"


def requirement_anchor(requirement: str) -> str:
    return f"exigence-{requirement}"


def _when(timestamp: float | None) -> str:
    return time.strftime("%d/%m/%Y %H:%M:%S", time.localtime(timestamp)) if timestamp else "—"


def _links(items, anchor, label=str) -> str:
    return ", ".join(f'<a href="#{anchor(i)}">{escape(label(i))}</a>' for i in items) or "—"


def _header(report: RunReport) -> str:
    run, profile = report.run, report.profile
    dui = escape(run.dui)
    if profile is not None:
        software = " ".join(filter(None, (profile.software, profile.software_version)))
        dui += escape(f" — {profile.label or profile.name}" + (f", {profile.editor}" if profile.editor else "")
                      + (f", logiciel {software}" if software else "") + f", structure {profile.structure_type}")
    rows = [
        ("Exécution", escape(run.id)),
        ("Scénario", escape(f"{report.scenario_title} ({run.scenario})")),
        ("Profil DSR", escape(report.scenario_profile or "—")),
        ("Profil du DUI", dui),
        ("Pilote", escape(run.driver)),
        ("Début — fin", f"{_when(run.started_at)} — {_when(run.ended_at)}"),
        ("Statut", escape(run.status)),
        ("Version du banc", escape(report.bench_version)),
        ("Paquet ANS (règles CDA)", escape(report.ans_version)),
        ("Rapport généré le", _when(report.generated_at)),
    ]
    return "<table class='meta'>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _requirements(report: RunReport) -> str:
    counts = report.counts()
    out = ["<h2 id='exigences'>Verdict par exigence</h2><div class='counts'>",
           *(badge(f"{counts[c]} {c}", c) for c in CATEGORIES), "</div>",
           "<table class='exigences'><tr><th>Exigence</th><th>Niveau</th><th>Résumé</th><th>Verdict</th>"
           "<th>Étapes</th><th>Échanges</th></tr>"]
    for row in report.requirements:
        out.append(
            f"<tr id='{requirement_anchor(row.requirement)}'><td><code>{escape(row.requirement)}</code></td>"
            f"<td>{escape(row.level)}</td><td>{escape(row.summary)}</td><td>{badge(row.shown, row.category)}</td>"
            f"<td>{_links(row.steps, step_anchor)}</td>"
            f"<td>{_links(row.evidence, exchange_anchor, lambda e: f'journal:{e}')}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _findings_table(findings: list[Finding]) -> str:
    if not findings:
        return "<p class='none'>Aucun constat.</p>"
    rows = "".join(
        f"<tr><td>{escape(f.severity.label)}</td><td><code>{escape(f.rule_id)}</code>"
        + (f"<br><small>{escape(f.ruleset)}</small>" if f.ruleset else "")
        + f"</td><td>{escape(f.message)}"
        + (f"<br><small>emplacement : <code>{escape(f.location)}</code></small>" if f.location else "")
        + f"</td><td>{_links(f.requirements, requirement_anchor)}</td></tr>"
        for f in findings)
    return ("<table class='findings'><colgroup><col style='width:17%'><col style='width:25%'><col>"
            "<col style='width:19%'></colgroup><tr><th>Gravité</th><th>Règle</th><th>Message</th><th>Exigences</th></tr>"
            f"{rows}</table>")


def _parts(title: str, parts: list[Part]) -> str:
    if not parts:
        return f"<p class='none'>{escape(title)} : vide.</p>"
    return f"<h4>{escape(title)}</h4>" + "".join(
        f"<details{' open' if part.key else ''}><summary>{escape(part.title)}</summary>"
        f"<pre>{escape(part.text)}</pre></details>" for part in parts)


def _exchange(step: StepView, exchange: Exchange, source: str, target: str) -> str:
    findings = list({(f.rule_id, f.message): f for f in [*exchange.findings, *step.findings_of(exchange.id or 0)]}.values())
    proof = exchange.id in step.evidence
    summary = ", ".join(f"{k} : {v}" for k, v in exchange.summary.items()
                        if k in ("patient_ins", "document_unique_id", "message_id", "mailbox") and v)
    return (
        f"<article class='exchange{' preuve' if proof else ''}' id='{exchange_anchor(exchange.id)}'><div>"
        f"<h4>journal:{exchange.id} — {escape(source)} → {escape(target)} : {escape(exchange.service)} "
        f"{escape(exchange.operation)} (statut {escape(exchange.status or '—')})"
        + (" — preuve de l'étape" if proof else "") + "</h4>"
        f"<p><small>{_when(exchange.started_at)}, {exchange.duration_ms:.0f} ms, canal {escape(exchange.channel)}, "
        f"DUI : {escape(exchange.dui or UNKNOWN_DUI)}, pair {escape(exchange.peer or '—')}"
        + (f", certificat {escape(exchange.peer_certificate)}" if exchange.peer_certificate else "")
        + (f"<br>{escape(summary)}" if summary else "") + "</small></p>"
        + _parts("Requête", request_parts(exchange)) + _parts("Réponse", response_parts(exchange))
        + _documents(exchange) + "</div><div><h4>Constats sur cet échange</h4>" + _findings_table(findings) + "</div></article>")


def _documents(exchange: Exchange) -> str:
    """The CDA documents the exchange carried, rendered with the ANS package's stylesheet."""
    from banc.cda.package import PackageError
    from banc.cda.render import render_html

    out = []
    for document in documents(exchange_files(exchange)):
        try:
            rendering = render_html(document.data)
        except PackageError as exc:
            rendering = f"<p>Rendu indisponible : {escape(str(exc))}</p>"
        out.append(f"<h4>{escape(document.description)}</h4>" + framed_rendering(rendering))
    return "".join(out)


def step_section(step: StepView) -> str:
    """One step of the report: outcome, diagram, findings, proofs, its exchanges (also shown
    alone by the notebooks)."""
    result = step.result
    kind = category(result.outcome)
    out = [f"<section class='step' id='{step_anchor(result.step)}'>"
           f"<h3>{result.position + 1}. {escape(result.title)} {badge(str(result.outcome), kind)}</h3>"
           f"<p>{escape(result.kind)} — exigences : {_links(result.requirements, requirement_anchor)} — "
           f"durée {result.ended_at - result.started_at:.1f} s"
           + (f"<br>{escape(result.reason)}" if result.reason else "") + "</p>",
           sequence_svg([a for a in step.arrows], step.evidence, exchange_anchor)]
    unplaced = step.unplaced_findings()
    if unplaced:
        out.append("<h4>Constats de l'étape</h4>" + _findings_table(unplaced))
    for proof in step.proofs:
        out.append(f"<p>Preuve manuelle jointe : <b>{escape(proof['name'])}</b> ({proof['size']} octets)"
                   + (f" — {escape(proof['note'])}" if proof["note"] else "") + "</p>")
    out.extend(_exchange(step, a.exchange, a.source, a.target) for a in step.arrows)
    out.append("</section>")
    return "".join(out)


def to_html(report: RunReport) -> str:
    run = report.run
    toc = "".join(f"<li><a href='#{step_anchor(s.result.step)}'>{escape(s.result.title)}</a> — "
                  f"{escape(str(s.result.outcome))}</li>" for s in report.steps)
    proofs = "".join(f"<li><a href='#{step_anchor(p['step'])}'>{escape(p['step'])}</a> : {escape(p['name'])} "
                     f"({p['size']} octets){' — ' + escape(p['note']) if p['note'] else ''}</li>"
                     for p in report.proofs)
    return (
        "<!DOCTYPE html>\n<html lang='fr'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Banc Ségur — exécution {escape(run.id)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Banc Ségur — rapport d'exécution : {escape(report.scenario_title)}</h1>"
        + _header(report)
        + "<nav><b>Sommaire</b><ol><li><a href='#exigences'>Verdict par exigence</a></li>"
        + toc + ("<li><a href='#preuves'>Preuves manuelles</a></li>" if proofs else "") + "</ol></nav>"
        + _requirements(report)
        + "<h2 id='etapes'>Étapes et échanges</h2>"
        + "<p>Chaque diagramme montre les échanges enregistrés au journal pendant l'étape ; en bleu, ceux "
          "sur lesquels repose le verdict, en rouge ceux que le simulateur a jugés non conformes. Un clic "
          "mène au message.</p>"
        + "".join(step_section(s) for s in report.steps)
        + (f"<h2 id='preuves'>Preuves manuelles jointes</h2><ul>{proofs}</ul>" if proofs else "")
        + "<footer>Verdicts tirés des seuls échanges observés par les simulateurs du banc. « Réussi » n'est "
          "dit que d'une exigence dont toutes les étapes ont réussi ; une preuve manuelle reste à juger par "
          "un relecteur. Les messages bruts complets sont dans le paquet de preuves (banc rapport --paquet)."
          "</footer>" + _PRINT_SCRIPT + "</body></html>\n")
