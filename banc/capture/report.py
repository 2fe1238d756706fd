"""The import's text report: each captured exchange classified and judged, in French.

Captures from a test platform hold test identities only, but are treated as sensitive anyway:
`Redactor` masks, in everything the report prints, the INS / NIR and the names the captured
requests carry (INSi traits, HL7 and CDA names), so a report can be shared. The journal keeps
the raw bytes (the checks need them); only what is shown is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from banc.capture.classify import describe
from banc.capture.replay import Imported

NIR = re.compile(rb"(?<!\d)[123478]\d{12}(?:\d{2})?(?!\d)")
NAMED = re.compile(rb"<(?:[\w-]+:)?(?:NomNaissance|Prenom|PrenomUsuel|NomUsuel|family|given)\b[^>]*>([^<]{2,})<")
MASK = "•••"


class Redactor:
    """Masks INS / NIR numbers and the personal names found in the captured requests."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.words: set[str] = set()

    def learn(self, data: bytes) -> None:
        """Remember the names a request carries (its INS are masked by pattern anyway)."""
        if not self.enabled:
            return
        for match in NAMED.finditer(data):
            word = match.group(1).decode("utf-8", "replace").strip()
            if len(word) >= 2:
                self.words.add(word)

    def __call__(self, text: str) -> str:
        if not self.enabled:
            return text
        text = NIR.sub(MASK.encode(), text.encode("utf-8")).decode("utf-8")
        for word in sorted(self.words, key=len, reverse=True):
            text = re.sub(rf"(?i)(?<!\w){re.escape(word)}(?!\w)", MASK, text)
        return text


def lines(imported: Iterable[Imported], redact: Redactor) -> list[str]:
    """One block per exchange: classification, upstream status, verdict, findings."""
    imported = list(imported)
    for item in imported:
        redact.learn(item.captured.body)
    out: list[str] = []
    for item in imported:
        exchange = item.exchange
        capture = exchange.summary.get("capture", {})
        if not item.judged:
            verdict = "non jugé"
        else:
            verdict = "conforme" if exchange.conform else "NON CONFORME"
        label = describe(exchange.service, exchange.operation)
        out.append(f"#{exchange.id}  {label}  — amont {capture.get('statut_amont') or 'sans réponse'}"
                   f", simulateur {capture.get('statut_simulateur', '—')} — {verdict}")
        for finding in exchange.findings:
            cited = f" [{', '.join(finding.requirements)}]" if finding.requirements else ""
            out.append(redact(f"    {finding.severity.value:<7} {finding.rule_id} : {finding.message}{cited}"))
    judged = [i for i in imported if i.judged]
    failing = sum(not i.exchange.conform for i in judged)
    out.append(f"{len(imported)} échange(s) importé(s), {len(judged)} jugé(s), {failing} non conforme(s). "
               "MSSanté (SMTP/IMAP) n'est pas capturé par l'enregistreur HTTP.")
    return out
