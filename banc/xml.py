"""Hardened XML parsing: the only place where untrusted XML is parsed.

Every byte a DUI sends us (SOAP bodies, CDA documents, XDM metadata, VIHF tokens) goes through
`parse_untrusted`. It refuses what an attacker or a broken tool could use against the bench:
DOCTYPEs (entity expansion, external entities), network access, oversized input, and it turns
every low-level failure into an `XmlInputError` whose French message names the problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Large enough for a CDA N1 carrying a scanned PDF, small enough to refuse abuse."""

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class XmlInputError(Exception):
    """Input that is not acceptable XML. `code` is stable (for tests and fault mapping)."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        collect_ids=False,
    )


def check_size(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "le document") -> None:
    """Refuse input above `max_bytes` before any parsing work is spent on it."""
    if len(data) > max_bytes:
        raise XmlInputError(
            "too-large",
            f"{what} fait {len(data) / 1_048_576:.1f} Mo, au-delà de la limite de "
            f"{max_bytes / 1_048_576:.0f} Mo",
        )


def parse_untrusted(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "le document"
) -> etree._Element:
    """Parse bytes from outside into an element tree, or raise `XmlInputError`.

    A UTF-8 byte-order mark is accepted (several official ANS examples start with one).
    """
    if not data or not data.strip():
        raise XmlInputError("empty", f"{what} est vide")
    check_size(data, max_bytes, what)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    head = data.lstrip()[:1]
    if head != b"<":
        raise XmlInputError("not-xml", f"{what} n'est pas du XML (premier octet {head!r})")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise XmlInputError(
            "doctype",
            f"{what} contient une déclaration DOCTYPE/ENTITY : refusée (risque d'entité externe "
            "ou d'expansion d'entités, interdit dans les échanges de santé)",
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlInputError("malformed", f"{what} n'est pas du XML bien formé : {exc}") from None
    if root is None:
        raise XmlInputError("malformed", f"{what} ne contient pas d'élément racine")
    return root


def parse_trusted_file(path: str | bytes) -> etree._ElementTree:
    """Parse a file we ship or the user's ANS package (still no network, no entities)."""
    return etree.parse(path, _parser())


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname
