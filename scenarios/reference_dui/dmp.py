"""DMP calls of the reference DUI: the DMP client of the bench with a VIHF the DUI signs itself.

Feeding (TD2.1, with the masking / visibility codes asked), a new version replacing the previous
one (RPLC association, then the "annule et remplace" MSSanté message to whom the document was
sent), masking / visibility changes (TD3.3a/b metadata update), archiving and deletion (TD3.3c/d
status change). The DUI reads the DMP's answer: a refused feed is traced and is neither counted
on its dashboard nor marked as fed — the bench judges what the DMP saw, not this answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from urllib.parse import urlparse

import httpx
from lxml import etree

from banc.documents import factory
from banc.documents.base import GeneratedDocument
from banc.population import generated_identities
from banc.vihf import build_vihf, build_vihf_for
from banc.xds import codes as xc
from banc.xds.model import Submission
from scenarios.reference_dui.base import ActionImpossible, DuiBase
from scenarios.reference_dui.documents import DocumentActions
from scenarios.reference_dui.store import StoredDocument
from simulators.dmp_mock import wire
from simulators.dmp_mock.client import Author, DmpClient, response_root
from simulators.dmp_mock.models import APPROVED, ARCHIVED, DELETED

SOAP_REASON = "{http://www.w3.org/2003/05/soap-envelope}Text"


def visibility_codes(masque_ps: bool, invisible_patient: bool) -> tuple[xc.Code, ...]:
    """The DMP's masking / visibility codes for what the professional chose (SC.DOC.01.MS1)."""
    return tuple(code for wanted, code in ((masque_ps, xc.MASQUE_PS), (invisible_patient, xc.INVISIBLE_PATIENT))
                 if wanted)


def refusal_of(response: httpx.Response) -> str:
    """Why the DMP refused a registry/repository request ('' when it succeeded): the
    RegistryErrors' contexts, or the SOAP Fault's reason."""
    try:
        root = response_root(response)
    except (etree.XMLSyntaxError, StopIteration, TypeError, ValueError, KeyError):
        return f"réponse illisible du DMP (HTTP {response.status_code})"
    if root.get("status", "").endswith(":Success"):
        return ""
    errors = [e.get("codeContext") or e.get("errorCode") or "" for e in root.iter(f"{{{xc.NS_RS}}}RegistryError")]
    reason = root.findtext(f".//{SOAP_REASON}") or ""
    return "; ".join(e for e in errors if e) or reason or f"refus du DMP (HTTP {response.status_code})"


def _other_patient(ins: str) -> str:
    """The INS of another (synthetic) patient: what a VIHF cached for the previous usager names."""
    seed = int(hashlib.sha256(ins.encode()).hexdigest()[:8], 16)
    return next(i.ins for i in generated_identities(3, seed=seed, corsica_every=0, homonym_every=0)
                if i.ins and i.ins != ins)


