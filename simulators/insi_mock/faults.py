"""Findings → the INSi error format: HTTP 500, SOAP 1.2 Fault, Subcode `siram:siram_100`,
`Detail/siram:Erreur` with `code` and `severite` (values of `schema_faultSOAP_V01_01.xsd`).

Codes seen in public material: `desir_550` (unknown software id) and `desir_560` (certificate
not authorised). The others are the bench's own choice (marked `(?)` in docs/insi-mock.md),
kept in `FAULT_CODES` so they can be aligned with the real service without touching the rules.
"""

from __future__ import annotations

from lxml import etree

from banc.soap import Fault, addressing_headers, build_fault, version_mismatch_fault
from banc.verdict import Finding
from simulators.insi_mock.wire import SIRAM_NS

FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"
HTTP_STATUS = 500

FAULT_CODES: dict[str, tuple[str, str]] = {
    # rule id (or prefix) → (siram code, severite)
    "insi.auth.certificat": ("desir_560", "erreur"),
    "insi.auth.absente": ("desir_561", "erreur"),  # (?)
    "insi.auth.assertion": ("desir_562", "erreur"),  # (?)
    "insi.lps.idam": ("desir_550", "erreur"),
    "insi.lps": ("desir_520", "erreur"),  # (?)
    "insi.bam": ("desir_521", "erreur"),  # (?)
    "insi.wsa": ("desir_530", "erreur"),  # (?)
    "insi.soap": ("desir_510", "fatale"),  # (?) unreadable message
    "insi.xsd": ("desir_511", "erreur"),  # (?)
    "insi.traits": ("insi_101", "erreur"),  # (?)
    "insi.vitale": ("insi_102", "erreur"),  # (?)
    "insi.interne": ("desir_900", "fatale"),  # (?)
}


def siram_code(rule_id: str) -> tuple[str, str]:
    """The (code, severite) for a rule id: exact entry first, then the longest prefix."""
    parts = rule_id.split(".")
    for length in range(len(parts), 0, -1):
        found = FAULT_CODES.get(".".join(parts[:length]))
        if found:
            return found
    return FAULT_CODES["insi.interne"]


def _erreur(code: str, severity: str, message: str, message_id: str | None) -> etree._Element:
    element = etree.Element(f"{{{SIRAM_NS}}}Erreur", nsmap={"siram": SIRAM_NS})
    element.set("severite", severity)
    element.set("code", code)
    if message_id:
        element.set("messageID", message_id)
    element.text = message
    return element


def fault_for(finding: Finding, *, message_id: str | None = None) -> tuple[bytes, str]:
    """(response bytes, siram code) for the finding that decides a refusal."""
    code, severity = siram_code(finding.rule_id)
    text = f"{finding.message} [{finding.rule_id}]" + (f" ({finding.location})" if finding.location else "")
    fault = Fault(
        "Receiver" if finding.rule_id.startswith("insi.interne") else "Sender",
        text,
        subcodes=((SIRAM_NS, "siram_100"),),
        detail=[_erreur(code, severity, finding.message, message_id)],
    )
    headers = addressing_headers(FAULT_ACTION, relates_to=message_id)
    return build_fault(fault, headers), code


def version_mismatch(message: str) -> tuple[bytes, str]:
    """A non-SOAP-1.2 envelope: VersionMismatch with the Upgrade header and a siram detail."""
    code, severity = FAULT_CODES["insi.soap"]
    return version_mismatch_fault(message, detail=[_erreur(code, severity, message, None)]), code
