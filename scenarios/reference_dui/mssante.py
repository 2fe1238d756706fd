"""MSSanté of the reference DUI: SMTP submission with STARTTLS and XOAUTH2 (the PSC token)."""

from __future__ import annotations

import base64
import secrets
import smtplib
from dataclasses import replace
from urllib.parse import urlparse

from banc.mail.compose import HealthMessage
from scenarios.reference_dui.base import ActionImpossible, DuiBase
from scenarios.reference_dui.documents import DocumentActions


class MssanteActions(DocumentActions, DuiBase):
    def envoi_mssante(self, destinataires: list[str] | None = None, destinataire: str = "",
                      usager: bool = False, document: str | None = None) -> dict:
        """Send the document (XDM + PDF) to the professionals named (and the usager's own
        mailbox when asked), unless the usager refused it."""
        if usager:
            raise ActionImpossible("envoi à la messagerie citoyenne de l'usager : pas encore pris en charge")
        recipients = [*(destinataires or []), *([destinataire] if destinataire else [])]
        if not recipients and not usager:
            recipients = [str(self.facts.get("correspondent_mailbox", ""))]
        ins = self._ins_of(document)
        made = self._document(ins, document)
        message_id = self.send_document(made.document_id, [r for r in recipients if r])
        return {"message_id": message_id, "document": made.document_id}

    def _ins_of(self, document: str | None) -> str:
        wanted = document or str(self.facts.get("document", ""))
        stored = self.store.find_document(wanted) if wanted else None
        if stored is not None:
            return stored.ins_document
        usager = self.facts.get("ins")
        if not usager:
            raise ActionImpossible("aucun document ni usager : produisez d'abord un document")
        return str(usager)

    def send_document(self, document_id: str, recipients: list[str], *, replaces: str | None = None) -> str:
        """One MSSanté message carrying the document, over SMTP with XOAUTH2; its Message-ID."""
        made = self.made[document_id]
        sender = self.nurse.mailbox.address if self.nurse.mailbox else ""
        message_id = f"<{secrets.token_hex(12)}@dui-reference.banc-segur.test>"
        message = HealthMessage(sender=sender, recipients=recipients, cda=made.xml, pdf=made.pdf,
                                message_id=message_id)
        if "sans-xdm" in self.faults:
            message = replace(message, cda=None)  # the PDF alone, no IHE_XDM.ZIP
        raw = message.build()
        smtp_url = urlparse(self.sheet.url("mssante.smtp"))
        with smtplib.SMTP(smtp_url.hostname, smtp_url.port, timeout=120) as smtp:
            smtp.starttls(context=self.sheet.pki.client_context())
            smtp.ehlo()
            token = str(self.facts.get("access_token", ""))
            auth = f"user={sender}\x01auth=Bearer {token}\x01\x01".encode()
            code, reply = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(auth).decode())
            if code != 235:
                raise RuntimeError(f"authentification XOAUTH2 refusée ({code} {reply.decode()})")
            smtp.sendmail(sender, recipients, raw)
        self.store.trace(document_id, "envoye", ", ".join(recipients))
        self.store.record_activity("mssante", finess=self.directory.ssiad.national_id,
                                   rpps=self.nurse.national_id, document=document_id,
                                   destinataires=len(recipients))
        return message_id
