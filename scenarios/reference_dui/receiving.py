"""The reference DUI's receiving side: it reads its MSSanté mailboxes and integrates what came.

`lire_messagerie` fetches the unseen messages over IMAP, opens each IHE_XDM.ZIP safely
(`banc.xdm.read_xdm`) and, per CDA document: a new one goes to the worklist of unread documents
with its CDA metadata (SC.MSS.26.MS1), attached at once only to an usager whose qualified INS
and traits match; a new version from the same sender supersedes the one it replaces, a
deletion notice marks the document deleted — both traced (SC.MSS.23.MS1, SC.MSS.24.MS1). A read
receipt (MDN, RFC 8098) answers every message that asks for one, with the integration outcome
(900–906 codes when the message cannot be integrated). `rattacher_document` attaches a document
to an usager only once INSi confirmed the identity it carries (SC.INS.26.MS1, SC.MSS.25.MS1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from banc.identity import IdentityStatus
from banc.mail.health import XDM_NAME
from banc.mail.message import ParsedMail, parse_mail
from banc.mail.reports import build_mdn, read_dsn, read_mdn
from banc.xdm import XdmError, read_xdm
from banc.xds.derive import HeaderFacts, header_facts
from banc.xml import XmlInputError, parse_untrusted
from scenarios.reference_dui.base import ActionImpossible
from scenarios.reference_dui.mailbox import MailTransport
from scenarios.reference_dui.store import StoredDocument, Usager

DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
"""availabilityStatus of a document entry the sender asks the recipient to delete (?)."""
REPORTING_UA = "dui-reference; DUI de reference du Banc Segur"


@dataclass
class Incoming:
    """One CDA document of a message: its header and whether the sender deletes it."""

    header: HeaderFacts
    content: bytes
    deleted: bool
    birth_place: str = ""
    """INSEE code of the birth place (recordTarget's birthplace county): an INS trait."""


@dataclass
class Intake:
    """What reading one message did."""

    message_id: str
    mailbox: str
    documents: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    error: tuple[int, str] | None = None
    receipt: dict | None = None

    def report(self) -> dict:
        return {"message_id": self.message_id, "boite": self.mailbox, "documents": self.documents,
                "evenements": self.events,
                **({"erreur": {"code": self.error[0], "motif": self.error[1]}} if self.error else {})}


def _iso_birth(birth_time: str) -> str:
    digits = birth_time[:8]
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}" if len(digits) == 8 and digits.isdigit() else ""


def _birth_place(root: etree._Element) -> str:
    return (root.findtext("h:recordTarget/h:patientRole/h:patient/h:birthplace/h:place/h:addr/h:county",
                          namespaces={"h": "urn:hl7-org:v3"}) or "").strip()


def _details(header: HeaderFacts, birth_place: str) -> dict:
    author = header.authors[0] if header.authors else None
    person = author.person if author else None
    return {"code": header.type_code.code if header.type_code else "", "ins_oid": header.ins_oid or "",
            "usager_nom": header.patient_family, "usager_prenom": header.patient_given,
            "usager_sexe": header.sex, "usager_naissance": _iso_birth(header.birth_time),
            "usager_lieu": birth_place,
            "auteur_nom": " ".join(p for p in ((person.given, person.family) if person else ()) if p),
            "organisation": author.institutions[0].name if author and author.institutions else ""}


def _same_person(usager: Usager, details: dict) -> bool:
    return ((usager.nom.upper(), usager.prenom.upper(), usager.sexe, usager.naissance)
            == (details["usager_nom"].upper(), details["usager_prenom"].upper(), details["usager_sexe"],
                details["usager_naissance"]))


