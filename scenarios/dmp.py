"""Focused scenario: the DMP feed profile, for a vendor fixing their DMP integration.

A fresh usager known to INSi and with a DMP; the DUI feeds a document (TD2.1 then TD3.1),
masks it to professionals, then makes it visible to them but not to the usager (TD3.3a/b),
replaces it with a corrected version (RPLC), archives that version and deletes it (TD3.3d/c).
Each step is judged on the DMP exchanges the mock observed: what the DMP recorded as replaced,
masked, archived or deleted, not what the DUI says it did.
"""

from __future__ import annotations

from banc.journal import Exchange
from banc.scenario.judge import RULES
from banc.scenario.model import Check, DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding
from scenarios.usagers import fresh_identity, known_to_national_services, usager_values

REQ_FEED = ("SC.DMP.01.MS1", "SC.DMP.04.MS1")
REQ_MANAGE = ("SC.DMP.02.MS1",)
SEARCH = ("rechercherInsAvecTraitsIdentite",)


def inputs(context: RunContext) -> dict:
    return usager_values(fresh_identity(context))


def changed(change: str, document: str) -> Check:
    """The DMP applied `change` to `document` (a template): its TD3.3 summary lists
    "<change> <uniqueId>" (e.g. "+MASQUE_PS …", "TD3.3c.supprimer …")."""
    def check(exchange: Exchange, context: RunContext) -> list[Finding]:
        wanted = f"{change} {context.fill(document)}"
        done = exchange.summary.get("modifications") or []
        if wanted in done:
            return []
        return [RULES.error("DMP_MODIFICATION", f"le DMP n'a pas enregistré « {wanted} » (modifications "
                            f"appliquées : {', '.join(done) or 'aucune'})", requirements=())]
    return check


def replaced_previous(document: str) -> Check:
    """The feed of a new version replaced a document at the DMP (RPLC association: the DMP
    deprecated the previous version), and is not `document` (a template) itself fed again."""
    def check(exchange: Exchange, context: RunContext) -> list[Finding]:
        previous = context.fill(document)
        if exchange.summary.get("document_unique_id") == previous:
            return [RULES.error("RPLC", f"la « nouvelle version » versée est le document {previous} lui-même",
                                requirements=REQ_MANAGE)]
        if exchange.summary.get("remplace"):
            return []
        return [RULES.error("RPLC", f"nouvelle version du document {previous} versée sans association RPLC : "
                            "le DMP n'a remplacé aucun document, l'ancienne version y reste valide",
                            requirements=REQ_MANAGE)]
    return check


def td33(document: str, *changes: str) -> Expectation:
    """A TD3.3 (ITI-57) of the run's usager applying every change to `document`."""
    return Expectation("dmp", ("TD3.3",), "mise à jour ITI-57 au DMP", where={"patient_ins": "{usager_ins}"},
                       checks=tuple(changed(c, document) for c in changes), timeout=180)


def search_ins() -> DuiActs:
    return DuiActs(
        id="recherche-ins", title="L'usager retrouvé par ses traits (INSi)", requirements=("SC.INS.27.MS1",),
        action="recherche_ins",
        params={"nom": "{usager_nom}", "prenom": "{usager_prenom}", "sexe": "{usager_sexe}",
                "naissance": "{usager_naissance}", "lieu": "{usager_lieu}"},
        instruction="Ouvrez le dossier de l'usager {usager_prenom} {usager_nom} ({usager_sexe}, né(e) le "
                    "{usager_naissance}) et qualifiez son identité par INSi.",
        expect=(Expectation("insi", SEARCH, "recherche INSi par traits", where={"patient_ins": "{usager_ins}"},
                            timeout=120),))


def produce(step_id: str, remember_as: str, recipients: tuple[str, ...] = ()) -> DuiActs:
    """The DUI produces an N1 document (no exchange: nothing to judge yet, no requirement)."""
    return DuiActs(
        id=step_id, title="Production d'un compte rendu (N1)", requirements=(), requires=("recherche-ins",),
        action="produire_document",
        params={"ins": "{usager_ins}", "type": "N1", **({"destinataires": list(recipients)} if recipients else {})},
        instruction="Rédigez et validez un compte rendu de passage pour l'usager {usager_prenom} {usager_nom}"
                    + (" adressé à " + ", ".join(recipients) if recipients else "") + ".",
        remember={"document": remember_as})


