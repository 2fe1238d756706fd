"""Coded entries shared by several volets (CI-SIS / IHE PCC templates).

Each function appends one `entry` to a section and returns the entry's main act. Narrative
references (`text/reference`) point at IDs the caller placed in the section text.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from lxml import etree

from banc.documents.body import CS_ATC, Ids, entry, original_text, ref, sub, typed
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


def simple_observation(
    sec: etree._Element,
    ids: Ids,
    code: Code,
    ref_id: str,
    value: bool | Code,
    extra_templates: tuple[str, ...] = (),
) -> etree._Element:
    obs = entry(
        sec,
        "observation",
        {"classCode": "OBS", "moodCode": "EVN"},
        SIMPLE_OBSERVATION + extra_templates,
    )
    sub(obs, "id", {"root": ids()})
    code_el(obs, "code", code)
    ref(obs, ref_id)
    sub(obs, "statusCode", {"code": "completed"})
    sub(obs, "effectiveTime", {"nullFlavor": "NA"})
    if isinstance(value, bool):
        typed(obs, "value", "BL", {"value": "true" if value else "false"})
    else:
        typed(
            obs,
            "value",
            "CD",
            {"code": value.code, "codeSystem": value.scheme, "displayName": value.display},
        )
    return obs


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
    obs = sub(parent, "observation", {"classCode": "OBS", "moodCode": "EVN"})
    for template in templates:
        sub(obs, "templateId", {"root": template})
    sub(obs, "id", {"root": ids()})
    code_el(obs, "code", code)
    ref(obs, ref_id)
    sub(obs, "statusCode", {"code": "completed"})
    sub(obs, "effectiveTime", {"value": ts(when)})
    typed(obs, "value", "PQ", {"value": value, "unit": unit})
    return obs


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
    value = typed(
        obs,
        "value",
        "CD",
        {"code": code.code, "codeSystem": code.scheme, "displayName": code.display},
    )
    original_text(value, ref_id)
    return concern
