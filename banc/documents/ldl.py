"""LDL-SES (lettre de liaison à la sortie d'un établissement de santé): the hospital's discharge
letter that opens the "retour à domicile" scenario."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.body import (
    CS_LOINC,
    CS_SNOMED,
    Ids,
    code_attrs,
    narrative,
    section,
    structured_body,
    sub,
)
from banc.documents.entries import SIMPLE_OBSERVATION, medication_list, observation
from banc.documents.header import DocumentContext, HeaderSpec, build_header, ts
from banc.xds.codes import Code

LDL_SES_TEMPLATE = "1.2.250.1.213.1.1.1.29"
LDL_SES_CODE = Code(
    "11490-0", CS_LOINC, "Lettre de liaison à la sortie d'un établissement de soins"
)
TA_ASIP = "1.2.250.1.213.1.1.4.322"


def _coded_observation(
    sec: etree._Element,
    ids: Ids,
    templates: tuple[str, ...],
    code: Code,
    value: Code,
    ref_id: str,
    when: str,
    value_type: str = "CE",
) -> None:
    """A dated FR-Simple-observation entry with a coded value."""
    observation(
        sub(sec, "entry"),
        ids,
        SIMPLE_OBSERVATION + templates,
        code,
        ref_id,
        {"value": when},
        value_type,
        code_attrs(value),
    )


def generate_ldl_ses(ctx: DocumentContext) -> GeneratedDocument:
    rng = ctx.rng("ldl")
    stay = rng.randrange(4, 21)
    admitted = ctx.when - timedelta(days=stay)
    root = build_header(
        ctx,
        HeaderSpec(
            templates=((LDL_SES_TEMPLATE, "2022.01"),),
            code=LDL_SES_CODE,
            title="Lettre de liaison à la sortie d'hospitalisation",
            service_start=admitted,
            service_end=ctx.when,
            encounter_start=admitted,
            encounter_end=ctx.when,
        ),
    )
    body = structured_body(root)
    ids = Ids(ctx.rng("ldl-ids"))
    reason = rng.choice(vocab.DISCHARGE_REASONS)

    status = section(
        body,
        ("1.2.250.1.213.1.1.2.35", "1.2.250.1.213.1.1.2.35.1"),
        Code("33557-0", CS_LOINC, "Etat d'achèvement"),
        "Statut du document",
        ids=ids,
    )
    text = narrative(status)
    sub(text, "paragraph", {"ID": "statut"}, "Document validé à la sortie du patient.")
    _coded_observation(
        status,
        ids,
        ("1.2.250.1.213.1.1.3.48.16", "1.2.250.1.213.1.1.3.48.16.1"),
        Code("GEN-065", TA_ASIP, "Statut du document"),
        Code("398166005", CS_SNOMED, "réalisé"),
        "statut",
        ts(ctx.when, "day"),
        "CD",
    )

    motive = section(
        body,
        ("1.3.6.1.4.1.19376.1.5.3.1.3.1", "1.2.250.1.213.1.1.2.127"),
        Code("42349-1", CS_LOINC, "Raison de la recommandation"),
        "Motif de l'hospitalisation",
    )
    narrative(
        motive, [f"Hospitalisation du {admitted:%d/%m/%Y} au {ctx.when:%d/%m/%Y} pour {reason}."]
    )

    events = section(
        body,
        (
            "1.3.6.1.4.1.19376.1.5.3.1.1.21.2.9",
            "1.3.6.1.4.1.19376.1.7.3.1.1.13.7",
            "1.2.250.1.213.1.1.2.163",
            "1.2.250.1.213.1.1.2.163.1",
        ),
        Code("42545-4", CS_LOINC, "Evènements observés"),
        "Synthèse médicale du séjour",
        ids=ids,
    )
    text = narrative(
        events,
        [
            f"Prise en charge de {reason}. Évolution favorable.",
            "Retour au domicile avec intervention du SSIAD pour les soins d'hygiène et la surveillance.",
        ],
    )
    sub(text, "paragraph", {"ID": "entree"}, "Mode d'entrée : hospitalisation en urgence.")
    _coded_observation(
        events,
        ids,
        ("1.2.250.1.213.1.1.3.48.6",),
        Code("ORG-070", TA_ASIP, "Modalité d'entrée"),
        Code("183452005", CS_SNOMED, "hospitalisation en urgence"),
        "entree",
        ts(admitted, "day"),
    )

    treatments = section(
        body,
        ("1.3.6.1.4.1.19376.1.5.3.1.3.22", "1.2.250.1.213.1.1.2.146"),
        Code("10183-2", CS_LOINC, "Traitements à la sortie"),
        "Traitements à la sortie",
        ids=ids,
    )
    drugs = rng.sample(vocab.DRUGS, 4)
    medication_list(treatments, ids, drugs, ctx.when, ctx.when + timedelta(days=30), mood="EVN")
    return GeneratedDocument(kind="LDL-SES", root=root, context=ctx)