class ReceivingActions(MailTransport):
    # -- reading the mailboxes -------------------------------------------------------------
    def lire_messagerie(self) -> dict:
        """Read the unseen messages of every mailbox the DUI has; integrate their documents."""
        intakes: list[Intake] = []
        receipts: list[dict] = []
        for address in self.mailboxes_to_read():
            with self.imap(address) as session:
                _, found = session.uid("SEARCH", None, "UNSEEN")
                for uid in (found[0] or b"").split():
                    _, parts = session.uid("FETCH", uid, "(BODY.PEEK[])")
                    raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
                    intake = self._take_in(raw, address)
                    if intake.receipt is not None:
                        receipts.append(intake.receipt)
                    else:
                        intakes.append(intake)
                    session.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        waiting = [d.id for d in self.store.worklist() if d.usager is None]
        return {"messages": [i.report() for i in intakes], "accuses": receipts,
                "integres": [d for i in intakes for d in i.documents], "en_attente": waiting}

    def _take_in(self, raw: bytes, mailbox: str) -> Intake:
        parsed = parse_mail(raw)
        intake = Intake(parsed.header("Message-ID") or "", mailbox)
        mdn = read_mdn(raw)
        if mdn is not None:  # a receipt of what the DUI sent: noted, never answered
            intake.receipt = {"type": "mdn", "message_id": mdn.original_message_id,
                              "disposition": mdn.disposition, "de": mdn.final_recipient}
            return intake
        statuses = read_dsn(raw)
        if statuses:
            intake.receipt = {"type": "dsn", "statuts": [{"destinataire": s.recipient, "action": s.action,
                                                          "statut": s.status} for s in statuses]}
            return intake
        if self.store.received_from_message(intake.message_id):
            intake.events.append("déjà intégré")
            return intake
        sender = (parsed.addresses("From") or [""])[0]
        try:
            for incoming in self._documents(parsed):
                intake.documents.append(self._integrate(incoming, sender, intake))
        except _NotIntegrable as refusal:
            intake.error = (refusal.code, refusal.reason)
            intake.events.append(f"non intégré ({refusal.code}) : {refusal.reason}")
        self._acknowledge(raw, parsed, mailbox, intake)
        return intake

    def _documents(self, parsed: ParsedMail) -> list[Incoming]:
        """The CDA documents of the message's XDM archives, read safely; integration codes of
        the MSSanté guide when they cannot be integrated."""
        archives = [a for a in parsed.attachments if XDM_NAME.search(a.filename or "")]
        found: list[Incoming] = []
        for archive in archives:
            try:
                package = read_xdm(archive.payload)
            except XdmError as exc:
                raise _NotIntegrable(906, f"archive IHE_XDM refusée : {exc.message}") from None
            for subset in package.subsets:
                if subset.submission is None:
                    raise _NotIntegrable(906, f"{subset.name} sans METADATA.XML lisible")
                for entry in subset.submission.documents:
                    content = subset.files.get(entry.uri)
                    if content is None or entry.mime_type != "text/xml":
                        continue
                    try:
                        root = parse_untrusted(content, what=entry.uri)
                    except XmlInputError as exc:
                        raise _NotIntegrable(906, f"{entry.uri} illisible : {exc}") from None
                    header = header_facts(root)
                    if not header.ins:
                        raise _NotIntegrable(903, f"{entry.uri} ne porte pas d'INS")
                    if not all((header.patient_family, header.patient_given, header.birth_time, header.sex)):
                        raise _NotIntegrable(905, f"{entry.uri} : INS sans les 4 traits d'identité")
                    metadata_ins = entry.patient_id.split("^")[0] if entry.patient_id else ""
                    if metadata_ins and metadata_ins != header.ins:
                        raise _NotIntegrable(904, f"INS {metadata_ins} de METADATA.XML ≠ INS {header.ins} du CDA")
                    found.append(Incoming(header, content, entry.status == DELETED, _birth_place(root)))
        if len({d.header.ins for d in found}) > 1:
            raise _NotIntegrable(906, "plusieurs usagers dans le même message")
        return found

    def _integrate(self, incoming: Incoming, sender: str, intake: Intake) -> str:
        header = incoming.header
        previous = self.store.find_document(header.unique_id)
        if incoming.deleted:
            return self._delete(header.unique_id, previous, sender, intake)
        if previous is not None:  # the same version again (sent twice): nothing new
            intake.events.append(f"{previous.id} déjà reçu")
            return previous.id
        replaced = next((self.store.find_document(r) for r in header.replaced_ids
                         if self.store.find_document(r) is not None), None)
        if replaced is not None and replaced.expediteur != sender:
            raise _NotIntegrable(901, f"{sender} remplace un document reçu de {replaced.expediteur}")
        if replaced is not None and "ignore-remplacement-entrant" in self.faults:
            replaced = None  # the mistake: the new version is one more document, the old stays
        details = _details(header, incoming.birth_place)
        usager = replaced.usager if replaced is not None else self._matching_usager(header.ins or "", details)
        author = header.authors[0].person if header.authors and header.authors[0].person else None
        stored = self.store.add_document(
            id=header.unique_id, lot=header.set_id, sens="recu", cda=incoming.content, usager=usager,
            version=int(header.version) if header.version.isdigit() else 1, type=details["code"],
            titre=header.title, auteur=author.id if author else "", date=header.creation_time,
            ins_document=header.ins or "", remplace=replaced.id if replaced else None, expediteur=sender,
            message_id=intake.message_id, details=details)
        if replaced is not None:
            self.store.update_document(replaced.id, etat="remplace")
            self.store.trace(replaced.id, "remplace", f"remplacé par {stored.id} ({sender})")
            self.store.trace(stored.id, "remplace", f"remplace {replaced.id}")
            intake.events.append(f"{stored.id} remplace {replaced.id}")
        if usager is not None:
            self.store.trace(stored.id, "rattache", "automatique : INS qualifié et traits identiques")
        return stored.id

    def _delete(self, document_id: str, previous: StoredDocument | None, sender: str, intake: Intake) -> str:
        if previous is None:
            raise _NotIntegrable(906, f"suppression du document {document_id}, inconnu du DUI")
        if previous.expediteur != sender:
            raise _NotIntegrable(901, f"{sender} supprime un document reçu de {previous.expediteur}")
        self.store.update_document(previous.id, etat="supprime")
        self.store.trace(previous.id, "supprime", f"suppression demandée par {sender}")
        intake.events.append(f"{previous.id} supprimé")
        return previous.id

    def _matching_usager(self, ins: str, details: dict) -> int | None:
        """An usager whose qualified INS and traits are the document's: attached at once."""
        usager = self.store.usager_by_ins(ins)
        if usager and usager.statut == IdentityStatus.QUALIFIEE.value and _same_person(usager, details):
            return usager.id
        return None

    def _acknowledge(self, raw: bytes, parsed: ParsedMail, mailbox: str, intake: Intake) -> None:
        """The read receipt the sender asked for (Disposition-Notification-To)."""
        notify_to = (parsed.addresses("Disposition-Notification-To") or [None])[0]
        if not notify_to or "sans-accuse-lecture" in self.faults:
            return
        mdn = build_mdn(raw, final_recipient=mailbox, notify_to=notify_to,
                        error_code=intake.error[0] if intake.error else None, reporting_ua=REPORTING_UA)
        self.submit(mailbox, [notify_to], mdn)
        intake.events.append(f"accusé de lecture envoyé à {notify_to}")

    # -- attaching -------------------------------------------------------------------------
    def rattacher_document(self, document: str, ins: str) -> dict:
        """Attach an incoming document to the usager of INS `ins` once the identity it carries
        is confirmed: same INS, and INSi gives that INS back for the document's traits."""
        stored = self.store.find_document(document)
        if stored is None or stored.sens != "recu":
            raise ActionImpossible(f"document entrant {document} inconnu du DUI")
        if stored.ins_document != ins:
            raise ActionImpossible(f"le document porte l'INS {stored.ins_document or '(aucun)'}, pas {ins} : "
                                   "rattachement refusé")
        details = stored.details
        if "rattachement-sans-verification" in self.faults:
            usager = self.store.save_usager(
                ins=ins, oid=details.get("ins_oid", ""), nom=details["usager_nom"],
                prenom=details["usager_prenom"], sexe=details["usager_sexe"],
                naissance=details["usager_naissance"], lieu=details.get("usager_lieu", ""),
                statut=IdentityStatus.QUALIFIEE.value)
        else:  # the document's INS is verified even when the usager's own identity is qualified
            usager = self._verified(ins, details)
        self.store.update_document(stored.id, usager=usager.id)
        self.store.trace(stored.id, "rattache", f"usager {ins}")
        return {"document": stored.id, "ins": ins, "usager": f"{usager.prenom} {usager.nom}"}

    def _verified(self, ins: str, details: dict) -> Usager:
        """INSi's word on the document's identity (traits search): the usager, qualified."""
        try:
            answer = self.recherche_ins(details["usager_nom"], details["usager_prenom"],  # type: ignore[attr-defined]
                                        details["usager_sexe"], details["usager_naissance"],
                                        details.get("usager_lieu", ""))
        except (RuntimeError, ActionImpossible) as exc:
            raise ActionImpossible(f"identité du document non confirmée par INSi ({exc}) : "
                                   "rattachement refusé, document laissé en liste de travail") from None
        if str(answer.get("statut", "")).replace("é", "e") != "qualifiee" or answer.get("ins") != ins:
            raise ActionImpossible(f"INSi renvoie {answer.get('ins') or 'aucune identité'} pour les traits du "
                                   f"document, pas {ins} : rattachement refusé")
        usager = self.store.usager_by_ins(ins)
        assert usager is not None  # recherche_ins saved it
        return usager

    # -- read actions ----------------------------------------------------------------------
    def liste_de_travail(self) -> dict:
        """Incoming documents not read yet, with their CDA metadata and the usager attached."""
        return {"documents": [self._shown(d) for d in self.store.worklist()]}

    def documents_usager(self, ins: str) -> dict:
        """The usager's documents, produced and received, with state and history."""
        usager = self.usager(ins)
        return {"ins": ins, "documents": [{**self._shown(d), "historique": self.store.history(d.id)}
                                          for d in self.store.documents_of(usager.id)]}

    def _shown(self, document: StoredDocument) -> dict:
        attached = self.store.usager(document.usager) if document.usager is not None else None
        return {**document.metadata(), "usager": attached.ins if attached else None}


class _NotIntegrable(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
