"""The MSSanté mock's control plane (`banc.control.ControlPlane`): reset, seed, state, the DUI's
mailboxes and how they authenticate, and what the simulated correspondents do — the hospital
sends a discharge letter, the GP a request with a synthesis, a sender replaces or deletes a
document it sent, the usager answers from Mon espace santé, a patient mailbox is closed/opened.

In-process as `mock.control`; over HTTPS (admin token) on `mssante.controle` once served by
`banc.control.serve_control` (`from_context`)."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from typing import TYPE_CHECKING, Any

from banc.control import Action, ControlError
from banc.documents import factory
from banc.documents.base import GeneratedDocument
from banc.dui import DuiProfile
from banc.identity import Identity, IdentityError
from banc.mail.compose import HealthMessage
from banc.pki import common_name
from banc.population import identity_from_dict, population
from banc.xdm import XdmDocument, build_xdm
from banc.xds.derive import header_facts
from simulators.mssante_mock import seed as seeding
from simulators.mssante_mock.correspondents import Correspondent
from simulators.mssante_mock.delivery import Outcome

if TYPE_CHECKING:
    from simulators.mssante_mock.app import MssanteMock

SERVICE = "mssante"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
"""availabilityStatus of a deletion notice's METADATA.XML (?): the DMP's status for a deleted
document; how a sender asks a recipient to delete a document over MSSanté is not in our sources."""
IDENTITY_POOL = 200
"""Identities searched for an INS (CNAM test identities first, then generated ones)."""


def _certificate_cn(pem: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return common_name(der) or ""


def _with_id(message: HealthMessage) -> HealthMessage:
    """The message with its Message-ID fixed now, so the action can report it."""
    domain = message.sender.rsplit("@", 1)[-1]
    return dataclasses.replace(message, message_id=f"<{uuid.uuid4().hex}@{domain}>")


def _outcome(outcome: Outcome, message: HealthMessage | None = None, **extra: Any) -> dict:
    return {"journal": outcome.journal_id, "livre": outcome.delivered,
            "rejete": [b.recipient for b in outcome.bounced],
            **({"message_id": message.message_id} if message is not None else {}), **extra}


class MssanteControl:
    """The plane of one running `MssanteMock`."""

    service = SERVICE

    def __init__(self, mock: MssanteMock, *, seed: int, patients: int = 0) -> None:
        self.mock = mock
        self.seed_value = seed
        self.patients = patients
        self.profiles: dict[str, DuiProfile] = {}
        self.sent: dict[str, tuple[str, GeneratedDocument]] = {}
        """document_unique_id → (sender name, document) of what the correspondents sent."""
        self._lock = threading.Lock()

    # -- ControlPlane -----------------------------------------------------------------------
    def state(self) -> dict:
        store = self.mock.store
        return {
            "service": SERVICE, "graine": self.seed_value, **store.counts(),
            "boites_patient_fermees": [m.address for m in store.mailboxes("PAT") if not m.is_open],
            "dui": {name: [m.address for m in p.mailboxes] for name, p in self.profiles.items()},
            "documents_envoyes": sorted(self.sent),
        }

    def reset(self) -> None:
        """Back to the seeded state; registered DUIs keep their mailboxes."""
        with self._lock:
            self.mock.store.clear()
            seeding.seed(self.mock.store, seed=self.seed_value, patients=self.patients)
            self.sent.clear()
            for profile in self.profiles.values():
                self._mailboxes(profile)

    def seed(self, **params: Any) -> dict:
        """`patients=N`: N more generated identities get a Mon espace santé mailbox."""
        unknown = set(params) - {"patients"}
        if unknown:
            raise ControlError(f"paramètre(s) de semis inconnu(s) : {', '.join(sorted(unknown))} "
                               "(connu : patients)", 422)
        count = int(params.get("patients", 0))
        added = []
        for identity in population(count, self.seed_value)[-count:] if count else ():
            if identity.ins and identity.carries_ins:
                added.append(self.mock.patients.add_identity(identity).address)
        self.patients = max(self.patients, count)
        return {"boites_patient": added}

    def register_dui(self, profile: DuiProfile) -> dict:
        if not profile.mailboxes:  # a DUI tested on other services only: nothing to open here
            return {"dui": profile.name, "boites": []}
        with self._lock:
            registered = self._mailboxes(profile)
            self.profiles[profile.name] = profile
        return {"dui": profile.name, "boites": registered}

    def actions(self) -> dict[str, Action]:
        return {
            "envoyer_lettre_sortie": Action(
                "L'hôpital envoie une lettre de liaison de sortie (LDL-SES) : a, ins ou usager "
                "(traits d'identité), accuse, defauts", self.send_discharge_letter),
            "envoyer_demande_medecin": Action(
                "Le médecin traitant envoie une prescription (eP-MED-DM) et une synthèse (VSM) : "
                "a, ins ou usager (traits d'identité), document, accuse, defauts", self.send_gp_request),
            "envoyer_remplacement": Action(
                "L'expéditeur d'un document envoie sa nouvelle version (« annule et remplace ») : "
                "a, document (identifiant), accuse", self.send_replacement),
            "envoyer_suppression": Action(
                "L'expéditeur d'un document demande sa suppression : a, document (identifiant)",
                self.send_deletion),
            "repondre_usager": Action(
                "L'usager répond depuis Mon espace santé : ins, message_id, texte", self.patient_reply),
            "ajouter_boite_patient": Action(
                "Ouvrir la messagerie Mon espace santé d'un usager à INS qualifié : usager (traits "
                "d'identité)", self.add_patient),
            "fermer_boite_patient": Action("Fermer la messagerie Mon espace santé d'un usager : ins",
                                           self.close_patient),
            "ouvrir_boite_patient": Action("Rouvrir la messagerie Mon espace santé d'un usager : ins",
                                           self.open_patient),
        }

    # -- DUI registration -------------------------------------------------------------------
    def _mailboxes(self, profile: DuiProfile) -> list[dict]:
        """Create or adapt the profile's mailboxes: `certificat` → application mailbox opened
        by the CN of one of the DUI's client certificates (the mailbox's own when listed, else
        the first; SASL EXTERNAL); `xoauth2` → a mailbox
        the SSIAD's professionals open with their PSC token."""
        directory = self.mock.directory
        members = tuple(p.national_id for p in directory.members(directory.ssiad.id)) if directory else ()
        done = []
        for box in profile.mailboxes:
            existing = self.mock.store.mailbox(box.address)
            if box.auth == "certificat":
                if not profile.client_certificates:
                    raise ControlError(f"boîte {box.address} : authentification par certificat "
                                       "sans certificat client dans le profil (tls.certificats)", 422)
                names = [_certificate_cn(pem) for pem in profile.client_certificates]
                cn = existing.certificate_cn if existing and existing.certificate_cn in names else names[0]
                record = self.mock.store.add_mailbox(
                    box.address, "APP", owner=existing.owner if existing else profile.name,
                    certificate_cn=cn, simulated=False)
            else:
                people = existing.authorized if existing and existing.authorized else members
                kind = box.kind or (existing.kind if existing and existing.kind != "APP" else "ORG")
                record = self.mock.store.add_mailbox(
                    box.address, kind, owner=existing.owner if existing else "",
                    authorized=people, simulated=False)
            done.append({"adresse": record.address, "authentification": box.auth,
                         "type": record.kind, "creee": existing is None,
                         **({"certificat_cn": record.certificate_cn} if record.certificate_cn else {})})
        return done

    # -- actions ----------------------------------------------------------------------------
    def _recipients(self, to: Any) -> list[str]:
        if to:
            return [to] if isinstance(to, str) else list(to)
        registered = [m.address for p in self.profiles.values() for m in p.mailboxes]
        if registered:
            return registered[:1]
        directory = self.mock.directory
        if directory is None or not directory.ssiad.mailboxes:
            raise ControlError("destinataire requis (a) : aucun DUI enregistré", 422)
        return [directory.ssiad.mailboxes[0].address]

    def _identity(self, ins: str | None, usager: Any = None) -> Identity:
        """The patient of a document: the run's usager when its traits are given (a dict of
        `banc.population.identity_to_dict` keys), else an identity of the bench's population
        found by INS (the first one without INS)."""
        if usager is not None:
            return _identity_of(usager)
        identities = [i for i in population(IDENTITY_POOL, self.seed_value) if i.ins and i.carries_ins]
        if not ins:
            return identities[0]
        wanted = "".join(str(ins).split()).upper()
        found = next((i for i in identities if i.ins == wanted), None)
        if found is None:
            raise ControlError(f"INS {ins} inconnu des identités du banc", 404)
        return found

    def _correspondent(self, name: str) -> Correspondent:
        correspondents = self.mock.correspondents
        if correspondents is None:
            raise ControlError("simulateur sans annuaire semé : pas de correspondants", 409)
        chosen = {"hopital": correspondents.hospital, "medecin": correspondents.gp}.get(name)
        if chosen is None:
            raise ControlError(f"expéditeur « {name} » inconnu (hopital ou medecin)", 422)
        return chosen

    def _send(self, sender_name: str, to: list[str], document: GeneratedDocument, *,
              accuse: bool = False, defauts: tuple[str, ...] = ()) -> dict:
        sender = self._correspondent(sender_name)
        try:
            message = _with_id(sender.message(to, document, notify=bool(accuse), broken=tuple(defauts)))
        except KeyError as exc:
            raise ControlError(str(exc.args[0]), 422) from None
        outcome = self.mock.send_as(message, summary=_document_summary(document))
        self.sent[document.document_id] = (sender_name, document)
        return _outcome(outcome, message, **_document_facts(document))

    def send_discharge_letter(self, a: Any = None, ins: str | None = None, accuse: bool = False,
                              defauts: list[str] | tuple[str, ...] = (), usager: Any = None) -> dict:
        to, identity = self._recipients(a), self._identity(ins, usager)
        document = self._correspondent("hopital").document("LDL-SES", identity)
        return self._send("hopital", to, document, accuse=accuse, defauts=tuple(defauts))

    def send_gp_request(self, a: Any = None, ins: str | None = None, document: str = "eP-MED-DM",
                        accuse: bool = False, defauts: list[str] | tuple[str, ...] = (),
                        usager: Any = None) -> dict:
        """The request (a prescription, or `document="N1"` for a PDF one) then the VSM, one
        message each (one document per XDM archive)."""
        if document not in ("eP-MED-DM", "N1"):
            raise ControlError(f"document de demande « {document} » : eP-MED-DM ou N1", 422)
        to, identity = self._recipients(a), self._identity(ins, usager)
        gp = self._correspondent("medecin")
        request = gp.n1(identity) if document == "N1" else gp.document(document, identity)
        return {"demande": self._send("medecin", to, request, accuse=accuse, defauts=tuple(defauts)),
                "synthese": self._send("medecin", to, gp.document("VSM", identity), accuse=accuse)}

    def _previous(self, document: str | None) -> tuple[str, GeneratedDocument]:
        if not self.sent:
            raise ControlError("aucun document envoyé par les correspondants à remplacer ou supprimer", 409)
        if document is None:
            return list(self.sent.values())[-1]
        if document not in self.sent:
            raise ControlError(f"document {document} inconnu (envoyés : {', '.join(self.sent)})", 404)
        return self.sent[document]

    def send_replacement(self, a: Any = None, document: str | None = None,
                         accuse: bool = False) -> dict:
        sender_name, previous = self._previous(document)
        new = factory.replacement(previous)
        result = self._send(sender_name, self._recipients(a), new, accuse=accuse)
        return {**result, "remplace": previous.document_id}

    def send_deletion(self, a: Any = None, document: str | None = None) -> dict:
        """A deletion notice (?): the document again, its METADATA.XML entry marked deleted."""
        sender_name, previous = self._previous(document)
        sender = self._correspondent(sender_name)
        submission = factory.submission(previous, uri="DOC0001.XML")
        submission = dataclasses.replace(
            submission, documents=[dataclasses.replace(d, status=DELETED) for d in submission.documents])
        archive = build_xdm(submission, [XdmDocument("DOC0001.XML", previous.xml)])
        message = _with_id(dataclasses.replace(
            sender.message(self._recipients(a), previous), xdm=archive,
            subject=f"Suppression du document {previous.document_id}"))
        outcome = self.mock.send_as(message, summary={**_document_summary(previous), "suppression": True})
        del self.sent[previous.document_id]
        return _outcome(outcome, message, supprime=previous.document_id)

    def patient_reply(self, ins: str, message_id: str, texte: str = "Merci pour ce document.\n") -> dict:
        try:
            outcome = self.mock.patients.reply(ins, message_id, texte)
        except KeyError as exc:
            raise ControlError(str(exc.args[0]), 404) from None
        if outcome is None:
            return {"refuse": "réponse interdite par X-MSS-MES: FIN"}
        return _outcome(outcome)

    def add_patient(self, usager: Any) -> dict:
        """The run's usager gets a Mon espace santé mailbox (only a qualified INS has one)."""
        identity = _identity_of(usager)
        try:
            record = self.mock.patients.add_identity(identity)
        except IdentityError as exc:
            raise ControlError(f"pas de messagerie Mon espace santé : {exc}", 422) from None
        return {"boite": record.address}

    def close_patient(self, ins: str) -> dict:
        self._patient_mailbox(ins)
        self.mock.patients.close(ins)
        return {"ferme": self.mock.patients.address(ins)}

    def open_patient(self, ins: str) -> dict:
        self._patient_mailbox(ins)
        self.mock.patients.open(ins)
        return {"ouvert": self.mock.patients.address(ins)}

    def _patient_mailbox(self, ins: str) -> None:
        if self.mock.store.mailbox(self.mock.patients.address(ins)) is None:
            raise ControlError(f"pas de messagerie Mon espace santé pour l'INS {ins}", 404)


