"""Focused scenario: MSSanté sending and receiving with read receipts, for a vendor fixing their
messaging integration.

The hospital writes to the nurse (read receipt asked): the DUI reads the message over IMAP,
acknowledges it (MDN), lists it and attaches it after INSi. The DUI then sends its own document
to the GP found in the Annuaire, asking a read receipt, and to the usager's Mon espace santé
mailbox; the GP's simulated software answers the receipt, which the DUI reads back and matches
with the message it sent. Judged on the SMTP/IMAP traffic the MSSanté mock saw, and for what the
DUI shows, on its read actions compared with what the bench sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from banc.journal import Exchange
from banc.mail.message import parse_mail
from banc.population import identity_to_dict
from banc.scenario.judge import RULES
from banc.scenario.model import BenchActs, DuiActs, Expectation, Scenario
from banc.scenario.runner import RunContext
from banc.verdict import Finding
from scenarios.incoming import fetched, letter_received
from scenarios.staff import gp_lookup, gp_values, nurse_values, psc_login
from scenarios.usagers import fresh_identity, known_to_national_services, usager_values

SUBMISSION = ("smtp.submission",)
SEARCH = ("rechercherInsAvecTraitsIdentite",)


def _inputs(context: RunContext) -> dict:
    usager = fresh_identity(context)
    return {**usager_values(usager), "usager_traits": identity_to_dict(usager), **nurse_values(), **gp_values()}


def _asks_receipt(exchange: Exchange, context: RunContext) -> list[Finding]:
    """The message asks its recipients for a read receipt, to the sender's own mailbox."""
    if parse_mail(exchange.request, headers_only=True).addresses("Disposition-Notification-To"):
        return []
    return [RULES.error("ACCUSE_DEMANDE", "message envoyé sans en-tête Disposition-Notification-To : aucun accusé "
                        "de lecture ne peut revenir au DUI", requirements=("SC.MSS.17.MS1",))]


def _receipt_matched(result: Mapping[str, Any], context: RunContext) -> list[Finding]:
    """The DUI read the GP's receipt and ties it to the message it sent."""
    sent = str(context.values.get("envoi_message_id", ""))
    receipts = result.get("accuses")
    found = [r for r in receipts if isinstance(r, Mapping)] if isinstance(receipts, list) else []
    if any(str(r.get("message_id", "")) == sent for r in found):
        return []
    return [RULES.error("ACCUSE_RECU", f"l'accusé de lecture du médecin pour le message {sent} n'est pas rattaché "
                        f"à ce message par le DUI (accusés relevés : {[r.get('message_id') for r in found] or 'aucun'})",
                        requirements=("SC.MSS.17.MS1",))]


SCENARIO = Scenario(
    id="mssante",
    title="Messagerie MSSanté : réception, envoi et accusés de lecture",
    profile="DSR ESMS vague 1 — DUI domicile (ciblé MSSanté)",
    description=("La lettre de l'hôpital relevée, accusée, listée et rattachée ; le DLU envoyé au médecin "
                 "trouvé dans l'Annuaire avec accusé de lecture demandé, puis à l'usager ; l'accusé du médecin "
                 "relevé et rapproché du message envoyé."),
    inputs=_inputs,
    steps=(
        *known_to_national_services(),
        psc_login(),
        *letter_received(),
        gp_lookup(),
        DuiActs(
            id="produire-dlu", title="Production du DLU de l'usager", requirements=(), requires=("rattachement",),
            action="produire_document", params={"ins": "{usager_ins}", "type": "DLU", "destinataires": ["{medecin_bal}"]},
            instruction="Produisez le DLU de {usager_prenom} {usager_nom}, destiné au Dr {medecin_nom}.",
            remember={"document": "dlu_document"}),
        DuiActs(
            id="envoi-medecin", title="Envoi du DLU au médecin, accusé de lecture demandé",
            requirements=("SC.MSS.17.MS1",), requires=("produire-dlu", "annuaire-medecin"), action="envoi_mssante",
            params={"document": "{dlu_document}", "destinataires": ["{medecin_bal}"], "accuse_lecture": True},
            instruction="Envoyez le DLU au Dr {medecin_nom} ({medecin_bal}) en demandant un accusé de lecture.",
            expect=(Expectation("mssante", SUBMISSION, "message MSSanté au médecin traitant",
                                where={"document_unique_id": "{dlu_document}", "patient_mailbox": "False"},
                                checks=(_asks_receipt,), remember={"message_id": "envoi_message_id"}, timeout=180),
                    Expectation("mssante", ("mdn",), "accusé de lecture du logiciel du médecin", from_dui=False,
                                where={"to": "{infirmiere_bal}"}, remember={"message_id": "accuse_message_id"},
                                timeout=60))),
        BenchActs("boite-patient", "L'usager a une messagerie Mon espace santé", (), service="mssante",
                  action="ajouter_boite_patient", params={"usager": "{usager_traits}"}),
        DuiActs(
            id="envoi-usager", title="Envoi du DLU à la messagerie Mon espace santé de l'usager",
            requirements=("SC.MSS.18.MS1",), requires=("produire-dlu", "boite-patient"), action="envoi_mssante",
            params={"document": "{dlu_document}", "usager": True},
            instruction="Envoyez le DLU à la messagerie de Mon espace santé de l'usager ({usager_ins}@patient."
                        "mssante.fr).",
            expect=(Expectation("mssante", SUBMISSION, "message à la messagerie de l'usager", where={
                "document_unique_id": "{dlu_document}", "patient_mailbox": "True"}, timeout=180),)),
        DuiActs(
            id="releve-accuse", title="Relève de l'accusé de lecture du médecin, rapproché du message envoyé",
            requirements=("SC.MSS.17.MS1",), requires=("envoi-medecin",), action="lire_messagerie",
            instruction="Relevez la boîte MSSanté {infirmiere_bal} : l'accusé de lecture du Dr {medecin_nom} doit "
                        "être rattaché au message envoyé.",
            expect=(fetched("accuse", "d'accusé de lecture du médecin"),),
            result_checks=(_receipt_matched,)),
    ),
)
