"""DSR scenario 1: « Retour à domicile après hospitalisation ».

The hospital's discharge service sends its discharge letter (LDL-SES, CDA N3 in an IHE_XDM.ZIP,
read receipt asked) to the SSIAD's mailbox. The DUI reads its mailbox and acknowledges the
letter, lists it unread with its CDA metadata, and attaches it to the right usager only once
INSi confirmed the identity; a second letter, for a person INSi does not know, stays in the
worklist. The DUI then writes its own documents (DLU and FLUDT in CDA N3, auto-presentable; a
CDA N1 with its PDF/A), feeds them to the DMP, and sends them to the GP found in the Annuaire
Santé and to the usager's Mon espace santé mailbox. Every verdict rests on what the mocks saw:
the IMAP reads, the MDN, the INSi calls, the DMP feeds, the messages — and, for what the DUI
shows (worklist, usager's file), on its read actions compared with what the bench sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from banc.journal import Exchange
from banc.population import identity_to_dict
from banc.scenario.judge import RULES
from banc.scenario.model import BenchActs, DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding
from scenarios.incoming import (
    fetched,
    find_entry,
    hospital_letter,
    letter_received,
    shows_in_worklist,
)
from scenarios.staff import gp_lookup, gp_values, nurse_values, psc_login
from scenarios.usagers import fresh_identity, known_to_national_services, usager_values

SEARCH = ("rechercherInsAvecTraitsIdentite",)
SUBMISSION = ("smtp.submission",)


def _inputs(context: RunContext) -> dict:
    usager, stranger = fresh_identity(context), fresh_identity(context, "inconnu")
    return {
        **usager_values(usager), **usager_values(stranger, "inconnu"),
        "usager_traits": identity_to_dict(usager), "inconnu_traits": identity_to_dict(stranger),
        **nurse_values(),
        **gp_values(),
    }


# -- what the DUI shows, compared with what the bench sent ----------------------------------

def _stranger_letter_waits(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The letter of the person INSi does not know is still listed, attached to nobody."""
    found = shows_in_worklist(result, context, "inconnue")
    entry = find_entry(result.get("documents"), str(context.values.get("inconnue_document", "")))
    if entry is not None and entry.get("usager"):
        found.append(RULES.error("RATTACHEMENT", f"le document {entry.get('document')}, dont INSi ne confirme pas "
                                 f"l'identité, a été rattaché à l'usager {entry.get('usager')}"))
    return found


def _state(entry: Mapping | None) -> str:
    return str((entry or {}).get("etat", "")).lower().replace("é", "e")


def _correction_applied(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The corrected letter supersedes the first one, which stays in the file as replaced
    (SC.MSS.24.MS1: modified incoming documents are traced)."""
    old_id, new_id = (str(context.values.get(k, "")) for k in ("lettre_document", "corrigee_document"))
    old, new = find_entry(result.get("documents"), old_id), find_entry(result.get("documents"), new_id)
    wrong = []
    if new is None or _state(new) != "actif":
        wrong.append(f"nouvelle version {new_id} absente du dossier ou non active ({_state(new) or 'absente'})")
    if old is None:
        wrong.append(f"version remplacée {old_id} disparue du dossier (aucune trace)")
    elif _state(old) != "remplace":
        wrong.append(f"version {old_id} encore « {_state(old)} » au lieu de remplacée")
    return [RULES.error("REMPLACEMENT", "« annule et remplace » reçu de l'hôpital non appliqué : "
                        + "; ".join(wrong))] if wrong else []


def _deletion_applied(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The letter its sender deleted is shown deleted and kept as a trace (SC.MSS.23/24.MS1)."""
    document = str(context.values.get("corrigee_document", ""))
    entry = find_entry(result.get("documents"), document)
    if entry is None:
        return [RULES.error("SUPPRESSION", f"document {document} supprimé par l'hôpital disparu du dossier : "
                            "aucune trace de la suppression")]
    if _state(entry) != "supprime":
        return [RULES.error("SUPPRESSION", f"suppression demandée par l'hôpital non appliquée : {document} "
                            f"est « {_state(entry)} »")]
    return []


RECEIVING = (
    *known_to_national_services(),
    psc_login(),
    *letter_received(),
    hospital_letter("inconnue", "inconnu_traits"),
    DuiActs(
        id="releve-inconnue", title="Relève d'une lettre pour une personne inconnue d'INSi",
        requirements=("SC.MSS.26.MS1",), requires=("inconnue-envoyee",), action="lire_messagerie",
        instruction="Relevez de nouveau la boîte MSSanté {infirmiere_bal}.",
        expect=(fetched("inconnue"),),
    ),
    DuiActs(
        id="rattachement-non-verifie", title="Pas de rattachement quand INSi ne confirme pas l'identité",
        requirements=("SC.INS.26.MS1", "SC.MSS.25.MS1"), requires=("releve-inconnue",),
        action="rattacher_document", params={"document": "{inconnue_document}", "ins": "{inconnu_ins}"},
        instruction="Tentez de rattacher la lettre reçue pour {inconnu_prenom} {inconnu_nom} (INS {inconnu_ins}) : "
                    "INSi ne connaît pas cette identité, le DUI doit refuser.",
        refusal_expected=True,
        expect=(Expectation("insi", SEARCH, "vérification INSi de l'identité du document", timeout=120),),
    ),
    DuiActs(
        id="rattachement-autre-usager", title="Pas de rattachement à un usager dont l'INS diffère",
        requirements=("SC.MSS.25.MS1",), requires=("releve-inconnue",),
        action="rattacher_document", params={"document": "{inconnue_document}", "ins": "{usager_ins}"},
        instruction="Tentez de rattacher la lettre reçue pour {inconnu_prenom} {inconnu_nom} au dossier de "
                    "{usager_prenom} {usager_nom} : le DUI doit refuser.",
        refusal_expected=True,
    ),
    DuiActs(
        id="inconnue-en-attente", title="La lettre non rattachée reste en liste de travail",
        requirements=("SC.MSS.25.MS1",), requires=("releve-inconnue",),
        action="liste_de_travail", instruction="Affichez la liste de travail des documents entrants non lus.",
        result_checks=(_stranger_letter_waits,),
    ),
)


def _masked(exchange: Exchange, context: RunContext) -> list[Finding]:
    """The feed asked masked from professionals carries the MASQUE_PS confidentiality code
    (SC.DOC.01.MS1, SC.DOC.02.MS1)."""
    if b"MASQUE_PS" in exchange.request:
        return []
    return [RULES.error("MASQUAGE", "versement demandé masqué aux professionnels, sans le code de "
                        "confidentialité MASQUE_PS dans les métadonnées XDS")]


def _produced(kind: str, slug: str) -> DuiActs:
    return DuiActs(
        id=f"produire-{slug}", title=f"Production du document {kind} de l'usager", requirements=(),
        requires=("rattachement",), action="produire_document",
        params={"ins": "{usager_ins}", "type": kind, "destinataires": ["{medecin_bal}"]},
        instruction=f"Produisez le document {kind} de {{usager_prenom}} {{usager_nom}}, destiné au "
                    "Dr {medecin_prenom} {medecin_nom}.",
        remember={"document": f"{slug}_document"})


def _fed(slug: str, requirements: tuple[str, ...], masked: bool = False) -> DuiActs:
    return DuiActs(
        id=f"dmp-{slug}", title=f"Versement au DMP ({slug.upper()}{', masqué aux professionnels' if masked else ''})",
        requirements=requirements, requires=(f"produire-{slug}",), action="alimentation_dmp",
        params={"ins": "{usager_ins}", "document": f"{{{slug}_document}}", **({"masque_ps": True} if masked else {})},
        instruction=f"Versez le document {{{slug}_document}} au DMP de l'usager (INS {{usager_ins}})"
                    + (", masqué aux professionnels de santé." if masked else "."),
        expect=(Expectation("dmp", ("TD2.1",), "versement ITI-41 au DMP", where={
            "patient_ins": "{usager_ins}", "document_unique_id": f"{{{slug}_document}}"},
            checks=(_masked,) if masked else (), timeout=180),))


def _sent(slug: str, requirements: tuple[str, ...], to_usager: bool = False) -> DuiActs:
    who = "à la messagerie Mon espace santé de l'usager" if to_usager else "au médecin traitant"
    return DuiActs(
        id=f"envoi-{slug}-{'usager' if to_usager else 'medecin'}", title=f"Envoi MSSanté du {slug.upper()} {who}",
        requirements=requirements, requires=(f"produire-{slug}", "annuaire-medecin"), action="envoi_mssante",
        params={"document": f"{{{slug}_document}}", **({"usager": True} if to_usager
                                                       else {"destinataires": ["{medecin_bal}"]})},
        instruction=f"Envoyez le document {{{slug}_document}} par MSSanté {who}"
                    + (" ({usager_ins}@patient.mssante.fr)." if to_usager else " ({medecin_bal})."),
        expect=(Expectation("mssante", SUBMISSION, f"message MSSanté {who}", where={
            "document_unique_id": f"{{{slug}_document}}", "patient_mailbox": str(to_usager)}, timeout=180),))


PRODUCING = (
    BenchActs("boite-patient", "L'usager a une messagerie Mon espace santé", (), service="mssante",
              action="ajouter_boite_patient", params={"usager": "{usager_traits}"}),
    gp_lookup(),
    _produced("DLU", "dlu"),
    _fed("dlu", ("SC.DMP.01.MS1", "SC.DMP.04.MS1", "SC.DOC.02.MS1")),
    _sent("dlu", ("SC.MSS.17.MS1", "SC.DOC.04.MS1", "SC.DOC.07.MS1")),
    _sent("dlu", ("SC.MSS.18.MS1",), to_usager=True),
    _produced("FLUDT", "fludt"),
    _fed("fludt", ("SC.DOC.01.MS1", "SC.DOC.02.MS1"), masked=True),
    _sent("fludt", ("SC.DOC.08.MS1",)),
    _produced("N1", "n1"),
    _fed("n1", ("SC.DMP.01.MS1",)),
    _sent("n1", ("SC.DOC.03.MS1", "SC.DOC.06.MS1")),
)


UPDATES = (
    BenchActs("correction-envoyee", "L'hôpital envoie une version corrigée de sa lettre (« annule et remplace »)",
              (), requires=("rattachement",), service="mssante", action="envoyer_remplacement",
              params={"a": "{infirmiere_bal}", "document": "{lettre_document}"},
              remember={"document": "corrigee_document", "message_id": "corrigee_message_id"}),
    DuiActs(
        id="releve-correction", title="Relève de la lettre corrigée", requirements=("SC.MSS.24.MS1",),
        requires=("correction-envoyee",), action="lire_messagerie",
        instruction="Relevez la boîte MSSanté {infirmiere_bal} : la lettre corrigée remplace la première.",
        expect=(fetched("corrigee"),)),
    DuiActs(
        id="dossier-correction", title="La lettre corrigée remplace la première, tracée",
        requirements=("SC.MSS.24.MS1",), requires=("releve-correction",), action="documents_usager",
        params={"ins": "{usager_ins}"},
        instruction="Ouvrez le dossier de {usager_prenom} {usager_nom} : la première lettre apparaît remplacée.",
        result_checks=(_correction_applied,)),
    BenchActs("suppression-envoyee", "L'hôpital demande la suppression de sa lettre", (),
              requires=("correction-envoyee",), service="mssante", action="envoyer_suppression",
              params={"a": "{infirmiere_bal}", "document": "{corrigee_document}"},
              remember={"message_id": "suppression_message_id"}),
    DuiActs(
        id="releve-suppression", title="Relève de la demande de suppression", requirements=("SC.MSS.23.MS1",),
        requires=("suppression-envoyee",), action="lire_messagerie",
        instruction="Relevez la boîte MSSanté {infirmiere_bal} : l'hôpital supprime sa lettre.",
        expect=(fetched("suppression"),)),
    DuiActs(
        id="dossier-suppression", title="La lettre supprimée est signalée comme telle et tracée",
        requirements=("SC.MSS.23.MS1", "SC.MSS.24.MS1"), requires=("releve-suppression",),
        action="documents_usager", params={"ins": "{usager_ins}"},
        instruction="Ouvrez le dossier de {usager_prenom} {usager_nom} : la lettre apparaît supprimée.",
        result_checks=(_deletion_applied,)),
)


def _refusal(slug: str, flag: str, what: str) -> DuiActs:
    return DuiActs(
        id=f"refus-{slug}", title=f"L'usager refuse les envois par {what}", requirements=(),
        requires=("rattachement",), action="refus_usager", params={"ins": "{usager_ins}", flag: True},
        instruction=f"Enregistrez que {{usager_prenom}} {{usager_nom}} refuse les envois par {what}.")


REFUSALS = (
    _refusal("messagerie-citoyenne", "messagerie_citoyenne", "sa messagerie de Mon espace santé"),
    DuiActs(
        id="refus-usager-respecte", title="Rien n'est envoyé à l'usager qui l'a refusé",
        requirements=("SC.MSS.15.MS1",), requires=("refus-messagerie-citoyenne", "produire-dlu"),
        action="envoi_mssante", params={"document": "{dlu_document}", "usager": True}, refusal_expected=True,
        instruction="Tentez d'envoyer le DLU à la messagerie de Mon espace santé de l'usager : le DUI doit "
                    "refuser (refus enregistré).",
        expect=(Expectation("mssante", SUBMISSION, "message à la messagerie de l'usager", absent=True,
                            where={"patient_mailbox": "True"}, timeout=60),)),
    _refusal("mssante", "mssante", "MSSanté professionnelle"),
    DuiActs(
        id="refus-mssante-respecte", title="Rien n'est envoyé aux professionnels quand l'usager l'a refusé",
        requirements=("SC.MSS.16.MS1",), requires=("refus-mssante", "produire-dlu"),
        action="envoi_mssante", params={"document": "{dlu_document}", "destinataires": ["{medecin_bal}"]},
        refusal_expected=True,
        instruction="Tentez d'envoyer le DLU au Dr {medecin_nom} : le DUI doit refuser (refus enregistré).",
        expect=(Expectation("mssante", SUBMISSION, "message MSSanté à un professionnel", absent=True,
                            where={"patient_mailbox": "False"}, timeout=60),)),
)


SCENARIO = Scenario(
    id="retour-domicile",
    title="Retour à domicile après hospitalisation",
    profile="DSR ESMS vague 1 — DUI domicile",
    description=(
        "La lettre de liaison de sortie de l'hôpital arrive par MSSanté : le DUI la relève, en accuse "
        "lecture, la présente en liste de travail avec ses métadonnées, la rattache à l'usager après "
        "vérification INSi (et refuse quand l'identité n'est pas confirmée), applique la correction puis la "
        "suppression envoyées par l'hôpital, produit le DLU, la FLUDT "
        "et un document N1, les verse au DMP et les envoie au médecin traitant et à l'usager, puis respecte "
        "ses refus d'envoi."),
    inputs=_inputs,
    steps=(*RECEIVING, *UPDATES, *PRODUCING, *REFUSALS),
)
