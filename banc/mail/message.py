"""Parse a raw RFC 5322 message from outside into a structure the checks can read, safely.

The standard library parser never raises on malformed MIME: it records *defects*. We keep them
(each becomes a finding) and add what it does not see: raw 8-bit bytes in the header block
(forbidden without SMTPUTF8/RFC 2047 encoding), the size, and the attachments as bytes.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""Transport limit of the mock (the per-mailbox limit of MSSanté, 25 MB, is a bounce rule)."""

_POLICY = email.policy.default.clone(raise_on_defect=False)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    payload: bytes
    charset: str | None = None


@dataclass
class ParsedMail:
    """A received message: headers, text parts, attachments and parser defects."""

    raw: bytes
    message: EmailMessage
    header_block: bytes
    attachments: list[Attachment] = field(default_factory=list)
    texts: list[tuple[str, str | None, bytes]] = field(default_factory=list)  # (type, charset, bytes)
    defects: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """A header value (RFC 2047 decoded), None when absent or unreadable."""
        try:
            value = self.message.get(name)
        except (ValueError, IndexError, TypeError):
            return None
        return None if value is None else str(value).strip()

    def addresses(self, *names: str) -> list[str]:
        """Lower-cased addresses of the given headers (e.g. 'To', 'Cc')."""
        values = []
        for name in names:
            values.extend(str(v) for v in self.message.get_all(name, ()) or ())
        return [addr.lower() for _, addr in getaddresses(values) if addr]

    def attachments_named(self, pattern: str) -> list[Attachment]:
        regex = re.compile(pattern, re.IGNORECASE)
        return [a for a in self.attachments if regex.search(a.filename)]


def split_header_block(raw: bytes) -> bytes:
    """The raw header block (up to the first empty line), to inspect bytes the parser hides."""
    match = re.search(rb"\r?\n\r?\n", raw)
    return raw[: match.start()] if match else raw


def parse_mail(raw: bytes, *, headers_only: bool = False) -> ParsedMail:
    """Parse `raw`; never raises on bad input (defects are listed instead).

    `headers_only` skips the body (the stdlib parser walks every line of the attachments,
    ~0.1 s per MB): enough for routing and the journal summary when no check runs."""
    if headers_only:
        block = split_header_block(raw)
        head = email.parser.BytesHeaderParser(policy=_POLICY).parsebytes(block + b"\r\n\r\n")
        assert isinstance(head, EmailMessage)
        return ParsedMail(raw=raw, message=head, header_block=block)
    message = email.message_from_bytes(raw, policy=_POLICY)
    assert isinstance(message, EmailMessage)
    parsed = ParsedMail(raw=raw, message=message, header_block=split_header_block(raw))
    for part in message.walk():
        parsed.defects.extend(_describe(defect) for defect in part.defects)
        if part.is_multipart():
            continue
        filename = _filename(part)
        try:
            payload = part.get_payload(decode=True) or b""
        except (ValueError, AssertionError, LookupError):
            parsed.defects.append(f"contenu illisible dans la partie {part.get_content_type()}")
            payload = b""
        content_type = part.get_content_type()
        if filename or part.get_content_disposition() == "attachment":
            parsed.attachments.append(
                Attachment(filename or "", content_type, payload, part.get_content_charset())
            )
        elif part.get_content_maintype() == "text":
            parsed.texts.append((content_type, part.get_content_charset(), payload))
    return parsed


def _filename(part: EmailMessage) -> str | None:
    try:
        return part.get_filename()
    except (ValueError, IndexError, TypeError):
        return None


_DEFECTS_FR = {
    "StartBoundaryNotFoundDefect": "délimiteur MIME de début introuvable",
    "CloseBoundaryNotFoundDefect": "délimiteur MIME de fin absent",
    "MultipartInvariantViolationDefect": "partie multipart sans sous-parties",
    "NoBoundaryInMultipartDefect": "multipart sans paramètre boundary",
    "MissingHeaderBodySeparatorDefect": "ligne d'en-tête sans « : » (séparateur manquant)",
    "InvalidBase64PaddingDefect": "base64 mal complété",
    "InvalidBase64CharactersDefect": "caractères invalides dans le base64",
    "InvalidBase64LengthDefect": "longueur de base64 invalide",
    "FirstHeaderLineIsContinuationDefect": "première ligne d'en-tête en continuation",
    "MisplacedEnvelopeHeaderDefect": "ligne d'enveloppe « From » mal placée",
    "UndecodableBytesDefect": "octets non décodables dans un en-tête",
    "NonASCIILocalPartDefect": "partie locale d'adresse non ASCII",
    "InvalidHeaderDefect": "en-tête mal formé",
    "HeaderMissingRequiredValue": "en-tête sans valeur obligatoire",
    "ObsoleteHeaderDefect": "syntaxe d'en-tête obsolète",
}


def _describe(defect: Exception) -> str:
    label = _DEFECTS_FR.get(type(defect).__name__, type(defect).__name__)
    detail = str(defect)
    return f"{label} ({detail})" if detail and detail != label else label
