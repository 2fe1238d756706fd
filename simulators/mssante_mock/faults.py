"""Findings → what a real MSSanté operator answers: SMTP reply lines (enhanced status codes,
RFC 3463), IMAP `NO [AUTHENTICATIONFAILED]` texts, and the per-recipient DSN statuses of a
bounce. Wording is French in the journal; on the wire it is folded to ASCII by the servers."""

from __future__ import annotations

from banc.mail.reports import DeliveryStatus
from banc.verdict import Finding

_BOUNCES = {
    "MSS.DELIVERY.UNKNOWN": ("5.1.1", "550 5.1.1 destinataire inconnu de l'annuaire MSSante"),
    "MSS.DELIVERY.CLOSED": ("5.2.1", "550 5.2.1 boite aux lettres fermee"),
    "MSS.DELIVERY.TOO_LARGE": ("5.2.3", "552 5.2.3 message au-dela de 25 Mo pour cette boite"),
}


def _reasons(findings: list[Finding]) -> str:
    return "; ".join(f"[{f.rule_id}] {f.message}" for f in findings)


def dsn_status(recipient: str, finding: Finding, original: str | None = None) -> DeliveryStatus:
    """The DSN line of a recipient the operator could not deliver to."""
    status, diagnostic = _BOUNCES.get(finding.rule_id, ("5.0.0", "550 5.0.0 remise impossible"))
    return DeliveryStatus(recipient, "failed", status, diagnostic, original)


def smtp_auth_refusal(findings: list[Finding]) -> str:
    return f"535 5.7.8 authentification refusée : {_reasons(findings)}"


def smtp_sender_refusal(finding: Finding) -> str:
    return f"553 5.7.1 expéditeur refusé : [{finding.rule_id}] {finding.message}"


def imap_auth_refusal(findings: list[Finding]) -> str:
    return f"[AUTHENTICATIONFAILED] {_reasons(findings)}"


IMAP_LOGIN_REFUSAL = (
    "[AUTHENTICATIONFAILED] LOGIN refusé : utilisez AUTHENTICATE XOAUTH2 (jeton Pro Santé "
    "Connect) ou AUTHENTICATE EXTERNAL (certificat de boîte applicative)"
)
