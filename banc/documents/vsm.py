"""VSM (volet de synthèse médicale): the GP's summary of the patient (CI-SIS VSM 1.4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from lxml import etree

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.body import (
    CS_CIM10,
    CS_LOINC,
    MEDICATION_HISTORY_SECTION,
    Ids,
    narrative,
    section,
    structured_body,
    sub,
)
from banc.documents.entries import NOT_APPLICABLE, medication_list, observation, problem
from banc.documents.header import DocumentContext, HeaderSpec, build_header
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
    _problem_list(
        sec,
        ids,
        "Pathologie",
        "pb-actif",
        active,
        lambda: (ctx.when - timedelta(days=rng.randrange(200, 4000)), None),
    )
    sec = section(
        parent,
        ("1.3.6.1.4.1.19376.1.5.3.1.3.8", "1.2.250.1.213.1.1.2.134"),
        Code("11348-0", CS_LOINC, "Antécédents médicaux"),
        "Antécédents médicaux",
        ids=ids,
    )

    def past_period() -> tuple[datetime, datetime]:
        start = ctx.when - timedelta(days=rng.randrange(2000, 9000))
        return start, start + timedelta(days=rng.randrange(5, 30))

    _problem_list(sec, ids, "Antécédent", "atcd", past, past_period)


def _problem_list(
    sec: etree._Element,
    ids: Ids,
    column: str,
    prefix: str,
    problems: list[tuple[str, str]],
    period: Callable[[], tuple[datetime, datetime | None]],
) -> None:
    """A table of CIM-10 problems (`column`, code) and one FR-Probleme entry per problem.

    `period` draws each problem's (start, end) in turn, so the seeded draws keep their order.
    """
    narrative(
        sec,
        table=(
            (column, "Code CIM-10"),
            [
                ((label, f"{prefix}-{i}"), (code, None))
                for i, (code, label) in enumerate(problems, 1)
            ],
        ),
    )
    for i, (code, label) in enumerate(problems, 1):
        problem(sec, ids, Code(code, CS_CIM10, label), f"{prefix}-{i}", *period())


def treatments_section(
    parent: etree._Element, ctx: DocumentContext, ids: Ids, title: str = "Traitements"
) -> None:
    rng = ctx.rng("treatments")
    drugs = rng.sample(vocab.DRUGS, 4)
    sec = section(
        parent,
        MEDICATION_HISTORY_SECTION,
        Code("10160-0", CS_LOINC, "Historique de la prise médicamenteuse"),
        title,
    )
    medication_list(sec, ids, drugs, ctx.when - timedelta(days=rng.randrange(30, 1500)), None)


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
    observation(
        sub(lifestyle, "entry"),
        ids,
        (
            "2.16.840.1.113883.10.20.1.33",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13.4",
            "1.2.250.1.213.1.1.3.52",
        ),
        Code("74011-8", CS_LOINC, "Consommation tabagique"),
        "tabac",
        NOT_APPLICABLE,
        "PQ",
        {"value": str(packs), "unit": "{pack}/a"},
    )


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
