"""Documents a correspondent sends the DUI, as the scenarios judge their arrival: the DUI's IMAP
read of the message, and its worklist compared with the CDA metadata the bench sent.

Shared by the scenarios where a hospital or a GP writes to the SSIAD (retour-domicile,
demande-ssiad). `prefix` names the run values a `BenchActs` remembered of the message sent
(`{prefix}_message_id`, `{prefix}_document`, `{prefix}_titre`…).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from banc.scenario.judge import RULES
from banc.scenario.model import BenchActs, DuiActs, Expectation, Step
from banc.scenario.runner import RunContext
from banc.verdict import Finding

SENT_FACTS = ("message_id", "document", "titre", "date", "auteur", "auteur_nom", "patient_ins", "patient_nom")
"""What the mock's control plane answers of a message a correspondent sent, kept per prefix."""


def remembered(prefix: str, under: str = "") -> dict[str, str]:
    """`BenchActs.remember` of a correspondent's message (`under`: its key in a nested answer)."""
    return {f"{under}.{fact}" if under else fact: f"{prefix}_{fact}" for fact in SENT_FACTS}


def _digits(value: Any, length: int) -> str:
    return "".join(c for c in str(value or "") if c.isdigit())[:length]


def find_entry(documents: Any, document_id: str) -> Mapping | None:
    """The entry of `document_id` in a list of documents a DUI showed (worklist, usager's file)."""
    if not isinstance(documents, list):
        return None
    return next((d for d in documents if isinstance(d, Mapping) and d.get("document") == document_id), None)


def shows_in_worklist(result: Mapping[str, Any], context: RunContext, prefix: str = "lettre") -> list[Finding]:
    """The worklist holds the document the correspondent sent, unread, with its CDA metadata:
    title, creation date, author, usager concerned (SC.MSS.26.MS1)."""
    values = context.values
    document = str(values.get(f"{prefix}_document", ""))
    entry = find_entry(result.get("documents"), document)
    if entry is None:
        return [RULES.error("LISTE_DE_TRAVAIL", f"le document {document} envoyé au DUI est absent de la "
                            "liste de travail des documents non lus du DUI")]
    wrong = []
    if str(entry.get("titre", "")).strip().lower() != str(values.get(f"{prefix}_titre", "")).strip().lower():
        wrong.append(f"titre « {entry.get('titre')} » au lieu de « {values.get(f'{prefix}_titre')} »")
    if _digits(entry.get("date"), 12) != _digits(values.get(f"{prefix}_date"), 12):
        wrong.append(f"date {entry.get('date')} au lieu de {values.get(f'{prefix}_date')}")
    author = f"{entry.get('auteur', '')} {entry.get('auteur_nom', '')}".lower()
    if str(values.get(f"{prefix}_auteur", "")).lower() not in author and \
            str(values.get(f"{prefix}_auteur_nom", "")).lower() not in author:
        wrong.append(f"auteur « {author.strip()} » au lieu de {values.get(f'{prefix}_auteur')}")
    patient = f"{entry.get('ins', '')} {entry.get('usager_nom', '')}".upper()
    if str(values.get(f"{prefix}_patient_ins", "")) not in patient and \
            str(values.get(f"{prefix}_patient_nom", "")).upper() not in patient:
        wrong.append("usager concerné absent")
    if entry.get("lu") not in (False, 0, None):
        wrong.append("document marqué lu")
    return [RULES.error("LISTE_DE_TRAVAIL", f"liste de travail : {document} : {'; '.join(wrong)}")] if wrong else []


def in_usager_file(prefix: str, what: str) -> Callable[[Mapping[str, Any], RunContext], list[Finding]]:
    """A result check: the usager's file holds the document `{prefix}_document` once attached
    (SC.MSS.25.MS1); `what` names it in the finding ("la lettre de liaison")."""
    def check(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
        document = str(context.values.get(f"{prefix}_document", ""))
        if find_entry(result.get("documents"), document) is None:
            return [RULES.error("DOSSIER", f"{what} {document} n'est pas dans le dossier de l'usager "
                                f"{context.values.get('usager_ins')} après rattachement")]
        return []
    return check


def hospital_letter(prefix: str, traits: str) -> BenchActs:
    """Bench step: the hospital sends its discharge letter (LDL-SES, read receipt asked) for the
    person of the run value `traits` to the nurse; what it sent is kept under `prefix`."""
    return BenchActs(
        f"{prefix}-envoyee", "L'hôpital envoie sa lettre de liaison de sortie (accusé de lecture demandé)", (),
        service="mssante", action="envoyer_lettre_sortie",
        params={"a": "{infirmiere_bal}", "usager": f"{{{traits}}}", "accuse": True},
        remember=remembered(prefix))


def fetched(prefix: str, sender: str = "de l'hôpital") -> Expectation:
    """The DUI read the message over IMAP (its Message-ID: `{prefix}_message_id`)."""
    return Expectation("mssante", ("imap.fetch", "imap.fetch.message"), f"lecture IMAP du message {sender}",
                       where={"message_id": f"{{{prefix}_message_id}}"}, timeout=120)


def letter_received() -> tuple[Step, ...]:
    """The hospital's letter for the run's usager (`{usager_traits}`), read and acknowledged
    (SC.MSS.26), listed unread with its metadata (SC.MSS.26), attached after an INSi
    verification (SC.INS.26, SC.MSS.25) and found in the usager's file (SC.MSS.25)."""
    return (
        hospital_letter("lettre", "usager_traits"),
        DuiActs(
            id="releve-lettre", title="Relève de la messagerie et accusé de lecture de la lettre",
            requirements=("SC.MSS.26.MS1",), requires=("lettre-envoyee",), action="lire_messagerie",
            instruction="Relevez la boîte MSSanté {infirmiere_bal} : la lettre de liaison de l'hôpital pour "
                        "{usager_prenom} {usager_nom} doit être intégrée et son accusé de lecture envoyé.",
            expect=(fetched("lettre"),
                    Expectation("mssante", ("smtp.submission",), "accusé de lecture (MDN) de la lettre",
                                where={"mdn_original_message_id": "{lettre_message_id}"}, timeout=120))),
        DuiActs(
            id="liste-de-travail", title="La lettre en liste de travail des documents non lus",
            requirements=("SC.MSS.26.MS1",), requires=("releve-lettre",), action="liste_de_travail",
            instruction="Affichez la liste de travail des documents entrants non lus.",
            result_checks=(shows_in_worklist,)),
        DuiActs(
            id="rattachement", title="Rattachement de la lettre à l'usager après vérification INSi",
            requirements=("SC.INS.26.MS1", "SC.MSS.25.MS1"), requires=("liste-de-travail",),
            action="rattacher_document", params={"document": "{lettre_document}", "ins": "{usager_ins}"},
            instruction="Rattachez la lettre de liaison à l'usager {usager_prenom} {usager_nom} (INS {usager_ins}) "
                        "en vérifiant son identité auprès d'INSi.",
            expect=(Expectation("insi", ("rechercherInsAvecTraitsIdentite",),
                                "vérification INSi de l'identité du document",
                                where={"patient_ins": "{usager_ins}"}, timeout=120),)),
        DuiActs(
            id="dossier-usager", title="La lettre est dans le dossier de l'usager",
            requirements=("SC.MSS.25.MS1",), requires=("rattachement",), action="documents_usager",
            params={"ins": "{usager_ins}"}, instruction="Ouvrez le dossier de l'usager {usager_prenom} {usager_nom}.",
            result_checks=(in_usager_file("lettre", "la lettre de liaison"),)),
    )
