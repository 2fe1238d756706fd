"""Raw messages made readable: SOAP envelopes and their MTOM parts, the VIHF assertion and the
XDS metadata pulled out and pretty-printed, mails with their attachments and XDM archives.

Everything here reads bytes a DUI sent: it goes through the hardened parsers (`banc.xml`,
`banc.mail.message`, `banc.xdm`, `banc.soap.mtom`) and never raises — what cannot be parsed is
shown as text, said so. Shown text is capped (`MAX_SHOWN`); the evidence pack keeps the bytes.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass

from lxml import etree

from banc.journal import Exchange
from banc.mail.message import parse_mail
from banc.soap import mtom
from banc.xdm import XdmError, read_xdm
from banc.xml import XmlInputError, local_name, parse_untrusted

MAX_SHOWN = 48 * 1024
"""Characters of one part shown in the report (a CDA with a scanned PDF runs to megabytes)."""

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
_XDS_ROOTS = {"SubmitObjectsRequest", "AdhocQueryResponse", "RemoveObjectsRequest",
              "UpdateDocumentSetRequest"}


@dataclass(frozen=True)
class Part:
    title: str
    text: str
    key: bool = False
    """A part reviewers look for first (the VIHF token, the XDS metadata): shown open."""


def request_parts(exchange: Exchange) -> list[Part]:
    return _parts(exchange.request, _content_type(exchange), exchange.channel)


def response_parts(exchange: Exchange) -> list[Part]:
    return _parts(exchange.response, "", exchange.channel)


def _content_type(exchange: Exchange) -> str:
    http = exchange.summary.get("http")
    headers = http.get("headers", {}) if isinstance(http, dict) else {}
    return str(headers.get("content-type", "")) if isinstance(headers, dict) else ""


def _cap(text: str) -> str:
    if len(text) <= MAX_SHOWN:
        return text
    return text[:MAX_SHOWN] + f"\n… ({len(text) - MAX_SHOWN} caractères de plus dans le paquet de preuves)"


def _parts(body: bytes, content_type: str, channel: str) -> list[Part]:
    if not body:
        return []
    if mtom.is_multipart(content_type):
        return _mtom_parts(body, content_type)
    if channel in ("smtp", "api") and _looks_like_mail(body):
        return _mail_parts(body)
    stripped = body.lstrip()
    if stripped.startswith(b"<"):
        return _xml_parts("Message", body)
    if stripped[:1] in (b"{", b"["):
        try:
            return [Part("Message (JSON)", _cap(json.dumps(json.loads(body), ensure_ascii=False, indent=2)))]
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        pairs = urllib.parse.parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        return [Part("Formulaire", "\n".join(f"{k} = {v}" for k, v in pairs))]
    return [Part("Message", _cap(body.decode("utf-8", "replace")))]


def _looks_like_mail(body: bytes) -> bool:
    head = body[:2048].split(b"\r\n\r\n", 1)[0].lower()
    return any(head.startswith(h) or b"\n" + h in head for h in (b"from:", b"to:", b"message-id:"))


def pretty_xml(element: etree._Element) -> str:
    return etree.tostring(element, pretty_print=True, encoding="unicode")


def _xml_parts(title: str, data: bytes) -> list[Part]:
    try:
        root = parse_untrusted(data, what=title.lower())
    except XmlInputError as exc:
        return [Part(f"{title} (illisible : {exc.message})", _cap(data.decode("utf-8", "replace")))]
    _reindent(root)
    parts = [Part(title, _cap(pretty_xml(root)))]
    for assertion in root.iter(f"{{{SAML}}}Assertion"):
        parts.append(Part("Jeton VIHF (assertion SAML 2.0)", _cap(pretty_xml(assertion)) + _vihf_attributes(assertion),
                          key=True))
    for element in root.iter(etree.Element):
        if local_name(element) in _XDS_ROOTS:
            parts.append(Part(f"Métadonnées XDS ({local_name(element)})", _cap(xds_outline(element)), key=True))
    return parts


def _reindent(root: etree._Element) -> None:
    """Drop whitespace-only text between elements so `pretty_print` re-indents one-line XML."""
    for element in root.iter(etree.Element):
        if len(element) and element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None


def _vihf_attributes(assertion: etree._Element) -> str:
    lines = []
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        values = [_value(v) for v in attribute.iter(f"{{{SAML}}}AttributeValue")]
        lines.append(f"  {attribute.get('Name', '?')} = {' | '.join(values)}")
    return "\n\nAttributs VIHF :\n" + "\n".join(lines) if lines else ""


def _value(value: etree._Element) -> str:
    """An attribute value: its text, or its coded element as `Role code="60" …`."""
    if not len(value):
        return (value.text or "").strip()
    coded = value[0]
    return f"{local_name(coded)} " + " ".join(
        f'{etree.QName(k).localname}="{v}"' for k, v in coded.attrib.items() if etree.QName(k).localname != "type")


def xds_outline(root: etree._Element) -> str:
    """ebRIM objects as a reviewer reads them: object, then its slots, classifications and
    external identifiers, one line each."""
    lines = []
    for element in root.iter(etree.Element):
        name = local_name(element)
        if name not in ("ExtrinsicObject", "RegistryPackage", "Association", "ObjectRef"):
            continue
        head = f"{name} {element.get('id', '')}"
        for attr in ("objectType", "mimeType", "status", "associationType", "sourceObject", "targetObject"):
            if element.get(attr):
                head += f" {attr}={element.get(attr)}"
        lines.append(head)
        for child in element:
            kind = local_name(child)
            if kind == "Slot":
                values = [(v.text or "").strip() for v in child.iter(etree.Element) if local_name(v) == "Value"]
                lines.append(f"  slot {child.get('name')} = {' | '.join(values)}")
            elif kind == "Classification":
                label = _localized(child)
                lines.append(f"  classification {child.get('classificationScheme') or child.get('classificationNode')}"
                             f" = {child.get('nodeRepresentation', '')}" + (f" ({label})" if label else ""))
            elif kind == "ExternalIdentifier":
                lines.append(f"  identifiant {_localized(child) or child.get('identificationScheme')}"
                             f" = {child.get('value', '')}")
            elif kind == "Name" and (label := _localized(element)):
                lines.append(f"  nom = {label}")
    return "\n".join(lines) or pretty_xml(root)


def _localized(element: etree._Element) -> str:
    for child in element:
        if local_name(child) == "Name":
            for item in child:
                if local_name(item) == "LocalizedString":
                    return item.get("value", "")
    return ""


def _mtom_parts(body: bytes, content_type: str) -> list[Part]:
    try:
        message = mtom.parse(body, content_type)
    except mtom.MtomError as exc:
        return [Part(f"Message MTOM illisible ({exc.message})", _cap(body.decode("utf-8", "replace")))]
    parts = _xml_parts("Enveloppe SOAP (partie racine MTOM)", message.root.data)
    for cid, part in message.parts.items():
        parts.extend(_attachment(f"Partie MTOM <{cid}> ({part.content_type})", part.data))
    return parts


def _attachment(title: str, data: bytes) -> list[Part]:
    if data.lstrip().startswith(b"<"):
        return _xml_parts(title, data)
    if data.startswith(b"PK\x03\x04"):
        return _xdm_parts(title, data)
    return [Part(title, f"contenu binaire, {len(data)} octets (dans le paquet de preuves)")]


def _xdm_parts(title: str, data: bytes) -> list[Part]:
    try:
        package = read_xdm(data)
    except XdmError as exc:
        return [Part(title, f"archive zip illisible comme XDM : {exc}")]
    parts = [Part(title, "Archive IHE XDM :\n" + "\n".join(
        f"  {name} ({len(content)} octets)" for name, content in sorted(package.files.items())))]
    parts.extend(Part(f"Métadonnées XDS (METADATA.XML de {subset.name})", _cap(xds_outline(subset.metadata)),
                      key=True)
                 for subset in package.subsets if subset.metadata is not None)
    return parts


def _mail_parts(body: bytes) -> list[Part]:
    parsed = parse_mail(body)
    headers = "\n".join(f"{k}: {v}" for k, v in parsed.message.items())
    parts = [Part("En-têtes du message", _cap(headers), key=True)]
    for content_type, charset, payload in parsed.texts:
        parts.append(Part(f"Texte ({content_type})", _cap(payload.decode(charset or "utf-8", "replace"))))
    for attachment in parsed.attachments:
        parts.extend(_attachment(f"Pièce jointe {attachment.filename} ({attachment.content_type})",
                                 attachment.payload))
    if parsed.defects:
        parts.append(Part("Défauts MIME relevés", "\n".join(parsed.defects)))
    return parts
