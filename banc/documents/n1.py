"""CDA R2 N1 (IHE XDS-SD): any document as a PDF/A-1 wrapped in a CDA header.

The home-care service's own documents (projet personnalisé d'accompagnement, évaluation, lettre
de liaison de sortie de structure médico-sociale) travel this way. The PDF carries the INS
datamatrix of a qualified identity (SC.DOC.03.MS1) and the site's GDPR footer (SC.DOC.06.MS1).
Options produce deliberate defects for negative tests: `datamatrix_identity` (another person's
INS in the symbol), `pdfa=False`, `datamatrix=False`, `gdpr_footer=""`.
"""

from __future__ import annotations

import base64

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.datamatrix import ins_payload
from banc.documents.header import DocumentContext, HeaderSpec, build_header, sub
from banc.documents.pdf import DEFAULT_GDPR_FOOTER, PageContent, render_pdf
from banc.identity import Identity
from banc.xds.codes import CS_LOINC, Code

XDS_SD_TEMPLATE = "1.3.6.1.4.1.19376.1.2.20"

PROJET_PERSONNALISE = Code("80788-3", CS_LOINC, "Projet personnalisé d'accompagnement")
EVALUATION_MEDICO_SOCIALE = Code("34842-5", CS_LOINC, "Grille d'évaluation médico-social")
LIAISON_SORTIE_MEDICO_SOCIALE = Code(
    "83981-1", CS_LOINC, "Lettre de liaison à la sortie d'une structure sociale ou médico-sociale"
)
PRESCRIPTION_SOINS = Code("57832-8", CS_LOINC, "Prescription de soins")

TITLES = {
    PROJET_PERSONNALISE.code: "Projet personnalisé d'accompagnement",
    EVALUATION_MEDICO_SOCIALE.code: "Évaluation de la situation de l'usager",
    LIAISON_SORTIE_MEDICO_SOCIALE.code: "Lettre de liaison de sortie du service",
    PRESCRIPTION_SOINS.code: "Demande d'intervention du SSIAD",
}


def _identity_lines(identity: Identity) -> tuple[str, ...]:
    lines = [
        f"Nom de naissance : {identity.birth_name}",
        f"Prénom(s) de naissance : {' '.join(identity.first_names)}",
        f"Sexe : {'masculin' if identity.sex == 'M' else 'féminin'}    "
        f"Né(e) le : {identity.birth_date.strftime('%d/%m/%Y')}"
        + (
            f"    Lieu de naissance (INSEE) : {identity.birth_place}"
            if identity.birth_place
            else ""
        ),
    ]
    if identity.used_name:
        lines.append(f"Nom utilisé : {identity.used_name}")
    if identity.carries_ins:
        lines.append(f"INS : {identity.ins}   (OID {identity.oid})   Identité qualifiée")
    else:
        lines.append(f"Identité : {identity.status} (INS non communiqué)")
    return tuple(lines)


def _paragraphs(ctx: DocumentContext, type_code: Code) -> tuple[tuple[str, str], ...]:
    rng = ctx.rng("n1-content")
    problems = rng.sample(vocab.PROBLEMS, 2)
    acts = rng.sample(vocab.CARE_ACTS, 4)
    objectives = rng.sample(vocab.OBJECTIVES, 3)
    gir = rng.choice(vocab.GIR_LEVELS)[1]
    context = rng.choice(vocab.LIFE_CONTEXT)
    paragraphs = [
        (
            "Situation",
            f"{context} Autonomie évaluée {gir}. Antécédents : "
            + " ; ".join(label for _, label in problems)
            + ".",
        ),
        ("Objectifs", " ".join(f"{i}. {o}." for i, o in enumerate(objectives, 1))),
        ("Interventions prévues", " ".join(f"- {a}." for a in acts)),
    ]
    if type_code.code == PRESCRIPTION_SOINS.code:
        paragraphs.insert(
            0,
            (
                "Motif",
                "Je vous remercie de bien vouloir prendre en charge ce(tte) patient(e) "
                "pour des soins infirmiers et d'hygiène à domicile, 7 jours sur 7.",
            ),
        )
    paragraphs.append(
        (
            "Suivi",
            "Réévaluation du projet dans trois mois ou à tout changement de situation, "
            "en lien avec le médecin traitant et l'aidant principal.",
        )
    )
    return tuple(paragraphs)


def generate_n1(
    ctx: DocumentContext,
    *,
    type_code: Code = PROJET_PERSONNALISE,
    title: str | None = None,
    pdfa: bool = True,
    datamatrix: bool = True,
    datamatrix_identity: Identity | None = None,
    gdpr_footer: str = DEFAULT_GDPR_FOOTER,
) -> GeneratedDocument:
    title = title or TITLES.get(type_code.code, type_code.display)
    root = build_header(
        ctx, HeaderSpec(templates=((XDS_SD_TEMPLATE, None),), code=type_code, title=title)
    )
    marked = datamatrix_identity or ctx.identity
    payload = ins_payload(marked) if datamatrix and marked.carries_ins else None
    pdf = render_pdf(
        PageContent(
            title=title,
            organisation=ctx.author.organization.name,
            author=ctx.author.display_name,
            identity_lines=_identity_lines(ctx.identity),
            paragraphs=_paragraphs(ctx, type_code),
            gdpr_footer=gdpr_footer,
            datamatrix_payload=payload,
            created=ctx.when,
        ),
        pdfa=pdfa,
    )
    body = sub(sub(root, "component"), "nonXMLBody")
    sub(
        body,
        "text",
        {"mediaType": "application/pdf", "representation": "B64"},
        base64.b64encode(pdf).decode("ascii"),
    )
    return GeneratedDocument(kind="N1", root=root, context=ctx, pdf=pdf)
