"""The sequence diagram of one step, as inline SVG drawn from its journal exchanges.

One lane per actor (the DUI, the five national services, then the bench's simulated actors
the step involved), one arrow per exchange from its caller to the called service, linked to
the exchange's raw message in the report. Runs of plain `GET`s (a SOAP client fetching its WSDL
and XSDs) are drawn as one arrow so the exchanges that matter stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from banc.scenario.report.model import ACTORS, Arrow

LANE = 132
ROW = 30
TOP = 46
MARGIN = 70
LABEL_CHARS = 34


@dataclass(frozen=True)
class _Row:
    arrow: Arrow
    count: int
    evidence: bool


def _rows(arrows: list[Arrow], evidence: set[int]) -> list[_Row]:
    rows: list[_Row] = []
    for arrow in arrows:
        last = rows[-1] if rows else None
        if (last is not None and arrow.exchange.operation.startswith("GET ")
                and last.arrow.exchange.operation.startswith("GET ") and last.arrow.source == arrow.source
                and last.arrow.target == arrow.target and arrow.exchange.conform
                and arrow.exchange.id not in evidence):
            rows[-1] = _Row(last.arrow, last.count + 1, last.evidence)
        else:
            rows.append(_Row(arrow, 1, arrow.exchange.id in evidence))
    return rows


def lanes(arrows: list[Arrow]) -> list[str]:
    extra = [a for arrow in arrows for a in (arrow.source, arrow.target) if a not in ACTORS]
    return [*ACTORS, *dict.fromkeys(extra)]


def sequence_svg(arrows: list[Arrow], evidence: set[int], anchor: str) -> str:
    """SVG of the step's exchanges; `anchor(id)` gives the HTML id an arrow links to."""
    actors = lanes(arrows)
    x = {name: MARGIN + i * LANE for i, name in enumerate(actors)}
    rows = _rows(arrows, evidence)
    width = MARGIN * 2 + LANE * (len(actors) - 1)
    height = TOP + ROW * max(len(rows), 1) + 16
    out = [f'<svg class="sequence" viewBox="0 0 {width} {height}" width="{width}" role="img" '
           f'aria-label="diagramme de séquence" xmlns="http://www.w3.org/2000/svg">']
    for name, cx in x.items():
        out.append(f'<line class="life" x1="{cx}" y1="30" x2="{cx}" y2="{height - 4}"/>'
                   f'<rect class="actor" x="{cx - 60}" y="4" width="120" height="24" rx="4"/>'
                   f'<text class="actor" x="{cx}" y="21">{escape(name)}</text>')
    if not rows:
        out.append(f'<text class="none" x="{width // 2}" y="{TOP + 12}">aucun échange enregistré pendant cette étape</text>')
    for index, row in enumerate(rows):
        exchange = row.arrow.exchange
        y = TOP + index * ROW + 14
        x1, x2 = x[row.arrow.source], x[row.arrow.target]
        if x1 == x2:
            x2 = x1 + LANE // 2
        label = exchange.operation if row.count == 1 else f"{exchange.operation.split('?')[0]} … ×{row.count}"
        if len(label) > LABEL_CHARS:
            label = label[: LABEL_CHARS - 1] + "…"
        label = f"{label} → {exchange.status}" if exchange.status else label
        css = "arrow" + (" evidence" if row.evidence else "") + ("" if exchange.conform else " ko")
        middle = (x1 + x2) / 2
        tip = -8 if x2 > x1 else 8
        out.append(
            f'<a href="#{anchor(exchange.id)}"><g class="{css}"><title>journal:{exchange.id} — '
            f'{escape(exchange.service)} {escape(exchange.operation)}</title>'
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}"/>'
            f'<path d="M{x2},{y} l{tip},-4 l0,8 z"/>'
            f'<text x="{middle}" y="{y - 4}">journal:{exchange.id} {escape(label)}</text></g></a>')
    out.append("</svg>")
    return "".join(out)
