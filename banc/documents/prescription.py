"""eP-MED-DM (e-prescription de produits de santé, volet 2024.01): the GP's medication
prescription, with the PDF copy of the paper prescription the volet requires."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.body import (
    CS_ATC,
    CS_LOINC,
    Ids,
    entry,
    narrative,
    ref,
    section,
    structured_body,
    sub,
    templated,
    typed,
)
from banc.documents.datamatrix import ins_payload
from banc.documents.entries import (
    CS_CIS,
    NOT_APPLICABLE,
    SIMPLE_OBSERVATION,
    attached_document_section,
    boolean,
    cis_code,
    observation,
)
from banc.documents.header import DocumentContext, HeaderSpec, build_header, code_el, ts
from banc.documents.pdf import PageContent, render_pdf
from banc.xds.codes import Code

EP_TEMPLATES = (
    ("1.3.6.1.4.1.19376.1.9.1.1.1", None),
    ("1.3.6.1.4.1.19376.1.5.3.1.1.1", None),
    ("1.2.250.1.213.1.1.1.39", "2024.01"),
)
EP_CODE = Code("57833-6", CS_LOINC, "Prescription de produits de santé")
PHARM = "urn:ihe:pharm:medication"
TA_ASIP = "1.2.250.1.213.1.1.4.322"


def _instruction(adm: etree._Element, templates: tuple[str, ...], code: str, ref_id: str) -> None:
    act = templated(
        sub(adm, "entryRelationship", {"typeCode": "SUBJ", "inversionInd": "true"}),
        "act",
        {"classCode": "ACT", "moodCode": "INT"},
        templates,
    )
    sub(
        act,
        "code",
        {"code": code, "codeSystem": "1.3.6.1.4.1.19376.1.5.3.2", "codeSystemName": "IHEActCode"},
    )
    ref(act, ref_id)
    sub(act, "statusCode", {"code": "completed"})


def _prescribed(
    sec: etree._Element, ids: Ids, ctx: DocumentContext, index: int, atc: str, label: str
) -> None:
    adm = entry(
        sec,
        "substanceAdministration",
        {"classCode": "SBADM", "moodCode": "INT"},
        (
            "2.16.840.1.113883.10.20.1.24",
            "1.3.6.1.4.1.19376.1.5.3.1.4.7",
            "1.3.6.1.4.1.19376.1.9.1.3.2",
            "1.2.250.1.213.1.1.3.83",
            "1.3.6.1.4.1.19376.1.5.3.1.4.7.1",
        ),
    )
    sub(adm, "id", {"root": ids()})
    code_el(adm, "code", Code("DRUG", "2.16.840.1.113883.5.4", "Médicament"))
    ref(adm, f"poso-{index}")
    sub(adm, "statusCode", {"code": "completed"})
    period = typed(adm, "effectiveTime", "IVL_TS")
    sub(period, "low", {"value": ts(ctx.when, "day")})
    sub(period, "high", {"value": ts(ctx.when + timedelta(days=90), "day")})
    sub(adm, "repeatNumber", {"value": "2"})
    product = sub(sub(adm, "consumable"), "manufacturedProduct", {"classCode": "MANU"})
    for template in (
        "2.16.840.1.113883.10.20.1.53",
        "1.3.6.1.4.1.19376.1.5.3.1.4.7.2",
        "1.2.250.1.213.1.1.3.43",
    ):
        sub(product, "templateId", {"root": template})
    material = sub(product, "manufacturedMaterial", {"classCode": "MMAT", "determinerCode": "KIND"})
    sub(material, "templateId", {"root": "1.3.6.1.4.1.19376.1.9.1.3.1"})
    code = code_el(material, "code", Code(cis_code(atc), CS_CIS, label))
    sub(sub(code, "originalText"), "reference", {"value": f"#med-{index}"})
    sub(material, "name", text=label)
    kind = etree.SubElement(material, f"{{{PHARM}}}asSpecializedKind", {"classCode": "GRIC"})
    general = etree.SubElement(kind, f"{{{PHARM}}}generalizedMedicineClass", {"classCode": "MMAT"})
    etree.SubElement(
        general,
        f"{{{PHARM}}}code",
        {"code": atc, "codeSystem": CS_ATC, "displayName": label.split(" ")[0].lower()},
    )
    etree.SubElement(general, f"{{{PHARM}}}name").text = label.split(" ")[0].lower()
    _instruction(
        adm,
        ("2.16.840.1.113883.10.20.1.49", "1.3.6.1.4.1.19376.1.5.3.1.4.3", "1.2.250.1.213.1.1.3.33"),
        "PINSTRUCT",
        f"poso-{index}",
    )
    supply = templated(
        sub(adm, "entryRelationship", {"typeCode": "COMP"}),
        "supply",
        {"classCode": "SPLY", "moodCode": "RQO"},
        ("1.3.6.1.4.1.19376.1.9.1.3.8", "1.2.250.1.213.1.1.3.86"),
    )
    sub(supply, "independentInd", {"value": "false"})
    sub(supply, "quantity", {"value": "1", "unit": "30009000"})
    substitution = templated(
        sub(adm, "entryRelationship", {"typeCode": "COMP"}),
        "act",
        {"classCode": "ACT", "moodCode": "DEF"},
        ("1.3.6.1.4.1.19376.1.9.1.3.9.1", "1.2.250.1.213.1.1.3.87"),
    )
    code_el(
        substitution,
        "code",
        Code("G", "2.16.840.1.113883.5.1070", "Substitution par un générique permise"),
    )
    sub(substitution, "statusCode", {"code": "completed"})
    for template, code, label in (
        ("1.2.250.1.213.1.1.3.48.13", "MED-574", "En rapport avec une ALD"),
        ("1.2.250.1.213.1.1.3.48.12", "GEN-179", "Hors Autorisation de Mise sur le Marché (AMM)"),
        (
            "1.2.250.1.213.1.1.3.48.14",
            "GEN-180",
            "En rapport avec un accident du travail ou une maladie professionnelle",
        ),
        ("1.2.250.1.213.1.1.3.48.15", "GEN-181", "Non remboursable"),
    ):
        observation(
            sub(adm, "entryRelationship", {"typeCode": "COMP"}),
            ids,
            (*SIMPLE_OBSERVATION, template),
            Code(code, TA_ASIP, label),
            f"ald-{index}",
            {"value": ts(ctx.when)},
            "BL",
            boolean(False),
        )


def _pdf_copy(
    body: etree._Element, ctx: DocumentContext, ids: Ids, drugs: list[tuple[str, str, str]]
) -> None:
    identity = ctx.identity
    pdf = render_pdf(
        PageContent(
            title="Ordonnance",
            organisation=ctx.author.organization.name,
            author=ctx.author.display_name,
            identity_lines=(
                f"{identity.birth_name} {' '.join(identity.first_names)}, né(e) le {identity.birth_date:%d/%m/%Y}",
            ),
            paragraphs=tuple((label, poso) for _, label, poso in drugs),
            datamatrix_payload=None if not identity.carries_ins else ins_payload(identity),
            created=ctx.when,
        )
    )
    copy = Code("55108-5", CS_LOINC, "Copie du document")
    attached_document_section(
        body,
        ids,
        ("1.2.250.1.213.1.1.2.243",),
        copy,
        "Copie du document",
        ("copie", "Copie PDF de l'ordonnance."),
        copy,
        NOT_APPLICABLE,
        media_id="doc-1",
        pdf=pdf,
    )


def generate_ep_med_dm(ctx: DocumentContext) -> GeneratedDocument:
    root = build_header(
        ctx,
        HeaderSpec(
            templates=EP_TEMPLATES,
            code=EP_CODE,
            title="Prescription de médicaments",
            encounter_code=Code("AMB", "2.16.840.1.113883.5.4", "Ambulatoire (hors établissement)"),
        ),
    )
    body = structured_body(root)
    ids = Ids(ctx.rng("ep-ids"))
    drugs = ctx.rng("ep").sample(vocab.DRUGS, 3)
    sec = section(
        body,
        ("1.3.6.1.4.1.19376.1.9.1.2.1", "1.2.250.1.213.1.1.2.171"),
        Code("57828-6", CS_LOINC, "Prescriptions"),
        "Prescription de médicaments",
        ids=ids,
    )
    text = narrative(sec)
    table = sub(text, "table", {"border": "1"})
    head = sub(sub(table, "thead"), "tr")
    for header in ("Médicament", "Posologie", "ALD"):
        sub(head, "th", text=header)
    tbody = sub(table, "tbody")
    for i, (_, label, poso) in enumerate(drugs, 1):
        tr = sub(tbody, "tr")
        sub(tr, "td", {"ID": f"med-{i}"}, label)
        sub(tr, "td", {"ID": f"poso-{i}"}, poso)
        sub(tr, "td", {"ID": f"ald-{i}"}, "non")
    for i, (atc, label, _) in enumerate(drugs, 1):
        _prescribed(sec, ids, ctx, i, atc, label)
    _pdf_copy(body, ctx, ids, drugs)
    return GeneratedDocument(kind="eP-MED-DM", root=root, context=ctx)
