"""TDDUI (export du dossier usager informatisé, IG 1.0.1): the SSIAD's export of one person.

The author is the DUI software itself (LOGICIEL_DUI), the custodian the ESSMS; the body carries
the stay (admission), the agenda events (care visits with their status), the SSIAD situation
evaluation and the attached documents. No official Schematron exists: `schematrons/tddui/` holds
ours, and the official CI-SIS profiles apply as to any document.
"""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.body import (
    CS_LOINC,
    Ids,
    entry,
    narrative,
    ref,
    section,
    structured_body,
    sub,
    templated,
)
from banc.documents.entries import (
    ADDED_DOCUMENTS,
    ADDED_DOCUMENTS_SECTION,
    NOT_APPLICABLE,
    SIMPLE_OBSERVATION,
    attached_document_section,
    boolean,
    observation,
)
from banc.documents.header import DocumentContext, HeaderSpec, build_header, code_el, ts
from banc.documents.parties import ESSMS_PRACTICE, MEDICO_SOCIAL_FACILITY, NURSE
from banc.documents.pdf import PageContent, render_pdf
from banc.xds.codes import CS_RPPS_ADELI, CS_STRUCTURE, Code

TDDUI_TEMPLATE = "1.2.250.1.213.1.1.1.58"
TDDUI_VERSION = "1.0.1"
EXPORT_DUI = Code("EXPORT_DUI", "1.2.250.1.213.1.1.4.12", "Export du Dossier Usager Informatisé")
LOGICIEL_DUI = Code(
    "LOGICIEL_DUI", "1.2.250.1.213.1.1.4.6", "Logiciel de Dossier Usager Informatisé"
)
SSIAD_CATEGORY = Code(
    "354", "1.2.250.1.213.1.6.1.8", "Service de Soins Infirmiers A Domicile (S.S.I.A.D)"
)
CISIS = "1.2.250.1.213.1.1.4.322"
STATUS_SYSTEM = "1.2.250.1.213.3.3.250"
SOFTWARE_NAME = "Banc Ségur DUI de référence"

SSIAD_ITEMS = (
    ("R32", "2.16.840.1.113883.6.3", "Incontinence urinaire, sans précision"),
    ("R15", "2.16.840.1.113883.6.3", "Incontinence des matières fécales"),
    ("E66.9", "2.16.840.1.113883.6.3", "Obésité, sans précision"),
    ("F06.7", "2.16.840.1.113883.6.3", "Trouble cognitif léger"),
    (
        "F69",
        "2.16.840.1.113883.6.3",
        "Trouble de la personnalité et du comportement chez l'adulte, sans précision",
    ),
    ("MED-1294", CISIS, "Soins IDE pour escarres et autres plaies chroniques"),
    ("MED-1295", CISIS, "Prise en charge IDE du diabète insulinotraité"),
)
"""JDV_EvaluationSSIAD items (the eighth, GEN-365 "aucun de ces motifs", is implied by all false)."""

EVENT_TYPES = (
    ("MED-1296", "Intervention d'un aide soignant"),
    ("MED-1298", "Intervention d'un infirmer salarié"),
    ("MED-1297", "Intervention d'un infirmier libéral"),
)


def _software_id(ctx: DocumentContext) -> str:
    return f"{ctx.author.organization.national_id[1:]}/{ctx.extra.get('software_id', '1')}"


def _software_entity(parent: etree._Element, ctx: DocumentContext, *, person: bool) -> None:
    sub(parent, "id", {"root": CS_RPPS_ADELI, "extension": _software_id(ctx)})
    code_el(parent, "code", LOGICIEL_DUI)
    if person:
        name = sub(sub(parent, "assignedPerson"), "name")
        sub(name, "family", text=ctx.author.family)
        sub(name, "given", text=ctx.author.given)
    else:
        device = sub(parent, "assignedAuthoringDevice")
        sub(device, "manufacturerModelName", text="Banc Ségur")
        sub(device, "softwareName", text=SOFTWARE_NAME)
    org = sub(parent, "representedOrganization")
    sub(org, "id", {"root": CS_STRUCTURE, "extension": ctx.author.organization.national_id})
    sub(org, "name", text=ctx.author.organization.name)


