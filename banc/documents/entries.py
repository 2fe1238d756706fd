"""Coded entries shared by several volets (CI-SIS / IHE PCC templates).

Each entry function appends one `entry` to a section and returns the entry's main act;
`statement` / `observation` write the opening every clinical statement shares, wherever it sits
(entry, component, entryRelationship). Narrative references (`text/reference`) point at IDs the
caller placed in the section text.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from banc.documents.body import (
    CS_ATC,
    CS_LOINC,
    Ids,
    code_attrs,
    entry,
    narrative,
    original_text,
    ref,
    section,
    sub,
    templated,
    typed,
)
from banc.documents.header import code_el, ts
from banc.xds.codes import Code

CS_CIS = "1.2.250.1.213.2.3.1"


def cis_code(atc: str) -> str:
    """A stable 8-digit code in the CIS system for a product of the vocabulary.

    The bench's drug list is coded in ATC (public); CIS numbers are derived, fictitious ones
    (the CI-SIS rules check the code system, not the existence of the specialty).
    """
    return "6" + str(int(hashlib.sha1(atc.encode()).hexdigest(), 16) % 10**7).zfill(7)


def procedure(
    sec: etree._Element, ids: Ids, ref_id: str, code: Code | None = None
) -> etree._Element:
    """FR-Acte (IHE PCC Procedure entry)."""
    proc = entry(
        sec,
        "procedure",
        {"classCode": "PROC", "moodCode": "EVN"},
        (
            "1.3.6.1.4.1.19376.1.5.3.1.4.19",
            "2.16.840.1.113883.10.20.1.29",
            "1.2.250.1.213.1.1.3.62",
        ),
    )
    sub(proc, "id", {"root": ids()})
    if code is None:
        sub(proc, "code", {"nullFlavor": "NA"})
    else:
        code_el(proc, "code", code)
    ref(proc, ref_id)
    sub(proc, "statusCode", {"code": "completed"})
    return proc


SIMPLE_OBSERVATION = ("1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48")
NOT_APPLICABLE = {"nullFlavor": "NA"}


def statement(
    container: etree._Element,
    tag: str,
    attrs: dict[str, str],
    templates: Sequence[str],
    ids: Ids,
    code: Code,
    ref_id: str,
    status: str = "completed",
) -> etree._Element:
    """A clinical statement (`act`, `observation`…) under `container`, up to its statusCode.

    templateIds, a fresh id, the code, the narrative reference and the status: the common
    opening of CI-SIS entries, in schema order; the caller appends the rest.
    """
    element = templated(container, tag, attrs, templates)
    sub(element, "id", {"root": ids()})
    code_el(element, "code", code)
    ref(element, ref_id)
    sub(element, "statusCode", {"code": status})
    return element


def observation(
    container: etree._Element,
    ids: Ids,
    templates: Sequence[str],
    code: Code,
    ref_id: str,
    effective: dict[str, str] | None = None,
    value_type: str | None = None,
    value: dict[str, str] | None = None,
) -> etree._Element:
    """An OBS/EVN `observation` under `container` (an `entry`, `component` or `entryRelationship`).

    The `statement` opening (status completed), then `effectiveTime` (attributes `effective`)
    and an `xsi:type`d `value` when given; the caller appends what follows (performer,
    entryRelationships) or an effectiveTime / value of another shape.
    """
    obs = statement(
        container,
        "observation",
        {"classCode": "OBS", "moodCode": "EVN"},
        templates,
        ids,
        code,
        ref_id,
    )
    if effective is not None:
        sub(obs, "effectiveTime", effective)
    if value_type is not None:
        typed(obs, "value", value_type, value)
    return obs


def boolean(value: bool) -> dict[str, str]:
    """Attributes of a BL `value`."""
    return {"value": "true" if value else "false"}


def simple_observation(
    sec: etree._Element,
    ids: Ids,
    code: Code,
    ref_id: str,
    value: bool | Code,
    extra_templates: tuple[str, ...] = (),
) -> etree._Element:
    """FR-Simple-observation entry with a boolean (BL) or coded (CD) value, no date."""
    if isinstance(value, bool):
        value_type, attrs = "BL", boolean(value)
    else:
        value_type, attrs = "CD", code_attrs(value)
    return observation(
        sub(sec, "entry"),
        ids,
        SIMPLE_OBSERVATION + extra_templates,
        code,
        ref_id,
        NOT_APPLICABLE,
        value_type,
        attrs,
    )


def medication(
    sec: etree._Element,
    ids: Ids,
    atc: str,
    label: str,
    posology_ref: str,
    product_ref: str,
    start: datetime,
    end: datetime | None,
    daily_doses: int = 1,
    mood: str = "INT",
    precision: str = "day",
) -> etree._Element:
    """IHE PCC Medications entry (FR-Traitement), product coded in CIS with its ATC class."""
    adm = entry(
        sec,
        "substanceAdministration",
        {"classCode": "SBADM", "moodCode": mood},
        (
            "2.16.840.1.113883.10.20.1.24",
            "1.3.6.1.4.1.19376.1.5.3.1.4.7",
            "1.2.250.1.213.1.1.3.42",
            "1.3.6.1.4.1.19376.1.5.3.1.4.7.1",
        ),
    )
    sub(adm, "id", {"root": ids()})
    ref(adm, posology_ref)
    sub(adm, "statusCode", {"code": "completed"})
    period = typed(adm, "effectiveTime", "IVL_TS")
    sub(period, "low", {"value": ts(start, precision)})
    if end is not None:
        sub(period, "high", {"value": ts(end, precision)})
    else:
        sub(period, "high", {"nullFlavor": "UNK"})
    frequency = typed(
        adm, "effectiveTime", "PIVL_TS", {"operator": "A", "institutionSpecified": "true"}
    )
    sub(
        frequency,
        "period",
        {"value": str(round(24 / daily_doses, 2)).rstrip("0").rstrip("."), "unit": "h"},
    )
    dose = sub(adm, "doseQuantity")
    sub(dose, "low", {"value": "1"})
    sub(dose, "high", {"value": "1"})
    product = sub(sub(adm, "consumable", {"typeCode": "CSM"}), "manufacturedProduct")
    for template in (
        "2.16.840.1.113883.10.20.1.53",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7.2",
        "1.2.250.1.213.1.1.3.43",
    ):
        sub(product, "templateId", {"root": template})
    material = sub(product, "manufacturedMaterial", {"classCode": "MMAT"})
    code = code_el(material, "code", Code(cis_code(atc), CS_CIS, label))
    original_text(code, product_ref)
    code_el(code, "translation", Code(atc, CS_ATC, label))
    sub(material, "name", text=label)
    return adm


def pq_observation(
    parent: etree._Element,
    ids: Ids,
    code: Code,
    value: str,
    unit: str,
    ref_id: str,
    when: datetime,
    templates: tuple[str, ...],
) -> etree._Element:
    """An observation with a physical quantity (vital signs)."""
    return observation(
        parent,
        ids,
        templates,
        code,
        ref_id,
        {"value": ts(when)},
        "PQ",
        {"value": value, "unit": unit},
    )


VITAL_SIGN = (
    "2.16.840.1.113883.10.20.1.31",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13",
    "1.3.6.1.4.1.19376.1.5.3.1.4.13.2",
    "1.2.250.1.213.1.1.3.50",
)


def vital_signs(
    sec: etree._Element, ids: Ids, when: datetime, values: list[tuple[Code, str, str, str]]
) -> etree._Element:
    """FR-Signes-vitaux organizer; values = (code, value, unit, narrative id)."""
    organizer = entry(
        sec,
        "organizer",
        {"classCode": "CLUSTER", "moodCode": "EVN"},
        (
            "2.16.840.1.113883.10.20.1.32",
            "2.16.840.1.113883.10.20.1.35",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13.1",
            "1.2.250.1.213.1.1.3.49",
        ),
    )
    sub(organizer, "id", {"root": ids()})
    code_el(organizer, "code", Code("85353-1", "2.16.840.1.113883.6.1", "Signes vitaux"))
    sub(organizer, "statusCode", {"code": "completed"})
    sub(organizer, "effectiveTime", {"value": ts(when)})
    for code, value, unit, ref_id in values:
        pq_observation(
            sub(organizer, "component", {"typeCode": "COMP"}),
            ids,
            code,
            value,
            unit,
            ref_id,
            when,
            VITAL_SIGN,
        )
    return organizer


def problem(
    sec: etree._Element, ids: Ids, code: Code, ref_id: str, start: datetime, end: datetime | None
) -> etree._Element:
    """FR-Probleme (concern act) holding one FR-Probleme observation coded in CIM-10."""
    concern = entry(
        sec,
        "act",
        {"classCode": "ACT", "moodCode": "EVN"},
        (
            "2.16.840.1.113883.10.20.1.27",
            "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",
            "1.3.6.1.4.1.19376.1.5.3.1.4.5.2",
            "1.2.250.1.213.1.1.3.39",
        ),
    )
    sub(concern, "id", {"root": ids()})
    sub(concern, "code", {"nullFlavor": "NA"})
    sub(concern, "statusCode", {"code": "active" if end is None else "completed"})
    period = sub(concern, "effectiveTime")
    sub(period, "low", {"value": ts(start, "day")})
    if end is not None:
        sub(period, "high", {"value": ts(end, "day")})
    relation = sub(concern, "entryRelationship", {"typeCode": "SUBJ", "inversionInd": "false"})
    obs = sub(
        relation, "observation", {"classCode": "OBS", "moodCode": "EVN", "negationInd": "false"}
    )
    for template in (
        "2.16.840.1.113883.10.20.1.28",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5",
        "1.2.250.1.213.1.1.3.37",
    ):
        sub(obs, "templateId", {"root": template})
    sub(obs, "id", {"root": ids()})
    code_el(obs, "code", Code("282291009", "2.16.840.1.113883.6.96", "interprétation diagnostique"))
    ref(obs, ref_id)
    sub(obs, "statusCode", {"code": "completed"})
    obs_period = sub(obs, "effectiveTime")
    sub(obs_period, "low", {"value": ts(start, "day")})
    if end is not None:
        sub(obs_period, "high", {"value": ts(end, "day")})
    original_text(typed(obs, "value", "CD", code_attrs(code)), ref_id)
    return concern


def medication_list(
    sec: etree._Element,
    ids: Ids,
    drugs: Sequence[tuple[str, str, str]],
    start: datetime,
    end: datetime | None,
    *,
    column: str = "Posologie",
    posology: str | None = None,
    **options: str,
) -> None:
    """A medication table (drug, `column`) and one `medication` entry per drug of the vocabulary.

    `drugs` are (ATC, label, posology) triples; `posology` replaces each drug's posology text
    (e.g. the time of the last intake); `options` go to `medication` (mood, precision).
    """
    rows = [
        ((label, f"trt-{i}"), (posology or poso, f"poso-{i}"))
        for i, (_, label, poso) in enumerate(drugs, 1)
    ]
    narrative(sec, table=(("Médicament", column), rows))
    for i, (atc, label, _) in enumerate(drugs, 1):
        medication(sec, ids, atc, label, f"poso-{i}", f"trt-{i}", start, end, **options)


ATTACHED_DOCUMENT = Code("55107-7", CS_LOINC, "Document attaché")
ADDED_DOCUMENTS = Code("55107-7", CS_LOINC, "Documents ajoutés")
ADDED_DOCUMENTS_SECTION = ("1.2.250.1.213.1.1.2.37",)
"""FR-Documents-ajoutes section (DLU checklist, TDDUI attached documents)."""
DOCUMENT_TYPE = Code("69764-9", CS_LOINC, "Type de document")


def attached_document(
    sec: etree._Element,
    ids: Ids,
    ref_id: str,
    document_type: Code,
    effective: dict[str, str],
    *,
    media_id: str | None = None,
    pdf: bytes | None = None,
) -> etree._Element:
    """FR-Document-attache organizer: the document's type, then the document itself.

    The PDF goes base64 into `observationMedia/value`; without one the value is NAV (a paper
    copy kept with the folder, as the DLU checklist says).
    """
    organizer = entry(
        sec, "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"}, ("1.2.250.1.213.1.1.3.18",)
    )
    sub(organizer, "id", {"root": ids()})
    code_el(organizer, "code", ATTACHED_DOCUMENT)
    sub(organizer, "statusCode", {"code": "completed"})
    observation(
        sub(organizer, "component"),
        ids,
        (*SIMPLE_OBSERVATION, "1.2.250.1.213.1.1.3.48.18"),
        DOCUMENT_TYPE,
        ref_id,
        effective,
        "CD",
        code_attrs(document_type),
    )
    attrs = {"classCode": "OBS", "moodCode": "EVN"}
    if media_id is not None:
        attrs["ID"] = media_id
    media = sub(sub(organizer, "component"), "observationMedia", attrs)
    if pdf is None:
        sub(media, "value", {"nullFlavor": "NAV"})
    else:
        sub(
            media,
            "value",
            {"mediaType": "application/pdf", "representation": "B64"},
            base64.b64encode(pdf).decode("ascii"),
        )
    return organizer


def attached_document_section(
    body: etree._Element,
    ids: Ids,
    templates: Sequence[str],
    code: Code,
    title: str,
    paragraph: tuple[str, str],
    document_type: Code,
    effective: dict[str, str],
    *,
    media_id: str | None = None,
    pdf: bytes | None = None,
) -> etree._Element:
    """A section holding one attached document: its narrative `paragraph` (ID, text) and the
    FR-Document-attache organizer that references it (see `attached_document`)."""
    sec = section(body, templates, code, title, ids=ids)
    ref_id, label = paragraph
    sub(narrative(sec), "paragraph", {"ID": ref_id}, label)
    attached_document(sec, ids, ref_id, document_type, effective, media_id=media_id, pdf=pdf)
    return sec
