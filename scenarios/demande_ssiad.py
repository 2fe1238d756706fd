"""DSR scenario 2: « Demande d'intervention SSIAD par le médecin traitant ».

The GP writes to the SSIAD by MSSanté: a prescription (eP-MED-DM, CDA in an IHE_XDM.ZIP, read
receipt asked), then a synthesis (VSM). The usager is new to the DUI: it reads its mailbox, lists
both documents unread, then creates the usager from their traits with an INSi search — after
two searches that must leave an identity unqualified (CR 01: nobody; CR 02: two homonyms) — and
attaches the prescription once INSi confirmed the identity. It consults the usager's DMP (TD0.2,
TD0.3, TD3.1, TD3.2) and opens it on the web in context (TD0.9), produces its evaluation and
feeds it, writes to the usager's Mon espace santé mailbox, and records ten correspondents found
in the Annuaire Santé. Every verdict rests on what the mocks saw; what the DUI shows (worklist,
usager's file, identity status, correspondents) is compared with what the bench sent and what
the national services answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from banc.directory import Professional, default_directory
from banc.journal import Exchange
from banc.population import identity_to_dict
from banc.scenario.judge import RULES
from banc.scenario.model import BenchActs, Check, DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding
from scenarios.incoming import fetched, in_usager_file, remembered, shows_in_worklist
from scenarios.ins import traits_search
from scenarios.staff import nurse_values, psc_login
from scenarios.usagers import (
    fresh_identity,
    homonyms,
    in_insi,
    known_to_national_services,
    usager_values,
)

SEARCH = ("rechercherInsAvecTraitsIdentite",)
SUBMISSION = ("smtp.submission",)
CORRESPONDENTS = 10
"""SC.MSS.14.MS1: a usager's file manages at least ten correspondents."""
AFTER_READING = ("releve-demande",)
REQ_DMP_ACCESS = ("SC.DMP.03.MS1",)
REQ_CORRESPONDENTS = ("SC.MSS.14.MS1",)


def correspondents(context: RunContext) -> list[Professional]:
    """Ten active professionals of the directory for this run (not the SSIAD's own nurse): each run
    its own set, the same on resume."""
    directory = default_directory()
    nurse = directory.person("infirmiere_coordinatrice")
    others = sorted((p for p in directory.professionals if p.national_id != nurse.national_id and p.active),
                    key=lambda p: hashlib.sha256(f"{context.run.id}:{p.national_id}".encode()).hexdigest())
    return others[:CORRESPONDENTS]


def _published(professional: Professional) -> str:
    """The MSSanté address the Annuaire Santé publishes ('' when on the red list)."""
    box = professional.mailbox
    return box.address if box is not None and not box.liste_rouge else ""


def _inputs(context: RunContext) -> dict:
    usager, stranger = fresh_identity(context), fresh_identity(context, "inconnu")
    twin, other_twin = homonyms(context)
    chosen = correspondents(context)
    return {
        **usager_values(usager), **usager_values(stranger, "inconnu"),
        **usager_values(twin, "homonyme1"), **usager_values(other_twin, "homonyme2"),
        "usager_traits": identity_to_dict(usager),
        **nurse_values(),
        **{f"correspondant_{n}": p.national_id for n, p in enumerate(chosen, 1)},
        **{f"correspondant_{n}_nom": f"{p.given} {p.family}" for n, p in enumerate(chosen, 1)},
        "correspondants": [{"identifiant": p.national_id, "nom": p.family, "bal": _published(p)} for p in chosen],
    }


IDENTITY = (
    traits_search("recherche-inconnu", "Recherche INSi sans résultat : identité laissée provisoire", "inconnu", "01",
                  "Créez l'usager {inconnu_prenom} {inconnu_nom} ({inconnu_sexe}, né(e) le {inconnu_naissance}) "
                  "et cherchez son INS : INSi ne connaît personne avec ces traits, l'identité doit rester "
                  "provisoire.", requires=AFTER_READING),
    traits_search("recherche-homonymes", "Recherche INSi à plusieurs réponses : identité laissée provisoire",
                  "homonyme1", "02",
                  "Créez l'usager {homonyme1_prenom} {homonyme1_nom} ({homonyme1_sexe}, né(e) le "
                  "{homonyme1_naissance}) sans lieu de naissance et cherchez son INS : INSi trouve deux "
                  "personnes, l'identité doit rester provisoire.", requires=AFTER_READING, with_place=False),
    traits_search("creation-usager", "Création de l'usager par ses traits, INS obtenu par INSi", "usager", "00",
                  "Créez l'usager {usager_prenom} {usager_nom} ({usager_sexe}, né(e) le {usager_naissance}, "
                  "lieu {usager_lieu}) et qualifiez son identité par INSi.", requires=AFTER_READING),
)


# -- the GP's request ---------------------------------------------------------------------

