"""VSM (volet de synthèse médicale): the GP's summary of the patient (CI-SIS VSM 1.4)."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.body import (
    CS_CIM10,
    CS_LOINC,
    Ids,
    entry,
    narrative,
    ref,
    section,
    structured_body,
    sub,
    typed,
)
from banc.documents.entries import medication, problem
from banc.documents.header import DocumentContext, HeaderSpec, build_header, code_el
from banc.xds.codes import Code

VSM_TEMPLATE = "1.2.250.1.213.1.1.1.13"
VSM_CODE = Code("SYNTH", "1.2.250.1.213.1.1.4.12", "Synthèse")
ENCOUNTER = Code("AMB", "2.16.840.1.113883.5.4", "Ambulatoire (hors établissement)")


def problems_sections(parent: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    """Active problems and past history (FR-Problemes-actifs, FR-Antecedents-medicaux)."""
    rng = ctx.rng("problems")
    picked = rng.sample(vocab.PROBLEMS, 4)
    active, past = picked[:2], picked[2:]
    sec = section(
        parent,
        (
            "2.16.840.1.113883.10.20.1.11",
            "1.3.6.1.4.1.19376.1.5.3.1.3.6",
            "1.2.250.1.213.1.1.2.132",
        ),
        Code("11450-4", CS_LOINC, "Liste des problèmes actifs"),
        "Pathologies en cours",
        ids=ids,
    )
    narrative(
        sec,
        table=(
            ("Pathologie", "Code CIM-10"),
            [((label, f"pb-actif-{i}"), (code, None)) for i, (code, label) in enumerate(active, 1)],
        ),
    )
    for i, (code, label) in enumerate(active, 1):
        problem(
            sec,
            ids,
            Code(code, CS_CIM10, label),
            f"pb-actif-{i}",
            ctx.when - timedelta(days=rng.randrange(200, 4000)),
            None,
        )
    sec = section(
        parent,
        ("1.3.6.1.4.1.19376.1.5.3.1.3.8", "1.2.250.1.213.1.1.2.134"),
        Code("11348-0", CS_LOINC, "Antécédents médicaux"),
        "Antécédents médicaux",
        ids=ids,
    )
    narrative(
        sec,
        table=(
            ("Antécédent", "Code CIM-10"),
            [((label, f"atcd-{i}"), (code, None)) for i, (code, label) in enumerate(past, 1)],
        ),
    )
    for i, (code, label) in enumerate(past, 1):
        start = ctx.when - timedelta(days=rng.randrange(2000, 9000))
        problem(
            sec,
            ids,
            Code(code, CS_CIM10, label),
            f"atcd-{i}",
            start,
            start + timedelta(days=rng.randrange(5, 30)),
        )


def treatments_section(
    parent: etree._Element, ctx: DocumentContext, ids: Ids, title: str = "Traitements"
) -> None:
    rng = ctx.rng("treatments")
    drugs = rng.sample(vocab.DRUGS, 4)
    sec = section(
        parent,
        (
            "2.16.840.1.113883.10.20.1.8",
            "1.3.6.1.4.1.19376.1.5.3.1.3.19",
            "1.2.250.1.213.1.1.2.143",
        ),
        Code("10160-0", CS_LOINC, "Historique de la prise médicamenteuse"),
        title,
    )
    rows = [
        ((label, f"trt-{i}"), (poso, f"poso-{i}")) for i, (_, label, poso) in enumerate(drugs, 1)
    ]
    narrative(sec, table=(("Médicament", "Posologie"), rows))
    start = ctx.when - timedelta(days=rng.randrange(30, 1500))
    for i, (atc, label, _) in enumerate(drugs, 1):
        medication(sec, ids, atc, label, f"poso-{i}", f"trt-{i}", start, None)


def risk_factors_section(parent: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    """FR-Facteurs-de-risque with the lifestyle subsection (tobacco, in pack-years)."""
    risks = section(
        parent,
        ("1.2.250.1.213.1.1.2.31",),
        Code(
            "57207-3",
            CS_LOINC,
            "Facteurs de risque présents ou passés affectant l'état de santé et/ou une circonstance",
        ),
        "Facteurs de risque",
        ids=ids,
    )
    lifestyle = section(
        risks,
        (
            "2.16.840.1.113883.10.20.1.15",
            "1.3.6.1.4.1.19376.1.5.3.1.3.16",
            "1.3.6.1.4.1.19376.1.5.3.1.3.16.1",
            "1.2.250.1.213.1.1.2.141",
        ),
        Code("29762-2", CS_LOINC, "Habitus, Mode de vie"),
        "Mode de vie",
        ids=ids,
    )
    packs = ctx.rng("tobacco").choice((0, 0, 10, 25, 40))
    text = narrative(lifestyle)
    sub(
        text,
        "paragraph",
        {"ID": "tabac"},
        f"Tabagisme : {packs} paquets-années." if packs else "Non fumeur.",
    )
    obs = entry(
        lifestyle,
        "observation",
        {"classCode": "OBS", "moodCode": "EVN"},
        (
            "2.16.840.1.113883.10.20.1.33",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13.4",
            "1.2.250.1.213.1.1.3.52",
        ),
    )
    sub(obs, "id", {"root": ids()})
    code_el(obs, "code", Code("74011-8", CS_LOINC, "Consommation tabagique"))
    ref(obs, "tabac")
    sub(obs, "statusCode", {"code": "completed"})
    sub(obs, "effectiveTime", {"nullFlavor": "NA"})
    typed(obs, "value", "PQ", {"value": str(packs), "unit": "{pack}/a"})


def generate_vsm(ctx: DocumentContext) -> GeneratedDocument:
    root = build_header(
        ctx,
        HeaderSpec(
            templates=((VSM_TEMPLATE, "201310"),),
            code=VSM_CODE,
            title="Synthèse médicale",
            encounter_code=ENCOUNTER,
        ),
    )
    body = structured_body(root)
    ids = Ids(ctx.rng("vsm-ids"))
    rng = ctx.rng("vsm")
    synthesis = section(
        body,
        ("1.2.250.1.213.1.1.2.29",),
        Code("46612-8", CS_LOINC, "Conclusions de synthèse"),
        "Pathologies en cours, antécédents, allergies et facteurs de risque",
        ids=ids,
    )
    history = section(
        synthesis,
        ("1.2.250.1.213.1.1.2.30",),
        Code("34117-2", CS_LOINC, "Historique et physique"),
        "Pathologies en cours, antécédents et allergies",
        ids=ids,
    )
    problems_sections(history, ctx, ids)
    risk_factors_section(synthesis, ctx, ids)
    vigilance = section(
        body,
        ("1.3.6.1.4.1.19376.1.5.3.1.3.27", "1.2.250.1.213.1.1.2.150"),
        Code("30954-2", CS_LOINC, "Résultats d'examens"),
        "Points de vigilance",
        ids=ids,
    )
    narrative(vigilance, [rng.choice(vocab.ALLERGIES) + ".", rng.choice(vocab.LIFE_CONTEXT)])
    plan = section(
        body,
        ("1.2.250.1.213.1.1.2.32",),
        Code("18776-5", CS_LOINC, "Plan de traitement"),
        "Traitement au long cours",
        ids=ids,
    )
    treatments_section(plan, ctx, ids)
    return GeneratedDocument(kind="VSM", root=root, context=ctx)


__all__ = ["generate_vsm", "problems_sections", "sub", "treatments_section"]
