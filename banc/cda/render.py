"""The document as a reader sees it: the package's `FeuilleDeStyle/cda_CRBIO.xsl` (XSLT 1, lxml).

The stylesheet is trusted (the user's ANS package); the document is not: it is parsed with the
hardened parser and the transformation may read local files (the stylesheet's own
localisation files) but never the network nor write anything.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lxml import etree

from banc.cda.package import find_package
from banc.xml import XmlInputError, parse_trusted_file, parse_untrusted, read_untrusted_file

_ACCESS = etree.XSLTAccessControl(read_network=False, write_network=False, write_file=False, create_dir=False)
_lock = threading.Lock()


@cache
def _transform(stylesheet: Path) -> etree.XSLT:
    return etree.XSLT(parse_trusted_file(str(stylesheet)), access_control=_ACCESS)


def render_html(data: bytes | Path, stylesheet: Path | None = None) -> str:
    """HTML of the document, or a short French HTML message saying why it cannot be shown."""
    if stylesheet is None:
        stylesheet = find_package().stylesheet
    if stylesheet is None:
        return "<p>Feuille de style FeuilleDeStyle/cda_CRBIO.xsl absente du paquet ANS : rendu indisponible.</p>"
    try:
        root = parse_untrusted(read_untrusted_file(data) if isinstance(data, Path) else data)
    except XmlInputError as exc:
        return f"<p>Rendu impossible : {_escape(str(exc))}</p>"
    try:
        with _lock:  # an lxml XSLT object is not safe to share between threads
            result = _transform(stylesheet)(etree.ElementTree(root))
    except etree.XSLTError as exc:
        return f"<p>Rendu impossible : {_escape(str(exc))}</p>"
    return str(result)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
