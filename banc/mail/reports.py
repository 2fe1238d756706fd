"""Machine-readable mail reports: MDN (RFC 8098) read/processing receipts and DSN (RFC 3464)
delivery status notifications — builders for the mock's simulated recipients and MTA, and
readers for tests and scenarios that must judge what came back.

MSSanté conventions (ANS IG "Transmission LPS doc CDA courriel MSSanté"): an integration error
is reported as `Disposition: automatic-action/MDN-sent-automatically; processed/Error:
<code>^<libellé>` with the business codes 900–906, and the subject is prefixed with
`[KO Intégration système !][<code>]`. Messages are built byte by byte (CRLF, explicit
boundaries) so the output is exactly what RFC 8098/3464 readers expect.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time
import uuid
from dataclasses import dataclass
from email.utils import format_datetime

from banc.mail.message import parse_mail, split_header_block

INTEGRATION_ERRORS: dict[int, str] = {
    900: "Version du document incorrecte lors d'une demande de remplacement/suppression",
    901: "Auteur non autorisé à remplacer ou supprimer un document",
    902: "Identifiant patient inconnu",
    903: "INS non présent dans le document",
    904: "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur",
    905: "L'INS transmis n'est pas complet",
    906: "Erreur 'Autre'",
}
"""MSSanté/DPI business error codes of the IG's applicationErrorCondition table."""

KO_PREFIX = "[KO Intégration système !]"


def _encode_header(value: str) -> str:
    """RFC 2047 (UTF-8, base64) for non-ASCII header values, so headers stay 7-bit."""
    if value.isascii():
        return value
    return f"=?utf-8?b?{base64.b64encode(value.encode()).decode()}?="


def _date(now: float | None) -> str:
    moment = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.UTC)
    return format_datetime(moment.astimezone())


def _message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"


def _headers(pairs: list[tuple[str, str]]) -> bytes:
    return b"".join(f"{name}: {value}\r\n".encode() for name, value in pairs)


def _text_part(text: str) -> bytes:
    body = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
    return (
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + body
    )


def _multipart_report(report_type: str, parts: list[bytes]) -> tuple[str, bytes]:
    boundary = f"=_banc_{uuid.uuid4().hex}"
    body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
    body += f"--{boundary}--\r\n".encode()
    content_type = f'multipart/report; report-type={report_type}; boundary="{boundary}"'
    return content_type, body


def _crlf(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", raw)


@dataclass(frozen=True)
class MdnRequest:
    """What the original message says about the receipt it wants."""

    notify_to: str
    original_message_id: str
    subject: str
    original_recipient: str | None = None


def build_mdn(
    original: bytes,
    *,
    final_recipient: str,
    notify_to: str,
    error_code: int | None = None,
    reporting_ua: str = "banc-segur; Banc Segur (destinataire simule)",
    now: float | None = None,
) -> bytes:
    """An MDN for `original` sent by `final_recipient` to `notify_to`: `processed`, or
    `processed/Error: <code>^<libellé>` when the simulated recipient could not integrate."""
    parsed = parse_mail(original)
    subject = parsed.header("Subject") or ""
    original_id = parsed.header("Message-ID") or ""
    disposition = "automatic-action/MDN-sent-automatically; processed"
    if error_code is None:
        text = f"Le message {original_id} a été intégré automatiquement par {final_recipient}."
        out_subject = subject
    else:
        label = INTEGRATION_ERRORS.get(error_code, INTEGRATION_ERRORS[906])
        disposition += f"/Error: {error_code}^{label}"
        text = (
            "Le message ci-dessous n'a pas pu être intégré automatiquement dans le dossier pour la "
            f"raison suivante : {label} (code {error_code})."
        )
        out_subject = f"{KO_PREFIX}[{error_code}] {subject}"
    fields = [("Reporting-UA", reporting_ua)]
    original_recipient = parsed.header("Original-Recipient")
    if original_recipient:
        fields.append(("Original-Recipient", original_recipient))
    fields += [
        ("Final-Recipient", f"rfc822;{final_recipient}"),
        ("Original-Message-ID", original_id),
        ("Disposition", _encode_header(disposition)),
    ]
    report = b"Content-Type: message/disposition-notification\r\n\r\n" + _headers(fields)
    embedded = b"Content-Type: message/rfc822\r\n\r\n" + _crlf(original)
    content_type, body = _multipart_report(
        "disposition-notification", [_text_part(text), report, embedded]
    )
    head = _headers([
        ("From", final_recipient),
        ("To", notify_to),
        ("Subject", _encode_header(out_subject)),
        ("Date", _date(now)),
        ("Message-ID", _message_id(_domain(final_recipient))),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
    ])
    return head + b"\r\n" + body


@dataclass(frozen=True)
class DeliveryStatus:
    """One recipient's line of a DSN."""

    recipient: str
    action: str  # "failed", "delivered", "delayed", "relayed", "expanded"
    status: str  # enhanced status code, e.g. "5.1.1"
    diagnostic: str = ""
    original_recipient: str | None = None


def build_dsn(
    original: bytes,
    *,
    sender: str,
    statuses: list[DeliveryStatus],
    reporting_mta: str,
    envelope_id: str | None = None,
    return_full: bool = False,
    now: float | None = None,
) -> bytes:
    """A DSN to `sender` about `original`; `return_full` is RET=FULL (else headers only)."""
    moment = _date(now)
    failed = [s for s in statuses if s.action == "failed"]
    lines = ["Ceci est un message automatique du serveur MSSanté simulé (Banc Ségur).", ""]
    if failed:
        lines.append("Votre message n'a pas pu être remis aux destinataires suivants :")
    else:
        lines.append("Compte rendu de remise de votre message :")
    lines += [f"  {s.recipient} : {s.action} ({s.status}) {s.diagnostic}".rstrip() for s in statuses]
    per_message = [("Reporting-MTA", f"dns;{reporting_mta}")]
    if envelope_id:
        per_message.append(("Original-Envelope-Id", envelope_id))
    per_message.append(("Arrival-Date", moment))
    blocks = [_headers(per_message)]
    for status in statuses:
        fields = []
        if status.original_recipient:
            fields.append(("Original-Recipient", status.original_recipient))
        fields += [
            ("Final-Recipient", f"rfc822;{status.recipient}"),
            ("Action", status.action),
            ("Status", status.status),
        ]
        if status.diagnostic:
            fields.append(("Diagnostic-Code", f"smtp;{_encode_header(status.diagnostic)}"))
        blocks.append(_headers(fields))
    report = b"Content-Type: message/delivery-status\r\n\r\n" + b"\r\n".join(blocks)
    if return_full:
        returned = b"Content-Type: message/rfc822\r\n\r\n" + _crlf(original)
    else:
        returned = (
            b"Content-Type: text/rfc822-headers\r\n\r\n" + _crlf(split_header_block(original))
            + b"\r\n"
        )
    content_type, body = _multipart_report(
        "delivery-status", [_text_part("\n".join(lines) + "\n"), report, returned]
    )
    subject = "Échec de remise du message" if failed else "Compte rendu de remise du message"
    head = _headers([
        ("From", f"MAILER-DAEMON@{reporting_mta}"),
        ("To", sender),
        ("Subject", _encode_header(subject)),
        ("Date", moment),
        ("Message-ID", _message_id(reporting_mta)),
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        ("Content-Type", content_type),
    ])
    return head + b"\r\n" + body


# -- readers ---------------------------------------------------------------------------------

def _report_fields(raw: bytes, content_type: str) -> list[dict[str, str]]:
    """Field groups of the report part (`content_type`) of a multipart/report, or []."""
    parsed = parse_mail(raw)
    for part in parsed.message.walk():
        if part.get_content_type() != content_type:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):  # the parser splits message/* parts into sub-messages
            text = "\n\n".join(p.as_string() for p in payload)
        else:
            text = str(payload)
        groups = []
        for block in re.split(r"\r?\n\s*\r?\n", text.strip()):
            fields = {}
            for line in re.split(r"\r?\n(?![ \t])", block):
                name, sep, value = line.partition(":")
                if sep:
                    fields[name.strip().lower()] = re.sub(r"\s+", " ", value).strip()
            if fields:
                groups.append(fields)
        return groups
    return []


@dataclass(frozen=True)
class MdnReport:
    disposition: str
    final_recipient: str
    original_message_id: str
    error_code: int | None


def read_mdn(raw: bytes) -> MdnReport | None:
    """The disposition of an MDN, None when `raw` is not one."""
    from email.header import decode_header, make_header

    groups = _report_fields(raw, "message/disposition-notification")
    if not groups:
        return None
    fields = {k: v for group in groups for k, v in group.items()}
    disposition = str(make_header(decode_header(fields.get("disposition", ""))))
    code = re.search(r"error:\s*(\d{3})", disposition, re.IGNORECASE)
    return MdnReport(
        disposition=disposition,
        final_recipient=fields.get("final-recipient", "").split(";", 1)[-1].strip(),
        original_message_id=fields.get("original-message-id", ""),
        error_code=int(code.group(1)) if code else None,
    )


def read_dsn(raw: bytes) -> list[DeliveryStatus]:
    """Per-recipient statuses of a DSN ([] when `raw` is not one)."""
    groups = _report_fields(raw, "message/delivery-status")
    return [
        DeliveryStatus(
            recipient=g.get("final-recipient", "").split(";", 1)[-1].strip(),
            action=g.get("action", ""),
            status=g.get("status", ""),
            diagnostic=g.get("diagnostic-code", ""),
            original_recipient=g.get("original-recipient"),
        )
        for g in groups[1:]
    ]