def _rewrite_header(root: etree._Element, ctx: DocumentContext) -> None:
    """TDDUI header rules: the software is author, legal authenticator (for a person) and performer."""
    h = "{urn:hl7-org:v3}"
    assigned = root.find(f"{h}author/{h}assignedAuthor")
    for child in list(assigned):
        assigned.remove(child)
    _software_entity(assigned, ctx, person=False)
    entity = root.find(f"{h}legalAuthenticator/{h}assignedEntity")
    for child in list(entity):
        entity.remove(child)
    _software_entity(entity, ctx, person=True)
    performer = root.find(f"{h}documentationOf/{h}serviceEvent/{h}performer/{h}assignedEntity")
    for child in list(performer):
        performer.remove(child)
    sub(performer, "id", {"root": CS_RPPS_ADELI, "extension": _software_id(ctx)})
    code_el(performer, "code", LOGICIEL_DUI)
    org = sub(performer, "representedOrganization")
    sub(org, "id", {"root": CS_STRUCTURE, "extension": ctx.author.organization.national_id})
    sub(org, "name", text=ctx.author.organization.name)
    code_el(org, "standardIndustryClassCode", ESSMS_PRACTICE)
    facility = root.find(
        f"{h}componentOf/{h}encompassingEncounter/{h}location/{h}healthCareFacility/{h}code"
    )
    for key in list(facility.attrib):
        del facility.attrib[key]
    for key, value in (
        ("code", MEDICO_SOCIAL_FACILITY.code),
        ("codeSystem", MEDICO_SOCIAL_FACILITY.scheme),
        ("displayName", MEDICO_SOCIAL_FACILITY.display),
    ):
        facility.set(key, value)
    code_el(facility, "translation", SSIAD_CATEGORY)


def _status(
    parent: etree._Element, ids: Ids, value: str, label: str, ref_id: str, when: str
) -> None:
    observation(
        sub(parent, "entryRelationship", {"typeCode": "COMP"}),
        ids,
        (*SIMPLE_OBSERVATION, "1.2.250.1.213.1.1.3.217"),
        Code("106199-3", CS_LOINC, "Statut"),
        ref_id,
        {"value": when},
        "CD",
        {"code": value, "codeSystem": STATUS_SYSTEM, "displayName": label},
    )


def _stays(body: etree._Element, ctx: DocumentContext, ids: Ids, admitted) -> None:
    org = ctx.author.organization
    sec = section(
        body,
        ("1.2.250.1.213.1.1.2.249",),
        Code("GEN-362", CISIS, "Historique des séjours"),
        "Séjour",
        ids=ids,
    )
    text = narrative(sec)
    sub(
        text,
        "paragraph",
        {"ID": "sejour-1"},
        f"Prise en charge par {org.name} depuis le {admitted:%d/%m/%Y}.",
    )
    sub(text, "paragraph", {"ID": "entree-1"}, "Modalité d'entrée : non applicable (domicile).")
    stay = entry(
        sec, "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"}, ("1.2.250.1.213.1.1.3.219",)
    )
    sub(stay, "id", {"root": ids()})
    code_el(stay, "code", Code("ORG-211", CISIS, "Séjour"))
    sub(stay, "statusCode", {"code": "active"})
    sub(sub(stay, "effectiveTime"), "low", {"value": ts(admitted, "day")})
    admission = templated(
        sub(stay, "component", {"typeCode": "COMP"}),
        "encounter",
        {"classCode": "ENC", "moodCode": "EVN"},
        ("2.16.840.1.113883.10.20.1.21", "1.2.250.1.213.1.1.3.218"),
    )
    sub(
        admission,
        "id",
        {"root": f"{ctx.author.organization.id_root}", "extension": f"{org.national_id}/SEJOUR-1"},
    )
    code_el(
        admission,
        "code",
        Code("GEN-351", CISIS, "Établissement ou service social ou médico-social (ESSMS)"),
    )
    sub(admission, "effectiveTime", {"value": ts(admitted, "day")})
    role = sub(sub(admission, "participant", {"typeCode": "RESP"}), "participantRole")
    scoping = sub(role, "scopingEntity", {"classCode": "ENT", "determinerCode": "INSTANCE"})
    sub(scoping, "id", {"root": CS_STRUCTURE, "extension": org.national_id})
    sub(scoping, "desc", text=org.name)
    observation(
        sub(stay, "component", {"typeCode": "COMP"}),
        ids,
        (*SIMPLE_OBSERVATION, "1.2.250.1.213.1.1.3.48.6"),
        Code("ORG-070", CISIS, "Modalité d'entrée"),
        "entree-1",
        {"value": ts(admitted, "day")},
        "CE",
        NOT_APPLICABLE,
    )


