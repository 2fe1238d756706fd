"""MTOM/XOP (W3C XOP 1.0 over MIME multipart/related): parse and build, strictly.

The DMP repository receives ITI-41 and answers ITI-43 as MTOM: a `multipart/related` body whose
root part (`application/xop+xml`) is the SOAP envelope, where each binary document is replaced
by `<xop:Include href="cid:…"/>` pointing at another MIME part. Real clients get this wrong in
ways a real server refuses (wrong boundary, missing part, dangling reference), so every defect
raises `MtomError` with a stable `code` and a French message naming it — never a stack trace.

Parsing is byte-exact: a part's content is returned exactly as sent (no newline conversion), so
a retrieved document is byte-identical to the submitted one. Both CRLF (the standard) and bare
LF line ends (seen in the official DMP example files) are accepted.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from urllib.parse import unquote

from lxml import etree

XOP_NS = "http://www.w3.org/2004/08/xop/include"
XOP_INCLUDE = f"{{{XOP_NS}}}Include"
SOAP12_MEDIA_TYPE = "application/soap+xml"
XOP_MEDIA_TYPE = "application/xop+xml"

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class MtomError(Exception):
    """A malformed MTOM message; `code` is stable (tests, fault mapping)."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class MimePart:
    content_id: str  # without angle brackets
    content_type: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MtomMessage:
    """The parsed message: the root (SOAP envelope bytes) and the other parts by Content-ID."""

    root: MimePart
    parts: dict[str, MimePart]

    def attachment(self, href: str) -> MimePart:
        """The part an `xop:Include/@href` points at, or `MtomError` naming the reference."""
        if not href.startswith("cid:"):
            raise MtomError("mtom-bad-href", f"référence XOP {href!r} : « cid:… » attendu")
        cid = unquote(href[4:])
        part = self.parts.get(cid)
        if part is None:
            raise MtomError(
                "mtom-missing-part",
                f"la référence XOP {href!r} désigne une partie MIME absente du message "
                f"(parties présentes : {', '.join(sorted(self.parts)) or 'aucune'})",
            )
        return part


def _params(content_type: str) -> tuple[str, dict[str, str]]:
    message = Message()
    message["Content-Type"] = content_type
    params = {k.lower(): v for k, v in message.get_params(header="Content-Type")[1:]}
    return message.get_content_type(), params


def is_multipart(content_type: str | None) -> bool:
    return bool(content_type) and content_type.strip().lower().startswith("multipart/related")


_HEADER_END = re.compile(rb"\r?\n\r?\n")


def _split(body: bytes, boundary: bytes) -> list[bytes]:
    """Raw part bytes (headers + content) between `--boundary` delimiters (RFC 2046 §5.1.1)."""
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0 or (start > 0 and body[start - 1 : start] not in (b"\n",)):
        raise MtomError(
            "mtom-bad-boundary",
            f"le séparateur MIME --{boundary.decode(errors='replace')} annoncé dans Content-Type "
            "n'apparaît pas dans le corps du message",
        )
    chunks: list[bytes] = []
    position = start + len(delimiter)
    marker = b"\n" + delimiter
    while True:
        if body[position : position + 2] == b"--":
            return chunks
        line_end = body.find(b"\n", position)
        if line_end < 0:
            break
        content_start = line_end + 1
        following = body.find(marker, content_start - 1)
        if following < 0:
            break
        content_end = following - 1 if body[following - 1 : following] == b"\r" else following
        chunks.append(body[content_start:max(content_start, content_end)])
        position = following + len(marker)
    raise MtomError(
        "mtom-unterminated",
        "message MTOM incomplet : le séparateur final --"
        f"{boundary.decode(errors='replace')}-- est absent",
    )


def _part(raw: bytes, index: int) -> MimePart:
    match = _HEADER_END.search(raw)
    if raw[:2] in (b"\r\n",) or raw[:1] == b"\n":
        header_bytes, content = b"", raw[2 if raw[:2] == b"\r\n" else 1 :]
    elif match is None:
        raise MtomError("mtom-bad-part", f"partie MIME n°{index + 1} sans en-têtes terminés")
    else:
        header_bytes, content = raw[: match.start()], raw[match.end() :]
    headers = BytesHeaderParser().parsebytes(header_bytes + b"\r\n\r\n")
    values = {k.lower(): str(v) for k, v in headers.items()}
    encoding = values.get("content-transfer-encoding", "binary").strip().lower()
    if encoding == "base64":
        try:
            content = base64.b64decode(content, validate=False)
        except binascii.Error:
            raise MtomError(
                "mtom-bad-part", f"partie MIME n°{index + 1} : base64 invalide"
            ) from None
    elif encoding not in ("binary", "8bit", "7bit"):
        raise MtomError(
            "mtom-bad-part",
            f"partie MIME n°{index + 1} : Content-Transfer-Encoding {encoding!r} non pris en charge",
        )
    content_id = values.get("content-id", "").strip()
    if content_id.startswith("<") and content_id.endswith(">"):
        content_id = content_id[1:-1]
    return MimePart(
        content_id=content_id,
        content_type=values.get("content-type", "application/octet-stream"),
        data=content,
        headers=values,
    )


