"""SOAP envelopes: safe parsing of requests, building of responses.

Parsing goes through `banc.xml.parse_untrusted` (no DTD, no entities, size limit). Every
structural problem becomes a `SoapError` carrying the SOAP 1.2 fault code the caller should
answer with, so a service never crashes nor leaks a stack trace on bad input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from banc.xml import DEFAULT_MAX_BYTES, XmlInputError, local_name, parse_untrusted

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"


@dataclass(frozen=True)
class SoapError(Exception):
    """A request that cannot be processed as a SOAP 1.2 message.

    `code` is stable (for tests and fault mapping: 'empty', 'malformed', 'doctype',
    'too-large', 'not-xml', 'not-envelope', 'soap11', 'no-body', 'empty-body'…);
    `fault_code` is the SOAP 1.2 Code value to answer with ('Sender' or 'VersionMismatch').
    """

    code: str
    message: str
    fault_code: str = "Sender"

    def __str__(self) -> str:
        return self.message


@dataclass
class Envelope:
    """A parsed SOAP 1.2 envelope: header blocks and the first body element (the payload)."""

    root: etree._Element
    headers: list[etree._Element] = field(default_factory=list)
    body: etree._Element | None = None
    payload: etree._Element | None = None

    def header(self, namespace: str, name: str) -> etree._Element | None:
        """The first header block with this qualified name, if present."""
        tag = f"{{{namespace}}}{name}"
        return next((h for h in self.headers if h.tag == tag), None)

    def header_blocks(self, namespace: str, name: str) -> list[etree._Element]:
        tag = f"{{{namespace}}}{name}"
        return [h for h in self.headers if h.tag == tag]


def parse_envelope(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, require_payload: bool = True
) -> Envelope:
    """Parse request bytes into an `Envelope`, or raise `SoapError` saying what is wrong."""
    try:
        root = parse_untrusted(data, max_bytes=max_bytes, what="le message SOAP")
    except XmlInputError as exc:
        raise SoapError(exc.code, exc.message) from None
    namespace = etree.QName(root).namespace
    if local_name(root) != "Envelope":
        raise SoapError(
            "not-envelope",
            f"l'élément racine est {local_name(root)!r} et non une enveloppe SOAP 1.2",
        )
    if namespace == SOAP11_NS:
        raise SoapError(
            "soap11",
            "enveloppe SOAP 1.1 reçue : ce service n'accepte que SOAP 1.2 "
            f"(espace de noms {SOAP12_NS})",
            "VersionMismatch",
        )
    if namespace != SOAP12_NS:
        raise SoapError(
            "soap-version",
            f"enveloppe d'espace de noms {namespace!r} : SOAP 1.2 ({SOAP12_NS}) attendu",
            "VersionMismatch",
        )
    envelope = Envelope(root=root)
    children = [c for c in root if isinstance(c.tag, str)]
    for child in children:
        if child.tag == f"{{{SOAP12_NS}}}Header":
            envelope.headers = [h for h in child if isinstance(h.tag, str)]
        elif child.tag == f"{{{SOAP12_NS}}}Body":
            envelope.body = child
    if envelope.body is None:
        raise SoapError("no-body", "l'enveloppe SOAP ne contient pas d'élément Body")
    payloads = [c for c in envelope.body if isinstance(c.tag, str)]
    envelope.payload = payloads[0] if payloads else None
    if require_payload and envelope.payload is None:
        raise SoapError("empty-body", "le Body SOAP est vide : aucun message de requête")
    return envelope


def build_envelope(
    body: etree._Element | Iterable[etree._Element] | None,
    headers: Iterable[etree._Element] = (),
    *,
    prefix: str = "soap",
) -> bytes:
    """Serialise a SOAP 1.2 envelope (UTF-8, XML declaration) around `body` and `headers`."""
    env = etree.Element(f"{{{SOAP12_NS}}}Envelope", nsmap={prefix: SOAP12_NS})
    header_list = list(headers)
    if header_list:
        header = etree.SubElement(env, f"{{{SOAP12_NS}}}Header")
        header.extend(header_list)
    body_element = etree.SubElement(env, f"{{{SOAP12_NS}}}Body")
    if body is not None:
        body_element.extend([body] if isinstance(body, etree._Element) else list(body))
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


_ACTION = re.compile(r';\s*action\s*=\s*"?([^";]+)"?', re.IGNORECASE)


def content_type_action(content_type: str | None) -> str | None:
    """The `action` parameter of a SOAP 1.2 Content-Type (its SOAPAction), if any."""
    if not content_type:
        return None
    match = _ACTION.search(content_type)
    return match.group(1).strip() if match else None