def _request_in_worklist(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """Both documents of the GP are listed unread with their CDA metadata (SC.MSS.26.MS1)."""
    return [*shows_in_worklist(result, context, "demande"), *shows_in_worklist(result, context, "synthese")]


REQUEST = (
    psc_login(),
    BenchActs("demande-envoyee", "Le médecin traitant envoie sa prescription puis sa synthèse (VSM)", (),
              service="mssante", action="envoyer_demande_medecin",
              params={"a": "{infirmiere_bal}", "usager": "{usager_traits}", "accuse": True},
              remember={**remembered("demande", "demande"), **remembered("synthese", "synthese")}),
    DuiActs(
        id="releve-demande", title="Relève de la messagerie et accusé de lecture de la prescription",
        requirements=("SC.MSS.26.MS1",), requires=("demande-envoyee",), action="lire_messagerie",
        instruction="Relevez la boîte MSSanté {infirmiere_bal} : la prescription et la synthèse du médecin "
                    "pour {usager_prenom} {usager_nom} doivent être intégrées, l'accusé de lecture envoyé.",
        expect=(fetched("demande", "du médecin"), fetched("synthese", "du médecin"),
                Expectation("mssante", SUBMISSION, "accusé de lecture (MDN) de la prescription",
                            where={"mdn_original_message_id": "{demande_message_id}"}, timeout=120))),
    DuiActs(
        id="liste-de-travail", title="La prescription et la synthèse en liste de travail des documents non lus",
        requirements=("SC.MSS.26.MS1",), requires=("releve-demande",), action="liste_de_travail",
        instruction="Affichez la liste de travail des documents entrants non lus.",
        result_checks=(_request_in_worklist,)),
    *IDENTITY,
    DuiActs(
        id="rattachement", title="Rattachement de la prescription à l'usager après vérification INSi",
        requirements=("SC.INS.26.MS1", "SC.MSS.25.MS1"), requires=("creation-usager", "liste-de-travail"),
        action="rattacher_document", params={"document": "{demande_document}", "ins": "{usager_ins}"},
        instruction="Rattachez la prescription du médecin à l'usager {usager_prenom} {usager_nom} (INS "
                    "{usager_ins}) en vérifiant son identité auprès d'INSi.",
        expect=(Expectation("insi", SEARCH, "vérification INSi de l'identité du document",
                            where={"patient_ins": "{usager_ins}"}, timeout=120),)),
    DuiActs(
        id="dossier-usager", title="La prescription est dans le dossier de l'usager",
        requirements=("SC.MSS.25.MS1",), requires=("rattachement",), action="documents_usager",
        params={"ins": "{usager_ins}"}, instruction="Ouvrez le dossier de l'usager {usager_prenom} {usager_nom}.",
        result_checks=(in_usager_file("demande", "la prescription du médecin"),)),
)


# -- the DMP ------------------------------------------------------------------------------

def _dmp(operation: str, description: str) -> Expectation:
    return Expectation("dmp", (operation,), description, where={"patient_ins": "{usager_ins}"}, timeout=180)


DMP = (
    DuiActs(
        id="consultation-dmp", title="Consultation du DMP de l'usager (TD0.2, TD3.1, TD3.2)",
        requirements=REQ_DMP_ACCESS, requires=("creation-usager",), action="consulter_dmp",
        params={"ins": "{usager_ins}"},
        instruction="Consultez le DMP de {usager_prenom} {usager_nom} : déclarez-vous dans ses autorisations si "
                    "besoin, listez ses documents et ouvrez le plus récent.",
        expect=(_dmp("TD0.2", "lecture du DMP et de l'autorisation (TD0.2)"),
                _dmp("TD3.1", "recherche des documents (TD3.1, ITI-18)"),
                _dmp("TD3.2", "récupération d'un document (TD3.2, ITI-43)"))),
    DuiActs(
        id="acces-web-dmp", title="Accès web au DMP de l'usager par appel contextuel (TD0.9)",
        requirements=REQ_DMP_ACCESS, requires=("creation-usager",), action="ouvrir_dmp_web",
        params={"ins": "{usager_ins}"},
        instruction="Ouvrez depuis le DUI la page web du DMP de {usager_prenom} {usager_nom} (accès contextuel).",
        expect=(_dmp("TD0.9", "accès web contextuel au DMP (TD0.9)"),)),
    DuiActs(
        id="produire-evaluation", title="Production de l'évaluation initiale (document N1)", requirements=(),
        requires=("creation-usager",), action="produire_document", params={"ins": "{usager_ins}", "type": "N1"},
        instruction="Rédigez et validez l'évaluation initiale de {usager_prenom} {usager_nom}.",
        remember={"document": "evaluation_document"}),
    DuiActs(
        id="dmp-evaluation", title="Versement de l'évaluation au DMP",
        requirements=("SC.DMP.01.MS1", "SC.DMP.04.MS1"), requires=("produire-evaluation",),
        action="alimentation_dmp", params={"ins": "{usager_ins}", "document": "{evaluation_document}"},
        instruction="Versez l'évaluation {evaluation_document} au DMP de l'usager (INS {usager_ins}).",
        expect=(Expectation("dmp", ("TD2.1",), "versement ITI-41 au DMP", where={
            "patient_ins": "{usager_ins}", "document_unique_id": "{evaluation_document}"}, timeout=180),)),
    BenchActs("boite-patient", "L'usager a une messagerie Mon espace santé", (), service="mssante",
              action="ajouter_boite_patient", params={"usager": "{usager_traits}"}),
    DuiActs(
        id="message-usager", title="Message à l'usager dans sa messagerie Mon espace santé",
        requirements=("SC.MSS.18.MS1",), requires=("produire-evaluation", "boite-patient"),
        action="envoi_mssante", params={"document": "{evaluation_document}", "usager": True},
        instruction="Envoyez l'évaluation à la messagerie Mon espace santé de l'usager ({usager_ins}@patient."
                    "mssante.fr).",
        expect=(Expectation("mssante", SUBMISSION, "message à la messagerie Mon espace santé de l'usager", where={
            "document_unique_id": "{evaluation_document}", "patient_mailbox": "True"}, timeout=180),)),
)


# -- correspondents -----------------------------------------------------------------------

def _looked_up(number: int) -> Check:
    """The Annuaire search asked for this correspondent's identifier."""
    def check(exchange: Exchange, context: RunContext) -> list[Finding]:
        wanted = context.fill(f"{{correspondant_{number}}}")
        asked = [str(value) for pair in exchange.summary.get("query") or () for value in pair[1:]]
        if any(wanted in value for value in asked):
            return []
        return [RULES.error("ANNUAIRE", f"recherche Annuaire sans l'identifiant {wanted} du correspondant "
                            f"(paramètres : {exchange.summary.get('query')})")]
    return check


def _added(number: int) -> DuiActs:
    return DuiActs(
        id=f"correspondant-{number}", title=f"Correspondant n° {number} ajouté depuis l'Annuaire Santé",
        requirements=REQ_CORRESPONDENTS, requires=("creation-usager",), action="ajouter_correspondant",
        params={"ins": "{usager_ins}", "rpps": f"{{correspondant_{number}}}"},
        instruction=f"Ajoutez au dossier de {{usager_prenom}} {{usager_nom}} le correspondant "
                    f"{{correspondant_{number}_nom}} (RPPS {{correspondant_{number}}}), trouvé dans l'Annuaire Santé.",
        expect=(Expectation("annuaire", ("search Practitioner",), "recherche du professionnel dans l'Annuaire",
                            checks=(_looked_up(number),), timeout=120),))


def _all_correspondents_kept(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The file holds every correspondent added, with the MSSanté address the Annuaire publishes."""
    shown = result.get("correspondants")
    shown = shown if isinstance(shown, list) else []
    by_id = {str(c.get("identifiant", "")): c for c in shown if isinstance(c, Mapping)}
    wrong = []
    for wanted in context.values.get("correspondants", []):
        kept = by_id.get(wanted["identifiant"])
        if kept is None:
            wrong.append(f"{wanted['nom']} ({wanted['identifiant']}) absent")
        elif wanted["bal"] and str(kept.get("bal", "")).lower() != wanted["bal"].lower():
            wrong.append(f"{wanted['nom']} : adresse « {kept.get('bal')} » au lieu de {wanted['bal']} (Annuaire)")
    if wrong or len(by_id) < CORRESPONDENTS:
        return [RULES.error("CORRESPONDANTS", f"{len(by_id)} correspondant(s) dans le dossier de l'usager, "
                            f"{CORRESPONDENTS} attendus au moins : " + "; ".join(wrong or ["compte insuffisant"]))]
    return []


CORRESPONDENT_STEPS = (
    *(_added(n) for n in range(1, CORRESPONDENTS + 1)),
    DuiActs(
        id="correspondants-dossier", title=f"Les {CORRESPONDENTS} correspondants figurent au dossier de l'usager",
        requirements=REQ_CORRESPONDENTS, requires=("creation-usager",), action="correspondants",
        params={"ins": "{usager_ins}"},
        instruction="Affichez les correspondants du dossier de {usager_prenom} {usager_nom}.",
        result_checks=(_all_correspondents_kept,)),
)


SCENARIO = Scenario(
    id="demande-ssiad",
    title="Demande d'intervention SSIAD par le médecin traitant",
    profile="DSR ESMS vague 1 — DUI domicile",
    description=(
        "Le médecin traitant envoie par MSSanté une prescription et une synthèse : le DUI les relève, en "
        "accuse lecture, les présente en liste de travail, crée l'usager par ses traits avec INSi (sans "
        "qualifier quand INSi ne trouve personne ou plusieurs personnes), rattache la prescription, consulte "
        "le DMP (TD0.2, TD3.1, TD3.2) et l'ouvre sur le web (TD0.9), verse son évaluation, écrit à l'usager "
        f"et renseigne {CORRESPONDENTS} correspondants trouvés dans l'Annuaire Santé."),
    inputs=_inputs,
    steps=(
        *known_to_national_services(dmp_documents=2),
        in_insi("homonyme1", "Une personne existe dans le référentiel INSi…"),
        in_insi("homonyme2", "…et son homonyme aussi (mêmes traits, autre lieu de naissance)"),
        *REQUEST, *DMP, *CORRESPONDENT_STEPS,
    ),
)