def parse(body: bytes, content_type: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> MtomMessage:
    """Parse an MTOM body given its HTTP Content-Type, or raise `MtomError`."""
    if len(body) > max_bytes:
        raise MtomError(
            "mtom-too-large",
            f"message de {len(body) / 1_048_576:.1f} Mo, au-delà de la limite de "
            f"{max_bytes / 1_048_576:.0f} Mo",
        )
    media_type, params = _params(content_type)
    if media_type != "multipart/related":
        raise MtomError("mtom-not-multipart", f"Content-Type {media_type!r} : multipart/related attendu")
    boundary = params.get("boundary")
    if not boundary:
        raise MtomError("mtom-no-boundary", "Content-Type multipart/related sans paramètre boundary")
    if params.get("type", XOP_MEDIA_TYPE).lower() != XOP_MEDIA_TYPE:
        raise MtomError(
            "mtom-root-type",
            f"paramètre type={params.get('type')!r} : {XOP_MEDIA_TYPE} attendu pour MTOM",
        )
    parts = [_part(raw, i) for i, raw in enumerate(_split(body, boundary.encode("latin-1")))]
    if not parts:
        raise MtomError("mtom-empty", "message MTOM sans aucune partie")
    start = params.get("start", "").strip("<>")
    root = next((p for p in parts if p.content_id == start), None) if start else parts[0]
    if root is None:
        raise MtomError(
            "mtom-missing-part", f"la partie racine start=<{start}> est absente du message"
        )
    root_type, _ = _params(root.content_type)
    if root_type != XOP_MEDIA_TYPE:
        raise MtomError(
            "mtom-root-type",
            f"partie racine de type {root_type!r} : {XOP_MEDIA_TYPE} (enveloppe SOAP) attendu",
        )
    others: dict[str, MimePart] = {}
    for part in parts:
        if part is root:
            continue
        if not part.content_id:
            raise MtomError("mtom-bad-part", "partie MIME sans en-tête Content-ID")
        if part.content_id in others:
            raise MtomError("mtom-duplicate-part", f"Content-ID <{part.content_id}> en double")
        others[part.content_id] = part
    return MtomMessage(root=root, parts=others)


def element_content(element: etree._Element, message: MtomMessage | None) -> bytes:
    """The bytes an element carries: through its `xop:Include`, or base64 text inline."""
    includes = [child for child in element if child.tag == XOP_INCLUDE]
    if len(includes) > 1:
        raise MtomError("mtom-bad-include", "plusieurs xop:Include dans le même élément")
    if includes:
        if message is None:
            raise MtomError(
                "mtom-missing-part",
                "xop:Include dans un message qui n'est pas MTOM (multipart/related attendu)",
            )
        return message.attachment(includes[0].get("href", "")).data
    text = "".join(element.itertext()).strip()
    try:
        return base64.b64decode(text, validate=True) if text else b""
    except binascii.Error:
        raise MtomError(
            "mtom-bad-inline", "contenu en ligne qui n'est pas du base64 valide"
        ) from None


def referenced_ids(root: etree._Element) -> list[str]:
    """Every Content-ID an envelope's `xop:Include` elements point at (decoded)."""
    return [unquote(inc.get("href", "")[4:]) for inc in root.iter(XOP_INCLUDE)]


@dataclass(frozen=True)
class Attachment:
    content_id: str
    data: bytes
    content_type: str = "application/octet-stream"


def new_content_id(domain: str = "banc-segur") -> str:
    return f"{uuid.uuid4()}@{domain}"


def include(content_id: str) -> etree._Element:
    """An `xop:Include` element pointing at `content_id` (to put inside a Document element)."""
    element = etree.Element(XOP_INCLUDE, nsmap={"xop": XOP_NS})
    element.set("href", "cid:" + content_id)
    return element


def build(
    envelope: bytes,
    attachments: list[Attachment],
    *,
    action: str | None = None,
    root_id: str | None = None,
) -> tuple[bytes, str]:
    """An MTOM body and its HTTP Content-Type, from envelope bytes holding `xop:Include`s."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    root_id = root_id or new_content_id()
    root_type = f'{XOP_MEDIA_TYPE}; charset=UTF-8; type="{SOAP12_MEDIA_TYPE}"'
    if action:
        root_type += f'; action="{action}"'
    chunks = [
        f"--{boundary}\r\nContent-Type: {root_type}\r\nContent-Transfer-Encoding: binary\r\n"
        f"Content-ID: <{root_id}>\r\n\r\n".encode(),
        envelope,
    ]
    for attachment in attachments:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {attachment.content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nContent-ID: <{attachment.content_id}>\r\n\r\n"
            .encode()
        )
        chunks.append(attachment.data)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    content_type = (
        f'multipart/related; type="{XOP_MEDIA_TYPE}"; boundary="{boundary}"; '
        f'start="<{root_id}>"; start-info="{SOAP12_MEDIA_TYPE}"'
    )
    if action:
        content_type += f'; action="{action}"'
    return b"".join(chunks), content_type
