"""MSSanté of the reference DUI, sending side: the usager's document to professionals and to the
usager's Mon espace santé mailbox, one message each, over SMTP with XOAUTH2 (the PSC token);
the usager's refusals recorded and honoured on every send. Reading the mailboxes is `receiving`.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

from banc.documents.base import GeneratedDocument
from banc.identity import PATIENT_MAIL_DOMAIN, IdentityStatus, patient_mail_address
from banc.mail.compose import HealthMessage
from banc.mail.senders import pdf_copy
from scenarios.reference_dui.base import ActionImpossible
from scenarios.reference_dui.documents import DocumentActions
from scenarios.reference_dui.receiving import ReceivingActions
from scenarios.reference_dui.store import Usager
from scenarios.reference_dui.stylesheet import presented

X_MSS_HEADERS = ("X-MSS-CODECDA", "X-MSS-INS", "X-MSS-NIL")
REPLACEMENT_BODY = ("Bonjour,\n\nVeuillez trouver ci-joint la nouvelle version du document. Elle ANNULE ET "
                    "REMPLACE le document {replaces} que vous avez reçu précédemment.\n\nCordialement.\n")


def _is_patient(address: str) -> bool:
    return address.lower().endswith("@" + PATIENT_MAIL_DOMAIN)


class MssanteActions(ReceivingActions, DocumentActions):
    def envoi_mssante(self, destinataires: list[str] | None = None, destinataire: str = "",
                      usager: bool = False, document: str | None = None, accuse_lecture: bool = False) -> dict:
        """Send the document (XDM + PDF) to the professionals named and, when asked, to the
        usager's Mon espace santé mailbox (qualified INS only) — each unless the usager
        refused it (SC.MSS.15.MS1, SC.MSS.16.MS1); `accuse_lecture` asks the recipients for a
        read receipt (Disposition-Notification-To: the nurse's mailbox)."""
        professionals = [*(destinataires or []), *([destinataire] if destinataire else [])]
        if not professionals and not usager:
            professionals = [str(self.facts.get("correspondent_mailbox", ""))]
        ins = self._ins_of(document)
        made = self._document(ins, document)
        recipients = [r for r in professionals if r]
        if usager:
            record = self.usager(ins)
            if record.statut != IdentityStatus.QUALIFIEE.value or not record.ins:
                raise ActionImpossible(f"INS de l'usager non qualifié (statut {record.statut}) : pas d'envoi "
                                       "à sa messagerie de Mon espace santé")
            recipients.append(patient_mail_address(record.ins))
        sent = self.send_messages(made.document_id, recipients, notify=accuse_lecture)
        return {"document": made.document_id, "messages": sent,
                "message_id": next(iter(sent.values()), "")}

    def refus_usager(self, ins: str, messagerie_citoyenne: bool | None = None,
                     mssante: bool | None = None) -> dict:
        """Record (or lift, with false) the usager's refusal of sending through Mon espace
        santé's messaging and/or professional MSSanté."""
        usager = self.store.set_refusal(self.usager(ins).id, messagerie_citoyenne=messagerie_citoyenne,
                                        mssante=mssante)
        return {"ins": ins, "messagerie_citoyenne": usager.refus_messagerie_citoyenne,
                "mssante": usager.refus_mssante}

    def _ins_of(self, document: str | None) -> str:
        wanted = document or str(self.facts.get("document", ""))
        stored = self.store.find_document(wanted) if wanted else None
        if stored is not None:
            return stored.ins_document
        usager = self.facts.get("ins")
        if not usager:
            raise ActionImpossible("aucun document ni usager : produisez d'abord un document")
        return str(usager)

    def _allowed(self, usager: Usager | None, recipients: list[str]) -> tuple[list[str], list[str]]:
        """Recipients the usager's refusals leave (and those they exclude)."""
        if usager is None or "envoi-malgre-refus" in self.faults:
            return recipients, []
        refused = [r for r in recipients if (usager.refus_messagerie_citoyenne if _is_patient(r)
                                            else usager.refus_mssante)]
        return [r for r in recipients if r not in refused], refused

    def send_document(self, document_id: str, recipients: list[str], *, replaces: str | None = None) -> str:
        """The document to `recipients` (see `send_messages`); the Message-ID of the first message."""
        return next(iter(self.send_messages(document_id, recipients, replaces=replaces).values()))

    def send_messages(self, document_id: str, recipients: list[str], *, replaces: str | None = None,
                      notify: bool = False) -> dict:
        """The document to `recipients`: one message to the professionals, one to the usager's
        mailbox; a new version says it cancels and replaces `replaces`. Returns the Message-ID
        of each message sent by kind (`professionnels`, `usager`); refused when the usager's
        refusals leave nobody to send to."""
        made = self.made[document_id]
        stored = self.store.find_document(document_id)
        usager = self.store.usager(stored.usager) if stored is not None and stored.usager is not None else None
        allowed, refused = self._allowed(usager, recipients)
        if not allowed:
            raise ActionImpossible(
                "envoi refusé par l'usager (" + ", ".join(refused) + ")" if refused else "aucun destinataire")
        groups = {"professionnels": [r for r in allowed if not _is_patient(r)],
                  "usager": [r for r in allowed if _is_patient(r)]}
        sent = {kind: self._send_message(made, group, replaces, notify) for kind, group in groups.items() if group}
        if refused:
            self.store.trace(document_id, "refus", "non envoyé (refus de l'usager) : " + ", ".join(refused))
        return sent

    def _send_message(self, made: GeneratedDocument, recipients: list[str], replaces: str | None,
                      notify: bool = False) -> str:
        sender = self.personal_mailbox
        message_id = f"<{secrets.token_hex(12)}@dui-reference.banc-segur.test>"
        cda, archive = (made.xml, None) if "sans-feuille-de-style" in self.faults else presented(made)
        # a structured CDA travels with its PDF/A-1 copy (the usager's mailbox requires it: SC.MSS.18.MS1)
        message = HealthMessage(sender=sender, recipients=recipients, cda=cda, xdm=archive,
                                pdf=made.pdf or pdf_copy(made), message_id=message_id,
                                notify_to=sender if notify and "sans-demande-accuse" not in self.faults else None)
        if replaces:
            message = replace(message, body=REPLACEMENT_BODY.format(replaces=replaces))
        if "sans-xdm" in self.faults:
            message = replace(message, cda=None, xdm=None)  # the PDF alone, no IHE_XDM.ZIP
        if "sans-en-tetes-xmss" in self.faults:
            message = replace(message, omit_headers=X_MSS_HEADERS)
        self.submit(sender, recipients, message.build())
        self.store.trace(made.document_id, "envoye", f"{message_id} à {', '.join(recipients)}")
        self.store.record_activity("mssante", finess=self.directory.ssiad.national_id,
                                   rpps=self.nurse.national_id, document=made.document_id,
                                   destinataires=len(recipients))
        return message_id
