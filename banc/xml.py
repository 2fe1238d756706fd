"""Hardened XML parsing: the only place where untrusted XML is parsed or read from a path.

Every byte a DUI sends us (SOAP bodies, CDA documents, XDM metadata, VIHF tokens) goes through
`parse_untrusted`. It refuses what an attacker or a broken tool could use against the bench:
DOCTYPEs (entity expansion, external entities) whatever the character encoding, network
access, oversized input, and it turns every low-level failure into an `XmlInputError` whose
French message names the problem. `read_untrusted_file` reads a user-named path with the same
care: regular files only (a device or a named pipe would never end), size capped.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Large enough for a CDA N1 carrying a scanned PDF, small enough to refuse abuse."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NO_BOM = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
"""How a document without byte-order mark starts in the wide encodings (XML 1.0 appendix F)."""

_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


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


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f}".removesuffix(".0").replace(".", ",")


def check_size(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "le document") -> None:
    """Refuse input above `max_bytes` before any parsing work is spent on it."""
    if len(data) > max_bytes:
        raise XmlInputError(
            "too-large",
            f"{what} fait {_megabytes(len(data))} Mo, au-delà de la limite de "
            f"{max_bytes // 1_048_576} Mo",
        )


def read_untrusted_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, what: str | None = None) -> bytes:
    """The bytes of a user-named file, or `XmlInputError` (missing, not a regular file, too large).

    `stat` is asked before `open`: opening a named pipe blocks until a writer comes, and a
    character device such as /dev/zero announces size 0 and never ends. The read is capped
    too, for a file that grows after the check.
    """
    name = what or str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise XmlInputError("missing", f"{name} : fichier introuvable") from None
    except OSError as exc:
        raise XmlInputError("unreadable", f"{name} : lecture impossible ({exc.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise XmlInputError("directory", f"{name} est un dossier, pas un document")
    if not stat.S_ISREG(info.st_mode):
        raise XmlInputError(
            "not-regular",
            f"{name} n'est pas un fichier ordinaire (périphérique, tube nommé ou socket) : refusé sans lecture",
        )
    if info.st_size > max_bytes:
        raise XmlInputError(
            "too-large",
            f"{name} fait {_megabytes(info.st_size)} Mo, au-delà de la limite de "
            f"{max_bytes // 1_048_576} Mo : refusé sans lecture",
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise XmlInputError("unreadable", f"{name} : lecture impossible ({exc.strerror})") from None
    check_size(data, max_bytes, name)
    return data


def _encoding(data: bytes) -> tuple[str, int]:
    """(Python codec, byte-order-mark length) the parser will read `data` with."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    for start, codec in _NO_BOM:
        if data.startswith(start):
            return codec, 0
    return "latin-1", 0  # ASCII-compatible: every markup character is where the bytes say


def _describe(char: str) -> str:
    if char.isprintable() and not char.isspace():
        return f"le caractère « {char} » (U+{ord(char):04X})"
    return f"le caractère de contrôle U+{ord(char):04X}"


def parse_untrusted(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "le document"
) -> etree._Element:
    """Parse bytes from outside into an element tree, or raise `XmlInputError`.

    A byte-order mark is accepted (several official ANS examples start with a UTF-8 one). The
    DOCTYPE/ENTITY refusal looks at the characters, not the bytes, so UTF-16 or UTF-32 input
    (with or without a mark) cannot slip a DTD past it; the parsed tree is checked once more.
    """
    if not data or not data.strip():
        raise XmlInputError("empty", f"{what} est vide")
    check_size(data, max_bytes, what)
    codec, skip = _encoding(data)
    try:
        text = data[skip:].decode(codec)
    except UnicodeDecodeError:
        raise XmlInputError(
            "not-xml", f"{what} n'est pas du XML : octets invalides pour l'encodage {codec.upper()} détecté"
        ) from None
    stripped = text.lstrip()
    if not stripped:
        raise XmlInputError("empty", f"{what} est vide")
    if stripped[0] != "<":
        raise XmlInputError("not-xml", f"{what} n'est pas du XML : il commence par {_describe(stripped[0])}, pas par « < »")
    refused = XmlInputError(
        "doctype",
        f"{what} contient une déclaration DOCTYPE/ENTITY : refusée (risque d'entité externe "
        "ou d'expansion d'entités, interdit dans les échanges de santé)",
    )
    if _DTD.search(text):
        raise refused
    try:
        root = etree.fromstring(data if codec != "utf-8" else data[skip:], _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise XmlInputError(
            "malformed", f"{what} n'est pas du XML bien formé (ligne {line}, colonne {column}) : {exc.msg}"
        ) from None
    if root is None:
        raise XmlInputError("malformed", f"{what} ne contient pas d'élément racine")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise refused
    return root


def parse_trusted_file(path: str | bytes | os.PathLike) -> etree._ElementTree:
    """Parse a file we ship or the user's ANS package (still no network, no entities)."""
    return etree.parse(os.fspath(path), _parser())


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname
