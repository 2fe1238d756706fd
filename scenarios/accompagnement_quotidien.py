"""DSR scenario "Accompagnement quotidien": the SSIAD's daily work on an usager it already follows.

The coordinating nurse writes a care report, feeds it to the DMP and sends it to the GP; she
masks it, changes its visibility, corrects it ("annule et remplace": RPLC at the DMP and a new
MSSanté message saying so) and deletes the correction. The usager refuses messages: nothing may
then reach their Mon espace santé mailbox, nor the professionals once they refuse MSSanté too.
The hospital replaces then deletes a document it had sent to the SSIAD: the DUI shows it as such
and keeps its trace. Finally the DUI's dashboard must count exactly the feeds and sends the DMP
and MSSanté simulators received from it over the period, by FINESS and RPPS.

Everything is judged on the simulators' journal; the DUI's read actions (documents, dashboard)
count only compared with what the bench itself sent or observed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

from banc.directory import Professional, default_directory
from banc.journal import Exchange
from banc.mail.health import inspect_message
from banc.mail.message import parse_mail
from banc.population import identity_to_dict
from banc.scenario.judge import RULES
from banc.scenario.model import BenchActs, Check, DuiActs, Expectation, ManualProof, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding
from scenarios import dmp
from scenarios.staff import nurse_values, psc_login
from scenarios.usagers import fresh_identity, known_to_national_services, usager_values

REQ_REPLACEMENT = ("SC.DMP.02.MS1", "SC.MSS.20.MS1")
REQ_DASHBOARD = ("SC.TBB.01.MS1",)
SUBMISSION = ("smtp.submission",)
MENTION = "annule et remplace"


def inputs(context: RunContext) -> dict:
    directory = default_directory()
    gp = directory.gp
    usager = fresh_identity(context)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return {**usager_values(usager), "usager_traits": identity_to_dict(usager),
            **nurse_values(), "medecin_nom": gp.family,
            "medecin_bal": gp.mailbox.address if gp.mailbox else "", "periode_debut": today, "periode_fin": today}


# -- "annule et remplace" over MSSanté (SC.MSS.20.MS1) --------------------------------------------

def announces_replacement(document: str) -> Check:
    """The message carries the new version of `document` (a template): its CDA replaces it
    (relatedDocument RPLC) and the message says « annule et remplace » (subject or text)."""
    def check(exchange: Exchange, context: RunContext) -> list[Finding]:
        previous = context.fill(document)
        parsed = parse_mail(exchange.request)
        replaced = {r for d in inspect_message(parsed).documents for r in d.replaces}
        findings = []
        if previous not in replaced:
            findings.append(RULES.error(
                "ANNULE_REMPLACE", f"le message ne porte pas de nouvelle version du document {previous} "
                f"(relatedDocument RPLC du CDA : {', '.join(sorted(replaced)) or 'aucun'})",
                requirements=("SC.MSS.20.MS1",)))
        texts = [parsed.header("Subject") or "", *(p.decode(c or "utf-8", "replace") for _, c, p in parsed.texts)]
        if not any(MENTION in " ".join(t.lower().split()) for t in texts):
            findings.append(RULES.error(
                "ANNULE_REMPLACE", f"le message de la nouvelle version ne dit pas « {MENTION} » le document "
                f"{previous} (ni l'objet ni le texte)", requirements=("SC.MSS.20.MS1",)))
        return findings
    return check


# -- dashboard (SC.TBB.01.MS1) -------------------------------------------------------------------

def _sender_id(address: str) -> str:
    """National id of the professional owning a mailbox (the bench's directory feeds the Annuaire)."""
    directory = default_directory()
    box = directory.mailbox(address)
    owner = directory.owner(box) if box else None
    return owner.national_id if isinstance(owner, Professional) else ""


def traffic_counts(context: RunContext) -> dict[str, list[tuple[str, str]]]:
    """(FINESS, RPPS) of every DMP feed the DMP accepted from the DUI and every MSSanté message
    carrying a document (not a read receipt) the server accepted from it, during this run.

    The FINESS is the structure the DUI is registered for (the DMP refuses a VIHF speaking for
    another one); the RPPS is the VIHF's professional for the DMP, the sender mailbox's owner
    for MSSanté."""
    finess, run = context.dui.structure_id, context.run.id
    feeds = [(finess, str(e.summary.get("acteur", "")))
             for e in context.journal.exchanges(service="dmp", operation="TD2.1", dui=context.dui.name, run=run)
             if e.summary.get("resultat") == "OK"]
    sends = [(finess, _sender_id(str(e.summary.get("from", ""))))
             for e in context.journal.exchanges(service="mssante", operation="smtp.submission",
                                                dui=context.dui.name, run=run)
             if e.status == "250" and not e.summary.get("mdn") and (e.summary.get("documents") or e.summary.get("pdfs"))]
    return {"dmp": feeds, "mssante": sends}


LABELS = {"dmp": "alimentations DMP", "mssante": "envois MSSanté"}


def _counts(reported: Any) -> dict[str, Counter] | None:
    """A nature's counts as the DUI shows them (total, per FINESS, per RPPS), or None."""
    if not isinstance(reported, Mapping):
        return None
    by = {key: Counter({str(k): v for k, v in dict(reported.get(key) or {}).items() if isinstance(v, int)})
          for key in ("par_finess", "par_rpps") if isinstance(reported.get(key) or {}, Mapping)}
    total = reported.get("total")
    return {"total": Counter({"": total}) if isinstance(total, int) else Counter(), **by}


def dashboard_matches_traffic(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """What the DUI's counts per nature, FINESS and RPPS grew by since the run's first reading
    (`tableau_initial_*`) equals what the simulators received from it during the run — history
    before the run (other runs, the DUI's own past) cancels out."""
    start, end = str(context.values["periode_debut"]), str(context.values["periode_fin"])
    findings = []
    for nature, rows in traffic_counts(context).items():
        now, before = _counts(result.get(nature)), _counts(context.values.get(f"tableau_initial_{nature}"))
        if now is None or before is None:
            findings.append(RULES.error("TABLEAU_DE_BORD", f"tableau de bord sans comptes « {nature} » "
                                        f"({LABELS[nature]})", requirements=REQ_DASHBOARD))
            continue
        expected = {"total": Counter({"": len(rows)}) if rows else Counter(),
                    "par_finess": Counter(f for f, _ in rows), "par_rpps": Counter(r for _, r in rows)}
        for key, value in expected.items():
            grown = now.get(key, Counter()) - before.get(key, Counter())
            if grown != value:
                shown = grown.get("", 0) if key == "total" else dict(grown)
                received = len(rows) if key == "total" else dict(value)
                findings.append(RULES.error(
                    "TABLEAU_DE_BORD", f"{LABELS[nature]} du {start} au {end} ({key}) : pendant l'exécution, le "
                    f"tableau du DUI a augmenté de {shown}, les simulateurs en ont reçu {received}",
                    requirements=REQ_DASHBOARD))
    return findings


# -- incoming documents replaced then deleted by their sender (SC.MSS.23.MS1, SC.MSS.24.MS1) -----

def _file(result: Mapping[str, Any]) -> dict[str, Mapping]:
    documents = result.get("documents")
    return {str(d.get("document")): d for d in documents if isinstance(d, Mapping)} if isinstance(documents, list) else {}


def _traced(entry: Mapping, event: str) -> bool:
    history = entry.get("historique")
    return isinstance(history, list) and any(isinstance(h, Mapping) and h.get("evenement") == event for h in history)


def shows_incoming_replacement(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The usager's file shows the hospital's new version as current, replacing the previous
    one, which stays listed as replaced with the trace of its replacement."""
    old, new = str(context.values.get("entrant_v1", "")), str(context.values.get("entrant_v2", ""))
    shown = _file(result)
    wrong = []
    if new not in shown:
        wrong.append(f"la nouvelle version {new} envoyée par l'hôpital est absente du dossier")
    elif shown[new].get("etat") != "actif" or shown[new].get("remplace") != old:
        wrong.append(f"la nouvelle version {new} est affichée « {shown[new].get('etat')} », remplaçant "
                     f"« {shown[new].get('remplace')} » (attendu : actif, remplaçant {old})")
    if old not in shown:
        wrong.append(f"la version remplacée {old} a disparu du dossier : sa trace est perdue")
    elif shown[old].get("etat") != "remplace" or not _traced(shown[old], "remplace"):
        wrong.append(f"la version {old} est affichée « {shown[old].get('etat')} » sans trace de son "
                     "remplacement (attendu : remplacé, tracé)")
    return [RULES.error("ENTRANT_REMPLACE", "dossier de l'usager : " + " ; ".join(wrong))] if wrong else []


def shows_incoming_deletion(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The document the hospital deleted is shown deleted with the trace of the deletion, and
    the version it had replaced keeps its own history."""
    old, deleted = str(context.values.get("entrant_v1", "")), str(context.values.get("entrant_v2", ""))
    shown = _file(result)
    wrong = []
    if deleted not in shown:
        wrong.append(f"le document supprimé {deleted} a disparu du dossier : sa trace est perdue")
    elif shown[deleted].get("etat") != "supprime" or not _traced(shown[deleted], "supprime"):
        wrong.append(f"le document {deleted} supprimé par l'hôpital est affiché « {shown[deleted].get('etat')} »"
                     " sans trace de la suppression (attendu : supprimé, tracé)")
    if old not in shown or not _traced(shown[old], "remplace"):
        wrong.append(f"la version {old} n'a plus la trace de son remplacement")
    return [RULES.error("ENTRANT_SUPPRIME", "dossier de l'usager : " + " ; ".join(wrong))] if wrong else []


def _fetched(message: str, what: str) -> Expectation:
    return Expectation("mssante", ("imap.fetch",), f"lecture IMAP {what}", where={"message_id": message},
                       timeout=120)


def _incoming() -> tuple:
    reqs = ("SC.MSS.23.MS1", "SC.MSS.24.MS1")
    read = "Relevez la boîte MSSanté {infirmiere_bal}."
    return (
        BenchActs("entrant-envoye", "L'hôpital envoie un compte rendu pour l'usager à l'infirmière", (),
                  service="mssante", action="envoyer_lettre_sortie",
                  params={"a": "{infirmiere_bal}", "usager": "{usager_traits}"},
                  remember={"document": "entrant_v1", "message_id": "entrant_message"}),
        DuiActs(id="releve-entrant", title="Relève du document de l'hôpital", requirements=reqs,
                requires=("recherche-ins",), action="lire_messagerie", instruction=read,
                expect=(_fetched("{entrant_message}", "du document de l'hôpital"),)),
        DuiActs(id="rattachement-entrant", title="Document de l'hôpital rattaché à l'usager", requirements=(),
                requires=("releve-entrant",), action="rattacher_document",
                params={"document": "{entrant_v1}", "ins": "{usager_ins}"},
                instruction="Rattachez le document {entrant_v1} reçu de l'hôpital au dossier de {usager_prenom} "
                            "{usager_nom} (INS {usager_ins}) s'il n'y est pas déjà."),
        BenchActs("entrant-remplace", "L'hôpital envoie une nouvelle version (« annule et remplace »)", (),
                  service="mssante", action="envoyer_remplacement",
                  params={"a": "{infirmiere_bal}", "document": "{entrant_v1}"},
                  remember={"document": "entrant_v2", "message_id": "entrant_v2_message"}),
        DuiActs(id="releve-remplacement", title="Relève de la nouvelle version", requirements=("SC.MSS.24.MS1",),
                requires=("rattachement-entrant",), action="lire_messagerie", instruction=read,
                expect=(_fetched("{entrant_v2_message}", "de la nouvelle version"),)),
        DuiActs(id="remplacement-entrant-affiche", title="La nouvelle version remplace l'ancienne dans le dossier",
                requirements=("SC.MSS.24.MS1",), requires=("releve-remplacement",), action="documents_usager",
                params={"ins": "{usager_ins}"},
                instruction="Ouvrez le dossier de {usager_prenom} {usager_nom} : le document {entrant_v2} y remplace "
                            "{entrant_v1}, qui reste visible comme remplacé avec son historique ; joignez une capture.",
                result_checks=(shows_incoming_replacement,)),
        BenchActs("entrant-supprime", "L'hôpital demande la suppression de la nouvelle version", (),
                  service="mssante", action="envoyer_suppression",
                  params={"a": "{infirmiere_bal}", "document": "{entrant_v2}"},
                  remember={"message_id": "entrant_suppression_message"}),
        DuiActs(id="releve-suppression", title="Relève de la demande de suppression", requirements=reqs,
                requires=("remplacement-entrant-affiche",), action="lire_messagerie", instruction=read,
                expect=(_fetched("{entrant_suppression_message}", "de la demande de suppression"),)),
        DuiActs(id="suppression-entrant-affichee", title="Le document supprimé par l'hôpital est tracé comme tel",
                requirements=reqs, requires=("releve-suppression",), action="documents_usager",
                params={"ins": "{usager_ins}"},
                instruction="Ouvrez le dossier de {usager_prenom} {usager_nom} : le document {entrant_v2} y est "
                            "marqué supprimé par l'hôpital, avec son historique ; joignez une capture.",
                result_checks=(shows_incoming_deletion,)),
    )


# -- the usager's refusals (SC.MSS.15.MS1, SC.MSS.16.MS1) ---------------------------------------

def _refusals() -> tuple:
    to_usager = Expectation("mssante", SUBMISSION, "message à la messagerie Mon espace santé de l'usager",
                            where={"patient_mailbox": "True"}, absent=True, timeout=60)
    return (
        DuiActs(id="refus-messagerie-citoyenne", title="L'usager refuse les envois à sa messagerie citoyenne",
                requirements=(), requires=("recherche-ins",), action="refus_usager",
                params={"ins": "{usager_ins}", "messagerie_citoyenne": True},
                instruction="Enregistrez dans le dossier de {usager_prenom} {usager_nom} son refus de recevoir "
                            "des documents dans sa messagerie de Mon espace santé."),
        dmp.produce("produire-2", "document_v3", ("{medecin_bal}",)),
        DuiActs(id="refus-citoyen-respecte", title="Refus respecté : rien vers Mon espace santé, le médecin reçoit",
                requirements=("SC.MSS.15.MS1",), requires=("refus-messagerie-citoyenne", "produire-2", "envoi-medecin"),
                action="envoi_mssante",
                params={"document": "{document_v3}", "destinataires": ["{medecin_bal}"], "usager": True},
                instruction="Diffusez le document {document_v3} au Dr {medecin_nom} et à l'usager : l'usager a "
                            "refusé sa messagerie citoyenne, seul le médecin doit le recevoir.",
                expect=(Expectation("mssante", SUBMISSION, "message au médecin traitant",
                                    where={"document_unique_id": "{document_v3}", "patient_mailbox": "False"},
                                    timeout=180), to_usager)),
        DuiActs(id="refus-mssante", title="L'usager refuse aussi les envois par MSSanté professionnelle",
                requirements=(), requires=("recherche-ins",), action="refus_usager",
                params={"ins": "{usager_ins}", "mssante": True},
                instruction="Enregistrez le refus de {usager_prenom} {usager_nom} que ses documents soient "
                            "envoyés aux professionnels par MSSanté."),
        DuiActs(id="refus-pro-respecte", title="Refus respecté : aucun message aux professionnels",
                requirements=("SC.MSS.16.MS1",), requires=("refus-mssante", "produire-2", "envoi-medecin"),
                action="envoi_mssante",
                params={"document": "{document_v3}", "destinataires": ["{medecin_bal}"]}, refusal_expected=True,
                instruction="Tentez d'envoyer le document {document_v3} au Dr {medecin_nom} : le DUI doit s'y "
                            "refuser, l'usager ayant refusé les envois MSSanté.",
                expect=(Expectation("mssante", SUBMISSION, "message MSSanté du DUI", absent=True, timeout=60),)),
    )


# -- the steps -----------------------------------------------------------------------------------

def _send_to_gp() -> DuiActs:
    return DuiActs(
        id="envoi-medecin", title="Envoi du compte rendu au médecin traitant (MSSanté)",
        requirements=("SC.MSS.17.MS1",), requires=("produire",), action="envoi_mssante",
        params={"document": "{document_v1}", "destinataires": ["{medecin_bal}"]},
        instruction="Envoyez le document {document_v1} par MSSanté au Dr {medecin_nom} ({medecin_bal}).",
        expect=(Expectation("mssante", SUBMISSION, "message MSSanté au médecin traitant",
                            where={"patient_ins": "{usager_ins}", "document_unique_id": "{document_v1}"},
                            timeout=180),))


def _replace() -> DuiActs:
    return DuiActs(
        id="remplacement", title="Correction du document envoyé (« annule et remplace »)",
        requirements=REQ_REPLACEMENT, requires=("alimentation", "envoi-medecin"), action="remplacer_document",
        params={"document": "{document_v1}", "motif": "correction de la posologie"},
        instruction=dmp.REPLACE_INSTRUCTION + " Le Dr {medecin_nom} reçoit par MSSanté la nouvelle version, "
                    "avec la mention « annule et remplace ».",
        expect=(dmp.replacement_feed(),
                Expectation("mssante", SUBMISSION, "message de la nouvelle version au médecin traitant",
                            where={"patient_ins": "{usager_ins}"},
                            checks=(announces_replacement("{document_v1}"),), timeout=180)),
        remember={"document": "document_v2"})


def _dashboard_before() -> DuiActs:
    return DuiActs(
        id="tableau-de-bord-initial", title="Tableau de bord avant les alimentations et envois de l'exécution",
        requirements=REQ_DASHBOARD, action="tableau_de_bord",
        params={"debut": "{periode_debut}", "fin": "{periode_fin}"},
        instruction="Affichez le tableau de bord du {periode_debut} au {periode_fin} et joignez-en une capture "
                    "(point de départ des comptes de l'exécution).",
        remember={"dmp": "tableau_initial_dmp", "mssante": "tableau_initial_mssante"})


def _agenda_dashboard() -> ManualProof:
    """SC.TBB.02.MS1 is a PEUT: no simulated service carries agenda or liaison-book sends, so
    nothing in the traffic can prove it; a DUI declaring the function attaches its screen."""
    return ManualProof(
        id="tableau-de-bord-agenda", title="Tableau de bord des envois d'agenda et de cahier de liaison",
        requirements=("SC.TBB.02.MS1",), feature="tableau-de-bord-agenda",
        instruction="Joignez une capture du tableau de bord des envois d'agenda et de cahier de liaison du "
                    "{periode_debut} au {periode_fin}, par FINESS et par RPPS, où figurent la période et "
                    "les comptes.")


def _dashboard() -> DuiActs:
    return DuiActs(
        id="tableau-de-bord", title="Tableau de bord des alimentations DMP et envois MSSanté",
        requirements=REQ_DASHBOARD, requires=("tableau-de-bord-initial", "alimentation", "envoi-medecin"),
        action="tableau_de_bord",
        params={"debut": "{periode_debut}", "fin": "{periode_fin}"},
        instruction="Affichez le tableau de bord du {periode_debut} au {periode_fin} : nombre d'alimentations "
                    "du DMP et d'envois MSSanté, par FINESS et par RPPS ; joignez-en une capture.",
        result_checks=(dashboard_matches_traffic,))


SCENARIO = Scenario(
    id="accompagnement-quotidien",
    title="Accompagnement quotidien",
    profile="DSR ESMS vague 1 — DUI domicile",
    description=("Compte rendu versé au DMP et envoyé au médecin traitant, masqué puis rendu invisible pour "
                 "l'usager, corrigé (« annule et remplace ») et supprimé ; refus de l'usager respectés ; "
                 "tableau de bord comparé au trafic reçu par le DMP et MSSanté."),
    inputs=inputs,
    steps=(
        *known_to_national_services(),
        psc_login("Connexion Pro Santé Connect"),
        _dashboard_before(),
        dmp.search_ins(),
        dmp.produce("produire", "document_v1", ("{medecin_bal}",)),
        dmp.feed(),
        _send_to_gp(),
        dmp.mask(),
        dmp.unmask_hide_from_usager(),
        _replace(),
        dmp.status_change("suppression", "Suppression de la version corrigée au DMP", False, ("remplacement",)),
        *_refusals(),
        *_incoming(),
        _dashboard(),
        _agenda_dashboard(),
    ),
)