def _identity_of(usager: Any) -> Identity:
    """The identity whose traits a scenario gives (`identity_to_dict` keys), or a 422 naming
    what is wrong with them."""
    if not isinstance(usager, dict):
        raise ControlError("usager : objet de traits d'identité attendu (birth_name, first_names, "
                           "sex, birth_date, matricule, key, oid, status)", 422)
    try:
        return identity_from_dict(usager)
    except KeyError as exc:
        raise ControlError(f"usager : trait {exc.args[0]} absent", 422) from None
    except (ValueError, TypeError) as exc:
        raise ControlError(f"usager : traits invalides ({exc})", 422) from None


def _document_facts(document: GeneratedDocument) -> dict:
    """What the sender knows of the document it sent, as a receiving DUI should show it
    (SC.MSS.26.MS1): identifiers, title, type, author, creation date, patient."""
    header = header_facts(document.root)
    author = header.authors[0] if header.authors else None
    person = author.person if author else None
    return {"document": document.document_id, "set_id": document.set_id, "titre": header.title,
            "type": header.type_code.code if header.type_code else "", "version": header.version,
            "date": header.creation_time, "auteur": person.id if person else "",
            "auteur_nom": person.family if person else "",
            "organisation": author.institutions[0].name if author and author.institutions else "",
            "patient_ins": header.ins or "", "patient_nom": header.patient_family}


def _document_summary(document: GeneratedDocument) -> dict:
    """The journal's normalised fields of a message the bench sends (it is not parsed back)."""
    identity = document.context.identity
    return {"patient_ins": identity.ins or "", "patient_oid": identity.oid,
            "document_unique_id": document.document_id, "set_id": document.set_id}
