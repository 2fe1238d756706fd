"""Building blocks of structured bodies: sections, narrative tables, coded entries.

Volet modules describe their sections with these helpers; identifiers (`id/@root` UUIDs) come
from the document's seeded random generator so that a document is reproducible.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence

from lxml import etree

from banc.documents.header import XSI, code_el, sub
from banc.xds.codes import Code

CS_SNOMED = "2.16.840.1.113883.6.96"
CS_CIM10 = "2.16.840.1.113883.6.3"
CS_ATC = "2.16.840.1.113883.6.73"
CS_LOINC = "2.16.840.1.113883.6.1"

# Section templateIds shared by several volets (the section code and title vary by volet).
MEDICATION_HISTORY_SECTION = (
    "2.16.840.1.113883.10.20.1.8",
    "1.3.6.1.4.1.19376.1.5.3.1.3.19",
    "1.2.250.1.213.1.1.2.143",
)
"""FR-Traitements (IHE PCC Medications section)."""
OBSERVED_EVENTS_SECTION = (
    "1.3.6.1.4.1.19376.1.5.3.1.1.21.2.9",
    "1.3.6.1.4.1.19376.1.7.3.1.1.13.7",
    "1.2.250.1.213.1.1.2.163",
)
"""FR-Evenements-observes (LOINC 42545-4)."""
EXAM_RESULTS_SECTION = (
    "1.3.6.1.4.1.19376.1.5.3.1.3.27",
    "1.3.6.1.4.1.19376.1.5.3.1.3.28",
    "1.2.250.1.213.1.1.2.151",
)
"""FR-Resultats-examens (LOINC 30954-2) with its coded-results variant."""


class Ids:
    """Deterministic UUIDs for `id/@root` (upper case, as the CI-SIS examples write them)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper()


def structured_body(root: etree._Element) -> etree._Element:
    return sub(sub(root, "component"), "structuredBody")


def section(
    parent: etree._Element,
    templates: Sequence[str],
    code: Code | None,
    title: str,
    *,
    ids: Ids | None = None,
) -> etree._Element:
    """`component/section` with its templateIds, id, code and title; narrative added by caller."""
    sec = sub(sub(parent, "component"), "section")
    for template in templates:
        sub(sec, "templateId", {"root": template})
    if ids is not None:
        sub(sec, "id", {"root": ids()})
    if code is not None:
        code_el(sec, "code", code)
    sub(sec, "title", text=title)
    return sec


def narrative(
    sec: etree._Element,
    paragraphs: Iterable[str] = (),
    table: tuple[Sequence[str], Sequence[Sequence[tuple[str, str | None]]]] | None = None,
) -> etree._Element:
    """Section `text`: paragraphs, then an optional table (headers, rows of (text, ID))."""
    text = sub(sec, "text")
    for paragraph in paragraphs:
        sub(text, "paragraph", text=paragraph)
    if table is not None:
        headers, rows = table
        tab = sub(text, "table", {"border": "1"})
        head = sub(sub(tab, "thead"), "tr")
        for header in headers:
            sub(head, "th", text=header)
        body = sub(tab, "tbody")
        for row in rows:
            tr = sub(body, "tr")
            for cell, ident in row:
                sub(tr, "td", {"ID": ident} if ident else {}, cell)
    return text


def ref(parent: etree._Element, ident: str) -> None:
    """`text/reference` pointing at a narrative element."""
    sub(sub(parent, "text"), "reference", {"value": f"#{ident}"})


def original_text(parent: etree._Element, ident: str) -> None:
    sub(sub(parent, "originalText"), "reference", {"value": f"#{ident}"})


def typed(
    parent: etree._Element, tag: str, xsi_type: str, attrs: dict[str, str] | None = None
) -> etree._Element:
    element = sub(parent, tag, attrs or {})
    element.set(f"{{{XSI}}}type", xsi_type)
    return element


def code_attrs(code: Code) -> dict[str, str]:
    """The attributes of a coded `value` (CD/CE), in the order the volets write them."""
    return {"code": code.code, "codeSystem": code.scheme, "displayName": code.display}


def coded_value(parent: etree._Element, code: Code, ref_id: str | None = None) -> etree._Element:
    value = typed(parent, "value", "CD", code_attrs(code))
    if ref_id:
        original_text(value, ref_id)
    return value


def templated(
    parent: etree._Element, tag: str, attrs: dict[str, str], templates: Sequence[str]
) -> etree._Element:
    """`parent/tag` opened with its templateIds (an entry's act, a component, a relationship)."""
    element = sub(parent, tag, attrs)
    for template in templates:
        sub(element, "templateId", {"root": template})
    return element


def entry(
    section_el: etree._Element, tag: str, attrs: dict[str, str], templates: Sequence[str]
) -> etree._Element:
    """`entry/tag` of a section, with its templateIds."""
    return templated(sub(section_el, "entry"), tag, attrs, templates)


__all__ = [
    "CS_ATC",
    "CS_CIM10",
    "CS_LOINC",
    "CS_SNOMED",
    "EXAM_RESULTS_SECTION",
    "MEDICATION_HISTORY_SECTION",
    "OBSERVED_EVENTS_SECTION",
    "Ids",
    "code_attrs",
    "code_el",
    "coded_value",
    "entry",
    "narrative",
    "original_text",
    "ref",
    "section",
    "structured_body",
    "sub",
    "templated",
    "typed",
]
