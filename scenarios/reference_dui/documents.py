"""Documents the reference DUI produces: the document factory, every recipient named in the CDA."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import replace

from banc.directory import Organisation, Professional
from banc.documents import factory
from banc.documents.base import GeneratedDocument
from banc.documents.header import DocumentContext
from banc.documents.parties import Recipient, from_directory, organization_from_directory
from banc.identity import OID_INS_NIR
from scenarios.reference_dui.base import ActionImpossible, DuiBase, as_identity
from scenarios.reference_dui.store import StoredDocument


class DocumentActions(DuiBase):
    def produire_document(self, ins: str, type: str, destinataires: list[str] | None = None) -> dict:
        """Produce a document of `type` for the usager, naming every recipient (SC.DOC.04.MS1);
        without recipients, the usager's GP."""
        usager = self.usager(ins)
        identity = as_identity(usager)
        if "oid-ins-faux" in self.faults:
            identity = replace(identity, oid=OID_INS_NIR)
        mailboxes = list(destinataires or [self.directory.gp.mailbox.address if self.directory.gp.mailbox else ""])
        recipients = () if "sans-destinataire" in self.faults else tuple(self._recipient(m) for m in mailboxes)
        ctx = DocumentContext(identity=identity, author=from_directory(self.nurse, self.directory.ssiad),
                              when=dt.datetime.now().replace(microsecond=0), seed=secrets.randbelow(2**31),
                              recipients=recipients)  # a fresh seed: a new document id every time
        options: dict[str, object] = {}
        if type == "N1" and "sans-datamatrix" in self.faults:
            options["datamatrix"] = False
        if type == "N1" and "sans-mentions-rgpd" in self.faults:
            options["gdpr_footer"] = ""
        made = factory.generate(type, ctx, **options)
        self._keep(made, usager_id=usager.id, ins=ins, recipients=mailboxes)
        return {"document": made.document_id, "lot": made.set_id}

    def _recipient(self, mailbox: str) -> Recipient:
        box = self.directory.mailbox(mailbox)
        owner = self.directory.owner(box) if box else None
        if isinstance(owner, Professional):
            where = self.directory.organisation(owner.activities[0].organisation) if owner.activities else None
            return Recipient(practitioner=from_directory(owner, where))
        if isinstance(owner, Organisation):
            return Recipient(organization=organization_from_directory(owner))
        raise ActionImpossible(f"destinataire {mailbox} inconnu de l'annuaire du DUI")

    def _keep(self, made: GeneratedDocument, *, usager_id: int, ins: str, recipients: list[str],
              replaces: str | None = None, version: int = 1) -> StoredDocument:
        self.made[made.document_id] = made
        self.facts["document"] = made.document_id
        stored = self.store.add_document(
            id=made.document_id, lot=made.set_id, sens="produit", cda=made.xml, pdf=made.pdf, usager=usager_id,
            version=version, type=made.kind, titre=made.kind, auteur=self.nurse.national_id,
            date=made.context.when.isoformat(), ins_document=ins, remplace=replaces)
        return self.store.update_document(stored.id, destinataires=recipients)

    def _document(self, ins: str, document: str | None = None) -> GeneratedDocument:
        """The document asked for, else the last one produced in this session, else a new N1."""
        wanted = document or str(self.facts.get("document", ""))
        if wanted and wanted in self.made:
            return self.made[wanted]
        if document:
            raise ActionImpossible(f"document {document} inconnu du DUI")
        return self.made[self.produire_document(ins, "N1")["document"]]
