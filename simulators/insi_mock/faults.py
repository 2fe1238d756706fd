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
    "INSI.AUTH.CERTIFICAT": ("desir_560", "erreur"),
    "INSI.AUTH.ABSENTE": ("desir_561", "erreur"),  # (?)
    "INSI.AUTH.ASSERTION": ("desir_562", "erreur"),  # (?)
    "INSI.LPS.IDAM": ("desir_550", "erreur"),
    "INSI.LPS": ("desir_520", "erreur"),  # (?)
    "INSI.BAM": ("desir_521", "erreur"),  # (?)
    "INSI.WSA": ("desir_530", "erreur"),  # (?)
    "INSI.SOAP": ("desir_510", "fatale"),  # (?) unreadable message
    "INSI.XSD": ("desir_511", "erreur"),  # (?)
    "INSI.TRAITS": ("insi_101", "erreur"),  # (?)
    "INSI.VITALE": ("insi_102", "erreur"),  # (?)
    "INSI.INTERNE": ("desir_900", "fatale"),  # (?)
}


def siram_code(rule_id: str) -> tuple[str, str]:
    """The (code, severite) for a rule id: exact entry first, then the longest prefix."""
    parts = rule_id.split(".")
    for length in range(len(parts), 0, -1):
        found = FAULT_CODES.get(".".join(parts[:length]))
        if found:
            return found
    return FAULT_CODES["INSI.INTERNE"]


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
        "Receiver" if finding.rule_id == "INSI.INTERNE" else "Sender",
        text,
        subcodes=((SIRAM_NS, "siram_100"),),
        detail=[_erreur(code, severity, finding.message, message_id)],
    )
    headers = addressing_headers(FAULT_ACTION, relates_to=message_id)
    return build_fault(fault, headers), code


def version_mismatch(message: str) -> tuple[bytes, str]:
    """A non-SOAP-1.2 envelope: VersionMismatch with the Upgrade header and a siram detail."""
    code, severity = FAULT_CODES["INSI.SOAP"]
    return version_mismatch_fault(message, detail=[_erreur(code, severity, message, None)]), code
