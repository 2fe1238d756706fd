"""DLU volet (dossier de liaison d'urgence): DLU and FLUDT, EHPAD model used at home too.

SC.DOC.07.MS1 asks the DUI to produce DLU-DLU and DLU-FLUDT in CDA R2 N3 conforming to the DLU
volet; the home-care variants differ only by their XDS formatCode (`banc.xds.codes`).
"""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from banc.documents import vocab
from banc.documents.base import GeneratedDocument
from banc.documents.body import (
    CS_CIM10,
    CS_LOINC,
    CS_SNOMED,
    EXAM_RESULTS_SECTION,
    MEDICATION_HISTORY_SECTION,
    OBSERVED_EVENTS_SECTION,
    Ids,
    narrative,
    original_text,
    section,
    structured_body,
    sub,
    typed,
)
from banc.documents.entries import (
    ADDED_DOCUMENTS,
    ADDED_DOCUMENTS_SECTION,
    NOT_APPLICABLE,
    SIMPLE_OBSERVATION,
    attached_document_section,
    boolean,
    medication_list,
    observation,
    procedure,
    simple_observation,
    statement,
    vital_signs,
)
from banc.documents.header import (
    DocumentContext,
    HeaderSpec,
    attending_of,
    build_header,
    code_el,
    ts,
)
from banc.documents.parties import Organization
from banc.xds.codes import Code

DLU_TEMPLATE = "1.2.250.1.213.1.1.1.22"
FLUDT_TEMPLATE = "1.2.250.1.213.1.1.1.23"
VERSION = "2022.01"
DLU_CODE = Code("74207-2", CS_LOINC, "Dossier de liaison d'urgence")
SERVICE_EVENT = Code("34117-2", CS_LOINC, "Historique et clinique")
TRANSFER_EVENT = Code("28651-8", CS_LOINC, "Transfert du patient au service des urgences")


def _header(
    ctx: DocumentContext, template: str, title: str, event: Code = SERVICE_EVENT
) -> etree._Element:
    return build_header(
        ctx,
        HeaderSpec(
            templates=((template, VERSION),),
            code=DLU_CODE,
            title=title,
            service_event=event,
            attending=attending_of(ctx),
        ),
    )


def _hospital(ctx: DocumentContext) -> Organization:
    """The usager's reference hospital (context option `hopital_de_reference`), else the author's."""
    return ctx.extra.get("hopital_de_reference") or ctx.author.organization