def _events(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("tddui-events")
    sec = section(
        body,
        ("1.2.250.1.213.1.1.2.248",),
        Code("89793-4", CS_LOINC, "Evènements"),
        "Evènements",
        ids=ids,
    )
    visits = []
    for day in range(3, 0, -1):
        start = (ctx.when - timedelta(days=day)).replace(
            hour=rng.choice((8, 9, 10)), minute=rng.choice((0, 15, 30)), second=0
        )
        kind = rng.choice(EVENT_TYPES)
        acts = rng.sample(vocab.CARE_ACTS, 2)
        visits.append((start, start + timedelta(minutes=rng.choice((30, 45, 60))), kind, acts))
    rows = [
        (
            (f"{s:%d/%m/%Y %H:%M}–{e:%H:%M}", None),
            (f"{k[1]} : {', '.join(a)}", f"evt-{i}"),
            ("Réalisé", f"evt-statut-{i}"),
        )
        for i, (s, e, k, a) in enumerate(visits, 1)
    ]
    narrative(sec, table=(("Date", "Intervention", "Statut"), rows))
    for i, (start, end, (code, label), _) in enumerate(visits, 1):
        event = entry(
            sec,
            "encounter",
            {"classCode": "ENC", "moodCode": "EVN"},
            ("2.16.840.1.113883.10.20.1.21", "1.2.250.1.213.1.1.3.215"),
        )
        sub(event, "id", {"root": ids()})
        event_code = code_el(event, "code", Code("GEN-367", CISIS, "Agenda de l'usager"))
        qualifier = sub(event_code, "qualifier")
        code_el(qualifier, "name", Code("GEN-364", CISIS, "Type d'évènement SSIAD"))
        code_el(qualifier, "value", Code(code, CISIS, label))
        ref(event, f"evt-{i}")
        period = sub(event, "effectiveTime")
        sub(period, "low", {"value": ts(start)})
        sub(period, "high", {"value": ts(end)})
        performer = sub(sub(event, "performer", {"typeCode": "PRF"}), "assignedEntity")
        sub(performer, "id", {"root": CS_RPPS_ADELI, "extension": ctx.author.national_id})
        code_el(performer, "code", ctx.author.specialty if ctx.author.specialty.code else NURSE)
        _status(event, ids, "REALISE", "Réalisé", f"evt-statut-{i}", ts(end))


def _evaluation(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("tddui-eval")
    when = ctx.when - timedelta(days=rng.randrange(10, 60))
    answers = [(item, rng.random() < 0.3) for item in SSIAD_ITEMS]
    sec = section(
        body,
        ("1.2.250.1.213.1.1.2.246", "2.16.840.1.113883.10.22.3.8"),
        Code("47420-5", CS_LOINC, "Évaluation du statut fonctionnel"),
        "Statut fonctionnel",
        ids=ids,
    )
    text = narrative(
        sec,
        table=(
            ("Motif de prise en charge", "Présent"),
            [
                ((label, f"eval-item-{i}"), ("oui" if yes else "non", None))
                for i, ((_, _, label), yes) in enumerate(answers, 1)
            ],
        ),
    )
    sub(
        text, "paragraph", {"ID": "eval-1"}, f"Évaluation de la situation SSIAD du {when:%d/%m/%Y}."
    )
    sub(text, "paragraph", {"ID": "eval-statut"}, "Évaluation terminée.")
    kind = Code("MED-1290", CISIS, "Evaluation de la situation SSIAD")
    group = entry(
        sec,
        "organizer",
        {"classCode": "CLUSTER", "moodCode": "EVN"},
        (
            "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.7",
            "2.16.840.1.113883.10.20.1.32",
            "1.2.250.1.213.1.1.3.95",
        ),
    )
    sub(group, "id", {"root": ids()})
    code_el(group, "code", kind)
    sub(group, "statusCode", {"code": "completed"})
    sub(group, "effectiveTime", {"value": ts(when)})
    evaluation = observation(
        sub(group, "component"),
        ids,
        (
            "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.6",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "2.16.840.1.113883.10.20.1.31",
            "1.2.250.1.213.1.1.3.25",
        ),
        kind,
        "eval-1",
        {"value": ts(when)},
        "CD",
        NOT_APPLICABLE,
    )
    performer = sub(sub(evaluation, "performer", {"typeCode": "PRF"}), "assignedEntity")
    sub(performer, "id", {"root": CS_RPPS_ADELI, "extension": ctx.author.national_id})
    for i, ((code, system, label), yes) in enumerate(answers, 1):
        observation(
            sub(evaluation, "entryRelationship", {"typeCode": "COMP"}),
            ids,
            (
                "2.16.840.1.113883.10.20.1.31",
                "1.3.6.1.4.1.19376.1.5.3.1.4.13",
                "1.2.250.1.213.1.1.3.214",
            ),
            Code(code, system, label),
            f"eval-item-{i}",
            {"value": ts(when)},
            "BL",
            boolean(yes),
        )
    _status(evaluation, ids, "TERMINE", "Terminé", "eval-statut", ts(when))


def _documents(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    pdf = render_pdf(
        PageContent(
            title="Projet personnalisé d'accompagnement",
            organisation=ctx.author.organization.name,
            author=ctx.author.display_name,
            identity_lines=(f"{ctx.identity.birth_name} {' '.join(ctx.identity.first_names)}",),
            paragraphs=(("Objectifs", " ".join(ctx.rng("tddui-pp").sample(vocab.OBJECTIVES, 2))),),
            created=ctx.when,
        ),
        pdfa=False,
    )
    attached_document_section(
        body,
        ids,
        ADDED_DOCUMENTS_SECTION,
        ADDED_DOCUMENTS,
        "Documents ajoutés",
        ("doc-1", "Projet personnalisé d'accompagnement en vigueur."),
        Code("80788-3", CS_LOINC, "Projet personnalisé d'accompagnement"),
        {"value": ts(ctx.when, "day")},
        media_id="pj-1",
        pdf=pdf,
    )


def generate_tddui(
    ctx: DocumentContext,
    *,
    sections: tuple[str, ...] = ("sejours", "evenements", "evaluation", "documents"),
) -> GeneratedDocument:
    """`sections` chooses the body sections (drop one to build a defective export on purpose)."""
    admitted = ctx.when - timedelta(days=ctx.rng("tddui-stay").randrange(30, 700))
    root = build_header(
        ctx,
        HeaderSpec(
            templates=((TDDUI_TEMPLATE, TDDUI_VERSION),),
            code=EXPORT_DUI,
            title="Export du dossier usager",
            service_start=admitted,
            encounter_start=admitted,
        ),
    )
    _rewrite_header(root, ctx)
    body = structured_body(root)
    ids = Ids(ctx.rng("tddui-ids"))
    builders = {
        "sejours": lambda: _stays(body, ctx, ids, admitted),
        "evenements": lambda: _events(body, ctx, ids),
        "evaluation": lambda: _evaluation(body, ctx, ids),
        "documents": lambda: _documents(body, ctx, ids),
    }
    for name in sections:
        builders[name]()
    return GeneratedDocument(kind="TDDUI", root=root, context=ctx)