def feed(document: str = "{document_v1}") -> DuiActs:
    return DuiActs(
        id="alimentation", title="Versement du document au DMP", requirements=REQ_FEED, requires=("recherche-ins",),
        action="alimentation_dmp", params={"ins": "{usager_ins}", "document": document},
        instruction=f"Versez au DMP de l'usager (INS {{usager_ins}}) le document {document}, puis affichez la "
                    "liste de ses documents au DMP.",
        expect=(Expectation("dmp", ("TD2.1",), "versement ITI-41 au DMP",
                            where={"patient_ins": "{usager_ins}", "document_unique_id": document}, timeout=180),
                Expectation("dmp", ("TD3.1",), "recherche ITI-18 dans le DMP",
                            where={"patient_ins": "{usager_ins}"}, timeout=180)))


def mask(document: str = "{document_v1}") -> DuiActs:
    return DuiActs(
        id="masquage", title="Masquage du document aux professionnels",
        requirements=("SC.DOC.01.MS1", "SC.DOC.02.MS1"), requires=("alimentation",),
        action="modifier_visibilite_dmp", params={"document": document, "masque_ps": True},
        instruction=f"Masquez aux professionnels de santé le document {document} déjà versé au DMP.",
        expect=(td33(document, "+MASQUE_PS"),))


def unmask_hide_from_usager(document: str = "{document_v1}") -> DuiActs:
    return DuiActs(
        id="visibilite", title="Document rendu visible aux professionnels, invisible pour l'usager",
        requirements=("SC.DOC.01.MS1",), requires=("masquage",),
        action="modifier_visibilite_dmp", params={"document": document, "masque_ps": False, "invisible_patient": True},
        instruction=f"Pour le document {document} : levez le masquage aux professionnels et rendez-le "
                    "invisible pour l'usager.",
        expect=(td33(document, "-MASQUE_PS", "+INVISIBLE_PATIENT"),))


REPLACE_INSTRUCTION = ("Corrigez le document {document_v1} (« annule et remplace ») : la nouvelle version "
                       "remplace la précédente au DMP.")


def replacement_feed() -> Expectation:
    return Expectation("dmp", ("TD2.1",), "versement de la nouvelle version (RPLC)",
                       where={"patient_ins": "{usager_ins}"}, checks=(replaced_previous("{document_v1}"),),
                       timeout=180)


def status_change(step_id: str, title: str, archive: bool, requires: tuple[str, ...]) -> DuiActs:
    change = "TD3.3d.archiver" if archive else "TD3.3c.supprimer"
    return DuiActs(
        id=step_id, title=title, requirements=REQ_MANAGE, requires=requires,
        action="supprimer_document", params={"document": "{document_v2}", **({"archiver": True} if archive else {})},
        instruction=("Archivez" if archive else "Supprimez") + " au DMP le document {document_v2}.",
        expect=(td33("{document_v2}", change),))


SCENARIO = Scenario(
    id="dmp",
    title="Profil d'alimentation du DMP",
    profile="DSR ESMS vague 1 — DUI domicile (ciblé DMP)",
    description=("Versement d'un document au DMP d'un usager, masquage aux professionnels puis invisibilité "
                 "pour l'usager, nouvelle version en remplacement (RPLC), archivage puis suppression."),
    inputs=inputs,
    steps=(
        *known_to_national_services(),
        search_ins(),
        produce("produire", "document_v1"),
        feed(),
        mask(),
        unmask_hide_from_usager(),
        DuiActs(id="remplacement", title="Nouvelle version du document (« annule et remplace »)",
                requirements=REQ_MANAGE, requires=("alimentation",), action="remplacer_document",
                params={"document": "{document_v1}", "motif": "correction de la posologie"},
                instruction=REPLACE_INSTRUCTION, expect=(replacement_feed(),), remember={"document": "document_v2"}),
        status_change("archivage", "Archivage de la nouvelle version", True, ("remplacement",)),
        status_change("suppression", "Suppression de la nouvelle version", False, ("remplacement",)),
    ),
)