def _preferred_facility(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    sec = section(
        body,
        ("1.3.6.1.4.1.19376.1.5.3.1.1.13.2.10", "1.2.250.1.213.1.1.2.172"),
        Code("11302-7", CS_LOINC, "Etablissement de santé de préférence"),
        "Etablissement de santé de préférence",
    )
    hospital = _hospital(ctx)
    text = narrative(sec)
    sub(
        text,
        "paragraph",
        {"ID": "etab-pref"},
        f"Établissement de santé de préférence : {hospital.name}.",
    )
    act = statement(
        sub(sec, "entry"),
        "act",
        {"classCode": "ACT", "moodCode": "INT"},
        ("1.3.6.1.4.1.19376.1.5.3.1.1.10.4.2", "1.2.250.1.213.1.1.3.97"),
        ids,
        Code("11302-7", CS_LOINC, "Etablissement de santé de préférence"),
        "etab-pref",
        "normal",
    )
    sub(act, "effectiveTime", {"nullFlavor": "NAV"})
    for type_code in ("RCV", "ORG", "DST"):
        participant = sub(act, "participant", {"typeCode": type_code})
        sub(participant, "time", {"nullFlavor": "NAV"})
        role = sub(participant, "participantRole", {"classCode": "ROL"})
        sub(role, "id", {"root": hospital.id_root, "extension": hospital.national_id})
        sub(sub(role, "playingEntity"), "name", text=hospital.name)


def _treatments(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("dlu-trt")
    drugs = rng.sample(vocab.DRUGS, 3)
    sec = section(
        body,
        MEDICATION_HISTORY_SECTION,
        Code("10160-0", CS_LOINC, "Historique de la prise médicamenteuse"),
        "Traitements au long cours",
        ids=ids,
    )
    medication_list(sec, ids, drugs, ctx.when - timedelta(days=rng.randrange(60, 900)), None)


def _directives(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    sec = section(
        body,
        (
            "2.16.840.1.113883.10.20.1.1",
            "1.3.6.1.4.1.19376.1.5.3.1.3.34",
            "1.3.6.1.4.1.19376.1.5.3.1.3.35",
            "1.2.250.1.213.1.1.2.157",
        ),
        Code("42348-3", CS_LOINC, "Directives anticipées"),
        "Directives anticipées",
        ids=ids,
    )
    written = ctx.rng("dlu-da").random() < 0.4
    text = narrative(sec)
    sub(
        text,
        "paragraph",
        {"ID": "da-1"},
        "Directives anticipées rédigées, copie jointe au dossier."
        if written
        else "Pas de directives anticipées rédigées à ce jour.",
    )
    obs = observation(
        sub(sec, "entry"),
        ids,
        (
            "2.16.840.1.113883.10.20.1.17",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13.7",
            "1.2.250.1.213.1.1.3.54",
        ),
        Code("42348-3", CS_LOINC, "Directives anticipées"),
        "da-1",
    )
    sub(sub(obs, "effectiveTime"), "low", {"value": ts(ctx.when, "day")})
    typed(obs, "value", "BL", boolean(written))


STATE_OBSERVATIONS = (
    ("288575003", "capable de communiquer"),
    ("247663003", "bien orienté"),
    ("62476001", "désorienté(e)"),
    ("161898004", "chutes"),
    ("50239007", "errance"),
    ("285304000", "à risque d'escarre"),
    ("249492002", "fausse route alimentaire"),
    ("397540003", "malvoyance"),
    ("15188001", "perte auditive"),
)


def _observations(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("dlu-obs")
    sec = section(
        body,
        OBSERVED_EVENTS_SECTION,
        Code("42545-4", CS_LOINC, "Evènements observés"),
        "Observations",
        ids=ids,
    )
    oriented = rng.random() < 0.6
    values = {"288575003": True, "247663003": oriented, "62476001": not oriented}
    values.update({code: rng.random() < 0.35 for code, _ in STATE_OBSERVATIONS[3:]})
    rows = [
        ((label, f"obs-{i}"), ("oui" if values[code] else "non", None))
        for i, (code, label) in enumerate(STATE_OBSERVATIONS, 1)
    ]
    narrative(sec, table=(("Observation", "Présente"), rows))
    for i, (code, label) in enumerate(STATE_OBSERVATIONS, 1):
        simple_observation(sec, ids, Code(code, CS_SNOMED, label), f"obs-{i}", values[code])


def _bmr(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    sec = section(
        body,
        EXAM_RESULTS_SECTION,
        Code("30954-2", CS_LOINC, "Résultats d'examens"),
        "Résultats d'examens",
        ids=ids,
    )
    carrier = ctx.rng("dlu-bmr").random() < 0.1
    text = narrative(sec)
    sub(text, "paragraph", {"ID": "bmr-0"}, "Recherche de BMR au dossier.")
    sub(
        text,
        "paragraph",
        {"ID": "bmr-1"},
        "Portage de BMR connu." if carrier else "Pas de portage de BMR connu.",
    )
    procedure(sec, ids, "bmr-0")
    simple_observation(
        sec, ids, Code("U83.71", CS_CIM10, "Bactérie multirésistante [BMR]"), "bmr-1", carrier
    )


def _added_documents(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    attached_document_section(
        body,
        ids,
        ADDED_DOCUMENTS_SECTION,
        ADDED_DOCUMENTS,
        "Checklist des documents annexés",
        ("doc-1", "Photocopies des ordonnances en cours."),
        Code("DLU_011", "1.2.250.1.213.1.1.4.322", "Photocopies des ordonnances en cours"),
        NOT_APPLICABLE,
    )


def generate_dlu(ctx: DocumentContext) -> GeneratedDocument:
    root = _header(ctx, DLU_TEMPLATE, "Dossier de liaison d'urgence")
    body = structured_body(root)
    ids = Ids(ctx.rng("dlu-ids"))
    for build in (
        _preferred_facility,
        _treatments,
        _directives,
        _observations,
        _bmr,
        _added_documents,
    ):
        build(body, ctx, ids)
    return GeneratedDocument(kind="DLU", root=root, context=ctx)


def _transfer(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("fludt-transfer")
    sec = section(
        body,
        OBSERVED_EVENTS_SECTION,
        Code("42545-4", CS_LOINC, "Evènements observés"),
        "Transfert du patient vers le service des urgences",
        ids=ids,
    )
    hospital = _hospital(ctx)
    reason = rng.choice(TRANSFER_REASONS)
    text = narrative(sec)
    sub(text, "paragraph", {"ID": "transfert-motif"}, f"Motif du transfert : {reason}.")
    sub(text, "paragraph", {"ID": "transfert-dest"}, f"Transfert vers : {hospital.name}.")
    obs = observation(
        sub(sec, "entry"),
        ids,
        SIMPLE_OBSERVATION,
        Code("57277-6", CS_LOINC, "Motif du transfert vers le service des urgences"),
        "transfert-motif",
        {"value": ts(ctx.when)},
    )
    original_text(typed(obs, "value", "CD"), "transfert-motif")
    act = statement(
        sub(sec, "entry"),
        "act",
        {"classCode": "ACT", "moodCode": "EVN"},
        ("1.3.6.1.4.1.19376.1.5.3.1.1.25.1.4.1", "1.2.250.1.213.1.1.3.28"),
        ids,
        Code("80413-8", CS_LOINC, "Transfert du patient"),
        "transfert-dest",
    )
    period = sub(act, "effectiveTime")
    sub(period, "low", {"value": ts(ctx.when)})
    sub(period, "high", {"value": ts(ctx.when + timedelta(minutes=10))})
    role = sub(
        sub(act, "participant", {"typeCode": "DST"}), "participantRole", {"classCode": "SDLOC"}
    )
    sub(role, "id", {"root": hospital.id_root, "extension": hospital.national_id})
    code_el(role, "code", hospital.facility_type)
    sub(sub(role, "playingEntity", {"classCode": "ENT"}), "name", text=hospital.name)


TRANSFER_REASONS = (
    "chute avec impossibilité de se relever et douleur de hanche",
    "dyspnée aiguë avec désaturation",
    "confusion d'apparition brutale",
    "fièvre à 39,5 °C mal tolérée",
)


def _vitals(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("fludt-vitals")
    sec = section(
        body,
        (
            "2.16.840.1.113883.10.20.1.16",
            "1.3.6.1.4.1.19376.1.5.3.1.3.25",
            "1.3.6.1.4.1.19376.1.5.3.1.1.5.3.2",
            "1.2.250.1.213.1.1.2.75",
        ),
        Code("8716-3", CS_LOINC, "Signes vitaux"),
        "Constantes du patient",
    )
    values = [
        (
            Code("8867-4", CS_LOINC, "Fréquence cardiaque"),
            str(rng.randrange(58, 110)),
            "/min",
            "vs-1",
        ),
        (
            Code("8310-5", CS_LOINC, "Température corporelle"),
            f"{rng.uniform(36.2, 39.6):.1f}",
            "Cel",
            "vs-2",
        ),
        (Code("29463-7", CS_LOINC, "Poids"), str(rng.randrange(45, 95)), "kg", "vs-3"),
        (
            Code("8480-6", CS_LOINC, "Pression artérielle systolique"),
            str(rng.randrange(100, 175)),
            "mm[Hg]",
            "vs-4",
        ),
        (
            Code("8462-4", CS_LOINC, "Pression artérielle diastolique"),
            str(rng.randrange(55, 95)),
            "mm[Hg]",
            "vs-5",
        ),
    ]
    rows = [
        ((code.display, None), (f"{value} {unit}", ref_id)) for code, value, unit, ref_id in values
    ]
    narrative(sec, table=(("Constante", "Valeur"), rows))
    vital_signs(sec, ids, ctx.when, values)


def _consciousness(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("fludt-conscience")
    sec = section(
        body,
        EXAM_RESULTS_SECTION,
        Code("30954-2", CS_LOINC, "Résultats d'examens"),
        "Observations",
        ids=ids,
    )
    pain = rng.random() < 0.5
    text = narrative(sec)
    sub(text, "paragraph", {"ID": "examen-0"}, "Examen clinique avant le transfert.")
    sub(text, "paragraph", {"ID": "conscience"}, "Patient(e) conscient(e) et éveillé(e).")
    sub(
        text,
        "paragraph",
        {"ID": "douleur"},
        "Douleurs récentes." if pain else "Pas de douleur récente.",
    )
    procedure(sec, ids, "examen-0")
    simple_observation(
        sec,
        ids,
        Code("DLU_002", "1.2.250.1.213.1.1.4.322", "Conscient et éveillé"),
        "conscience",
        True,
    )
    simple_observation(
        sec, ids, Code("R52.9", CS_CIM10, "Douleur, sans précision"), "douleur", pain
    )


def _last_intake(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("dlu-trt")
    drugs = rng.sample(vocab.DRUGS, 3)
    sec = section(
        body,
        MEDICATION_HISTORY_SECTION,
        Code("10160-0", CS_LOINC, "Traitements"),
        "Dernière prise du traitement habituel",
    )
    last = ctx.when.replace(hour=8, minute=0, second=0)
    medication_list(
        sec,
        ids,
        drugs,
        last,
        last + timedelta(minutes=1),
        column="Dernière prise",
        posology=f"dernière prise le {last:%d/%m/%Y à %H:%M}",
        mood="EVN",
        precision="second",
    )


def _last_meal(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    sec = section(
        body,
        ("1.3.6.1.4.1.19376.1.7.3.1.1.13.5", "1.2.250.1.213.1.1.2.162"),
        Code("47420-5", CS_LOINC, "Évaluation du statut fonctionnel"),
        "Date et heure du dernier repas",
    )
    meal = (
        ctx.when.replace(hour=12, minute=0, second=0)
        if ctx.when.hour >= 13
        else ctx.when.replace(hour=7, minute=30, second=0)
    )
    text = narrative(sec)
    sub(text, "paragraph", {"ID": "repas"}, f"Dernier repas le {meal:%d/%m/%Y à %H:%M}.")
    observation(
        sub(sec, "entry"),
        ids,
        SIMPLE_OBSERVATION,
        Code("GEN-244", "1.2.250.1.213.1.1.4.322", "Date et heure du dernier repas"),
        "repas",
        {"value": ts(meal)},
        "REAL",
        NOT_APPLICABLE,
    )


DEVICES = (
    ("Q021003", "LUNETTES PRÊTES À PORTER (OU LUNETTES MONTÉES)", "Lunettes"),
    ("P0102", "PROTHÈSES DENTAIRES", "Prothèse dentaire"),
    ("Y2145", "DISPOSITIFS ACCOUSTIQUES D'AIDE À L'AUDITION", "Appareil auditif"),
)


def _devices(body: etree._Element, ctx: DocumentContext, ids: Ids) -> None:
    rng = ctx.rng("fludt-devices")
    chosen = [d for d in DEVICES if rng.random() < 0.6] or [DEVICES[0]]
    sec = section(
        body,
        ("1.2.250.1.213.1.1.2.53",),
        Code("46264-8", CS_LOINC, "Dispositifs médicaux"),
        "Prothèses et objets personnels",
        ids=ids,
    )
    narrative(
        sec,
        table=(
            ("Objet", "Présent"),
            [((label, f"dm-{i}"), ("oui", None)) for i, (_, _, label) in enumerate(chosen, 1)],
        ),
    )
    for i, (code, display, _) in enumerate(chosen, 1):
        obs = simple_observation(
            sec,
            ids,
            Code(code, "1.2.250.1.213.2.68", display),
            f"dm-{i}",
            True,
            extra_templates=("1.2.250.1.213.1.1.3.12",),
        )
        obs.find("{urn:hl7-org:v3}effectiveTime").attrib.clear()
        obs.find("{urn:hl7-org:v3}effectiveTime").set("value", ts(ctx.when))


def generate_fludt(ctx: DocumentContext) -> GeneratedDocument:
    root = _header(ctx, FLUDT_TEMPLATE, "Fiche de liaison d'urgence - transfert", TRANSFER_EVENT)
    body = structured_body(root)
    ids = Ids(ctx.rng("fludt-ids"))
    for build in (_transfer, _vitals, _consciousness, _last_intake, _last_meal, _devices):
        build(body, ctx, ids)
    return GeneratedDocument(kind="FLUDT", root=root, context=ctx)
