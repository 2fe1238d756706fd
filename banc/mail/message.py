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

# Input budget. The stdlib's structured header parser costs far more than linear time and
# memory on hostile values (50 000 RFC 2047 words in one Subject: > 20 GB), its MIME parser
# recurses once per nesting level and walks every part: these bounds keep one message's cost
# small whatever it holds. Real health messages are far below them (≤ 10 parts, depth ≤ 3).
MAX_HEADER_CHARS = 4096
"""A header value longer than this is parsed truncated (and reported): ~60 folded lines."""
MAX_MIME_PARTS = 1000
"""Boundary delimiter lines a message may hold before its body is left unparsed."""
MAX_MULTIPARTS = 50
"""Distinct multipart boundaries (an upper bound of the nesting depth) before the same."""


class _BoundedPolicy(email.policy.EmailPolicy):
    """`email.policy.default` whose structured header parsing sees at most `MAX_HEADER_CHARS`
    of a value: the cost of decoding a header is bounded whatever the sender put in it."""

    def header_fetch_parse(self, name: str, value: str):  # type: ignore[override]
        if len(value) > MAX_HEADER_CHARS and not hasattr(value, "name"):
            value = value[:MAX_HEADER_CHARS]
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy(raise_on_defect=False)


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
    limits: list[str] = field(default_factory=list)  # input budget exceeded: what was skipped

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


def mime_budget_exceeded(raw: bytes) -> str | None:
    """Why the MIME structure of `raw` is too costly to parse (None when it is not): a linear
    scan counting the declared multipart boundaries and their delimiter lines."""
    boundaries = set(_BOUNDARY.findall(raw))
    if len(boundaries) > MAX_MULTIPARTS:
        return (f"{len(boundaries)} parties multipart imbriquées ou juxtaposées "
                f"(au plus {MAX_MULTIPARTS}) : corps non analysé")
    delimiters = sum(1 for m in _DELIMITER.finditer(raw) if m.group(1).strip(b'"') in boundaries)
    if delimiters > MAX_MIME_PARTS:
        return f"{delimiters} délimiteurs de parties MIME (au plus {MAX_MIME_PARTS}) : corps non analysé"
    return None


_BOUNDARY = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.IGNORECASE)
_DELIMITER = re.compile(rb"(?m)^--([^\r\n]+?)(?:--)?[ \t]*\r?$")


def _oversized_headers(part: EmailMessage) -> list[str]:
    return [f"en-tête {name} de {len(value)} caractères : seuls les {MAX_HEADER_CHARS} premiers "
            "sont analysés" for name, value in part.raw_items() if len(value) > MAX_HEADER_CHARS]


def _headers(raw: bytes) -> tuple[bytes, EmailMessage]:
    block = split_header_block(raw)
    head = email.parser.BytesHeaderParser(policy=_POLICY).parsebytes(block + b"\r\n\r\n")
    assert isinstance(head, EmailMessage)
    return block, head


def parse_mail(raw: bytes, *, headers_only: bool = False) -> ParsedMail:
    """Parse `raw`; never raises on bad input (defects are listed instead).

    `headers_only` skips the body (the stdlib parser walks every line of the attachments,
    ~0.1 s per MB): enough for routing and the journal summary when no check runs. A body
    beyond the MIME budget is not parsed either; `limits` says what was skipped."""
    over_budget = None if headers_only else mime_budget_exceeded(raw)
    if headers_only or over_budget:
        block, head = _headers(raw)
        parsed = ParsedMail(raw=raw, message=head, header_block=block,
                            limits=_oversized_headers(head))
        if over_budget:
            parsed.limits.append(over_budget)
        return parsed
    message = email.message_from_bytes(raw, policy=_POLICY)
    assert isinstance(message, EmailMessage)
    parsed = ParsedMail(raw=raw, message=message, header_block=split_header_block(raw))
    for part in message.walk():
        parsed.defects.extend(_describe(defect) for defect in part.defects)
        parsed.limits.extend(_oversized_headers(part))
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