class DmpActions(DocumentActions, DuiBase):
    def _dmp(self) -> DmpClient:
        nurse, ssiad = self.nurse, self.directory.ssiad
        author = Author(rpps=nurse.national_id, family=nurse.family.upper(), given=nurse.given.upper(),
                        structure_id=ssiad.national_id, structure_name=ssiad.name)
        services = urlparse(self.sheet.url("dmp"))  # …/si-dmp-server/v2/services: the client adds it
        return DmpClient(f"{services.scheme}://{services.netloc}", self.sheet.pki, author=author)

    # -- what a faulty DUI gets wrong in a feed -----------------------------------------------
    def _assertion(self, client: DmpClient, ins: str) -> etree._Element | None:
        """The VIHF of a feed: None lets the client sign a fresh, valid one for this usager."""
        if "vihf-non-signe" in self.faults:
            return build_vihf(client.claims(ins))
        if "vihf-expire" in self.faults:  # a token kept from this morning's login
            issued = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)
            return build_vihf_for(self.sheet.pki.directory, client.claims(ins), now=issued)
        if "vihf-autre-patient" in self.faults:  # the token of the usager seen just before
            return client.vihf(_other_patient(ins))
        return None

    def _mutation(self):
        """The metadata a faulty DUI writes (None: derived faithfully from the CDA header)."""
        def without_confidentiality(submission: Submission) -> None:
            submission.documents[0] = dataclasses.replace(submission.documents[0], confidentiality=())

        def feed_time_as_creation_time(submission: Submission) -> None:
            document = submission.documents[0]
            created = dt.datetime.strptime(document.creation_time[:14].ljust(14, "0"), "%Y%m%d%H%M%S")
            submission.documents[0] = dataclasses.replace(
                document, creation_time=(created - dt.timedelta(days=1)).strftime("%Y%m%d%H%M%S"))

        if "sans-confidentialite" in self.faults:
            return without_confidentiality
        if "metadonnees-contradictoires" in self.faults:
            return feed_time_as_creation_time
        return None

    # -- feeding -----------------------------------------------------------------------------
    def _feed(self, client: DmpClient, made: GeneratedDocument, ins: str, *,
              visibility: tuple[xc.Code, ...] = (), replaces: str | None = None) -> tuple[str, str]:
        """ITI-41 of one document: (its entryUUID, '') when the DMP accepted it, else ('', why)."""
        fed = client.provide(made.xml, ins, visibility=visibility, replaces=replaces,
                             assertion=self._assertion(client, ins), mutate=self._mutation())
        refusal = refusal_of(fed.response)
        if refusal:
            self.store.trace(made.document_id, "refus_dmp", refusal)
            return "", refusal
        self.store.update_document(made.document_id, dmp_entree=fed.entry_uuid)
        self.store.trace(made.document_id, "verse_dmp", fed.entry_uuid)
        self.store.record_activity("dmp", finess=self.directory.ssiad.national_id, rpps=self.nurse.national_id,
                                   document=made.document_id)
        return fed.entry_uuid, ""

    def alimentation_dmp(self, ins: str, document: str | None = None, masque_ps: bool = False,
                         invisible_patient: bool = False) -> dict:
        """TD0.2, TD0.3, ITI-41 of the usager's document (with the masking / visibility asked),
        then ITI-18 finds it."""
        made = self._document(ins, document)
        client = self._dmp()
        try:
            client.td02(ins)
            client.set_authorization(ins)
            entry, refusal = self._feed(client, made, ins, visibility=visibility_codes(masque_ps, invisible_patient))
            found = client.find_documents(ins)
        finally:
            client.close()
        return {"document": made.document_id, "entree": entry, "verse": bool(entry),
                "retrouve": bool(entry) and entry.encode() in found.content,
                **({"refus": refusal} if refusal else {})}

    # -- documents already in the DMP ---------------------------------------------------------
    def _fed_document(self, document: str) -> StoredDocument:
        stored = self.store.find_document(document)
        if stored is None:
            raise ActionImpossible(f"document {document} inconnu du DUI")
        if not stored.dmp_entree:
            raise ActionImpossible(f"document {document} jamais versé au DMP par le DUI")
        return stored

    @staticmethod
    def _registry_entry(client: DmpClient, stored: StoredDocument) -> etree._Element:
        """The document's registry entry as the DMP holds it now (GetDocuments, TD3.1)."""
        response = client.query(stored.ins_document, wire.GET_DOCUMENTS,
                                {"$XDSDocumentEntryUniqueId": [stored.id]})
        entry = next((e for e in response_root(response).iter(f"{{{xc.NS_RIM}}}ExtrinsicObject")
                      if e.get("id") == stored.dmp_entree), None)
        if entry is None:
            raise ActionImpossible(f"document {stored.id} introuvable dans le DMP ({refusal_of(response) or 'absent'})")
        return entry

    def modifier_visibilite_dmp(self, document: str, masque_ps: bool = False,
                                invisible_patient: bool = False) -> dict:
        """TD3.3a/b: the document's metadata again with the masking / visibility now chosen
        (its HL7 confidentiality code kept)."""
        stored = self._fed_document(document)
        client = self._dmp()
        try:
            entry = self._registry_entry(client, stored)
            kept = tuple(xc.Code(c.get("nodeRepresentation", ""), xc.CS_CONFIDENTIALITY)
                         for c in entry.findall(f"{{{xc.NS_RIM}}}Classification")
                         if c.get("classificationScheme") == xc.DE_CONFIDENTIALITY
                         and c.get("nodeRepresentation") not in xc.VISIBILITY_CODES)
            wanted = visibility_codes(masque_ps, invisible_patient)
            refusal = refusal_of(client.update_visibility(stored.ins_document, entry, (*kept, *wanted)))
        finally:
            client.close()
        self.store.trace(stored.id, "refus_dmp" if refusal else "visibilite_dmp",
                         refusal or ", ".join(c.code for c in wanted) or "visible")
        return {"document": stored.id, "modifie": not refusal, **({"refus": refusal} if refusal else {})}

    def supprimer_document(self, document: str, archiver: bool = False) -> dict:
        """TD3.3c (Deleted) or, with `archiver`, TD3.3d (Archived) of a document the DUI fed."""
        stored = self._fed_document(document)
        client = self._dmp()
        try:
            status = self._registry_entry(client, stored).get("status") or APPROVED
            new = ARCHIVED if archiver else DELETED
            refusal = refusal_of(client.update_status(stored.ins_document, stored.dmp_entree, status, new))
        finally:
            client.close()
        if refusal:
            self.store.trace(stored.id, "refus_dmp", refusal)
        elif archiver:
            self.store.trace(stored.id, "archive_dmp", stored.dmp_entree)
        else:
            self.store.update_document(stored.id, etat="supprime")
            self.store.trace(stored.id, "supprime_dmp", stored.dmp_entree)
        return {"document": stored.id, "statut": "" if refusal else new, **({"refus": refusal} if refusal else {})}

    # -- "annule et remplace" ----------------------------------------------------------------
    def remplacer_document(self, document: str, motif: str = "") -> dict:
        """A corrected version: same setId, version + 1, RPLC in the CDA and at the DMP (the
        previous version deprecated there), then one MSSanté message saying it replaces the
        previous one, to whom that one was sent."""
        stored = self._fed_document(document)
        previous = self._document(stored.ins_document, document)
        now = dt.datetime.now().replace(microsecond=0)
        if "sans-rplc" in self.faults:  # the correction made as a brand-new document
            context = dataclasses.replace(previous.context, when=now, seed=previous.context.seed + 1,
                                          set_id=None, version=1, replaces=None)
            new = factory.generate(previous.kind, context, **previous.notes.get("options", {}))
            replaces = None
        else:
            new = factory.replacement(previous, when=now)
            replaces = previous.document_id
        self._keep(new, usager_id=stored.usager or 0, ins=stored.ins_document, recipients=stored.destinataires,
                   replaces=replaces, version=new.version)
        client = self._dmp()
        try:
            entry, refusal = self._feed(client, new, stored.ins_document,
                                        replaces=stored.dmp_entree if replaces else None)
        finally:
            client.close()
        if replaces and not refusal:
            self.store.update_document(stored.id, etat="remplace")
            self.store.trace(stored.id, "remplace", f"{new.document_id} {motif}".strip())
        sent_to = self._sent_to(stored.id)
        message_id = self.send_document(new.document_id, sent_to, replaces=replaces) if sent_to and not refusal else ""
        return {"document": new.document_id, "remplace": previous.document_id, "entree": entry,
                "message_id": message_id, **({"refus": refusal} if refusal else {})}

    def _sent_to(self, document: str) -> list[str]:
        """The mailboxes the document was sent to (its history's sends)."""
        seen: dict[str, None] = {}
        for event in self.store.history(document):
            if event["evenement"] == "envoye":
                seen.update(dict.fromkeys(a.strip() for a in event["detail"].split(",") if a.strip()))
        return list(seen)

