"""What the reference DUI does for each action of the automation protocol.

It is a real client of every mock — httpx for Pro Santé Connect (code flow with PKCE through the
login page, as a browser would) and the Annuaire, zeep from the served WSDL over mutual TLS for
INSi, the DMP client with a VIHF it signs itself, smtplib with XOAUTH2 for MSSanté — and reads
every address from the bench's configuration sheet, like a vendor's DUI would. Each public
method is an action of the protocol (`banc.scenario.protocol`), called by the protocol server
(`app.py`) with the action's parameters; the bench judges what the mocks saw, never the return
value. Its profile (`reference_profile`) is declared like any vendor's DUI.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
import smtplib
from dataclasses import dataclass, field, replace
from html import unescape
from urllib.parse import parse_qs, urlparse

import httpx
import requests
import zeep
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from zeep.wsa import WsAddressingPlugin

from banc.directory import Directory, default_directory
from banc.documents import factory
from banc.documents.header import DocumentContext
from banc.documents.parties import Recipient, from_directory
from banc.dui import DuiProfile, Mailbox
from banc.identity import OID_INS_NIR, OID_INS_NIR_TEST, Identity, IdentityStatus
from banc.mail.compose import HealthMessage
from banc.population import cnam_test_identities
from banc.sheet import ANNUAIRE_API_KEY, INSI_IDAM, PSC_CLIENT, BenchSheet
from banc.soap.offline import OfflineTransport
from banc.vihf import build_vihf
from banc.xds import codes as xc
from simulators.dmp_mock.client import Author, DmpClient

NAME = "dui-reference"
REDIRECT_URI = "http://127.0.0.1:8765/retour-psc"
INSI_BINDING = "{http://www.cnamts.fr/webservice}ICIRServiceBinding"


def reference_profile(sheet: BenchSheet, directory: Directory | None = None) -> DuiProfile:
    """The reference DUI as a declared DUI: the bench's test certificates and identifiers."""
    directory = directory or default_directory()
    nurse = directory.person("infirmiere_coordinatrice")
    pki = sheet.pki
    return DuiProfile(
        name=NAME, label="DUI de référence du Banc Ségur", editor="Banc Ségur",
        idam=INSI_IDAM["idam"], software=INSI_IDAM["logiciel"], software_version="1.0",
        psc_client_id=PSC_CLIENT["client_id"], psc_secret=PSC_CLIENT["secret"],
        psc_redirect_uris=(REDIRECT_URI,),
        mailboxes=(Mailbox(nurse.mailbox.address if nurse.mailbox else "", "xoauth2"),
                   Mailbox(directory.ssiad_app_mailbox.address, "certificat")),
        structure_id=directory.ssiad.national_id, lps_id="BANC-SEGUR-DUI",
        lps_name="DUI DE REFERENCE DU BANC", lps_version="1.0",
        vihf_certificates=(pki.cert("vihf-signing").read_text(),),
        client_certificates=(pki.cert("dui").read_text(), pki.cert("insi-auto").read_text()),
        annuaire_api_key=ANNUAIRE_API_KEY,
    )


@dataclass
class ReferenceDui:
    """The DUI's own memory between actions of one run (its logged-in user, its usager…)."""

    sheet: BenchSheet
    faults: frozenset[str] = frozenset()
    """Fault profiles in force (the mistakes real DUIs make), for negative runs."""
    directory: Directory = field(default_factory=default_directory)
    facts: dict[str, object] = field(default_factory=dict)

    def _http(self, cert: str | None = None) -> httpx.Client:
        return httpx.Client(verify=self.sheet.pki.client_context(cert), timeout=30, trust_env=False)

    # -- actions of the automation protocol ------------------------------------------------------
    def connexion_psc(self, professionnel: str) -> dict:
        """Pro Santé Connect code flow with PKCE, the professional choosing themselves on the
        login page (what the user does in a browser)."""
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        with self._http() as client:
            page = client.get(self.sheet.url("psc.authorization"), params={
                "response_type": "code", "client_id": PSC_CLIENT["client_id"],
                "redirect_uri": REDIRECT_URI, "scope": "openid scope_all", "acr_values": "eidas1",
                "state": state, "nonce": secrets.token_urlsafe(16),
                "code_challenge_method": "S256", "code_challenge": create_s256_code_challenge(verifier),
            })
            location = page.headers.get("location", "")
            if page.status_code == 200:
                form = re.search(r'<form[^>]+action="([^"]+)"', page.text)
                request_id = re.search(r'name="request"\s+value="([^"]+)"', page.text)
                if not (form and request_id):
                    raise RuntimeError("page de connexion PSC sans formulaire")
                login = client.post(httpx.URL(str(page.url)).join(unescape(form.group(1))),
                                    data={"request": request_id.group(1), "identifiant": professionnel})
                location = login.headers.get("location", "")
            query = parse_qs(urlparse(location).query)
            if "code" not in query or query.get("state") != [state]:
                raise RuntimeError(f"pas de code d'autorisation PSC ({location or page.status_code})")
            tokens = client.post(self.sheet.url("psc.token"),
                                 auth=(PSC_CLIENT["client_id"], PSC_CLIENT["secret"]), data={
                                     "grant_type": "authorization_code", "code": query["code"][0],
                                     "redirect_uri": REDIRECT_URI, "code_verifier": verifier}).json()
            userinfo = client.get(self.sheet.url("psc.userinfo"),
                                  headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
        self.facts["access_token"] = tokens["access_token"]
        self.facts["user"] = userinfo.get("SubjectNameID", "")
        return {"utilisateur": self.facts["user"]}

    def recherche_annuaire(self, nom: str, prenom: str) -> dict:
        """Find a professional by name in the Annuaire Santé; keep their MSSanté address."""
        with self._http() as client:
            bundle = client.get(
                f"{self.sheet.url('annuaire.fhir')}/Practitioner", params={"family": nom, "given": prenom},
                headers={"ESANTE-API-KEY": ANNUAIRE_API_KEY, "Accept": "application/fhir+json"},
            ).raise_for_status().json()
        addresses = [t.get("value") for entry in bundle.get("entry", [])
                     for t in entry.get("resource", {}).get("telecom", []) if t.get("system") == "email"]
        if not addresses:
            raise RuntimeError(f"aucune adresse MSSanté pour {prenom} {nom} dans l'Annuaire")
        self.facts["correspondent_mailbox"] = addresses[0]
        return {"bal": addresses[0]}

    def recherche_ins(self, nom: str, prenom: str, sexe: str, naissance: str, lieu: str = "") -> dict:
        """INSi traits search with zeep from the WSDL the service publishes, mutual TLS with
        the INSI-AUTO certificate, ContexteLPS with the DUI's IDAM."""
        pki = self.sheet.pki
        session = requests.Session()
        session.trust_env = False
        session.verify = str(pki.ca_cert)
        certificate = "unknown-org" if "insi-mauvaise-authentification" in self.faults else "insi-auto"
        session.cert = (str(pki.cert(certificate)), str(pki.key(certificate)))
        url = self.sheet.url("insi")
        base = f"{urlparse(url).scheme}://{urlparse(url).netloc}/"
        client = zeep.Client(f"{url}?wsdl", transport=OfflineTransport(session=session, allow=(base,)),
                             plugins=[WsAddressingPlugin()])
        service = client.create_service(INSI_BINDING, url)
        now = dt.datetime.now(dt.UTC).isoformat()
        lps = client.get_element("{urn:siram:lps:ctxlps}ContexteLPS")(
            Id=secrets.token_hex(8), Temps=now, Emetteur="BANC-SEGUR", Nature="CTXLPS", Version="01_00",
            LPS={"IDAM": {"_value_1": INSI_IDAM["idam"], "R": "4"}, "Version": "1.0",
                 "Instance": secrets.token_hex(8), "Nom": "DUI DE REFERENCE DU BANC"})
        bam = client.get_element("{urn:siram:bam:ctxbam}ContexteBAM")(
            Id=secrets.token_hex(8), Temps=now, Emetteur="BANC-SEGUR", COUVERTURE={}, Version="01_02")
        result = service.rechercherInsAvecTraitsIdentite(
            NomNaissance=nom, Prenom=[prenom], Sexe=sexe, DateNaissance=naissance,
            LieuNaissance=lieu or None, _soapheaders=[lps, bam])
        if result.CR.CodeCR != "00":
            raise RuntimeError(f"INSi : compte rendu {result.CR.CodeCR}")
        found = result.INDIVIDU.INSACTIF.IdIndividu
        ins = f"{found.NumIdentifiant}{found.Cle}"
        person = _identity(nom, prenom)
        # The DMP test platform knows patients under the test INS OID (official DMP examples),
        # while INSi answers with the production OID for the public test identities.
        self.facts["usager"] = replace(person, status=IdentityStatus.QUALIFIEE, oid=OID_INS_NIR_TEST)
        return {"ins": ins, "oid": result.INDIVIDU.INSACTIF.OID}

    def verifier_ins(self, ins: str) -> dict:
        """Unit verification of a known usager's INS: the traits search again, whose answer
        must give back the same INS (how INSi verification works today)."""
        usager = self.facts.get("usager")
        if not isinstance(usager, Identity) or usager.ins != ins:
            raise RuntimeError(f"usager d'INS {ins} inconnu du DUI : recherche INSi d'abord")
        found = self.recherche_ins(usager.birth_name, usager.first_name, usager.sex,
                                   usager.birth_date.isoformat(), usager.birth_place or "")
        if found["ins"] != ins:
            raise RuntimeError(f"INSi renvoie {found['ins']} au lieu de {ins}")
        return {"ins": ins, "verifie": True}

    def alimentation_dmp(self, ins: str, masque_ps: bool = False, invisible_patient: bool = False) -> dict:
        """TD0.2, TD0.3, ITI-41 of the usager's care document (with the masking / visibility
        asked), then ITI-18 finds it."""
        visibility = tuple(code for wanted, code in ((masque_ps, xc.MASQUE_PS),
                                                     (invisible_patient, xc.INVISIBLE_PATIENT)) if wanted)
        nurse = self.directory.person("infirmiere_coordinatrice")
        ssiad = self.directory.ssiad
        author = Author(rpps=nurse.national_id, family=nurse.family.upper(), given=nurse.given.upper(),
                        structure_id=ssiad.national_id, structure_name=ssiad.name)
        services = urlparse(self.sheet.url("dmp"))  # …/si-dmp-server/v2/services: the client adds it
        client = DmpClient(f"{services.scheme}://{services.netloc}", self.sheet.pki, author=author)
        assertion = build_vihf(client.claims(ins)) if "vihf-non-signe" in self.faults else None
        try:
            client.td02(ins)
            client.set_authorization(ins)
            fed = client.provide(self._document().xml, ins, visibility=visibility, assertion=assertion)
            found = client.find_documents(ins)
        finally:
            client.close()
        return {"document": fed.entry_uuid, "retrouve": fed.entry_uuid.encode() in found.content}

    def envoi_mssante(self, destinataire: str = "") -> dict:
        """The nurse sends the document (XDM + PDF) over SMTP STARTTLS with XOAUTH2."""
        nurse = self.directory.person("infirmiere_coordinatrice")
        sender = nurse.mailbox.address if nurse.mailbox else ""
        recipient = destinataire or str(self.facts.get("correspondent_mailbox", ""))
        document = self._document()
        message_id = f"<{secrets.token_hex(12)}@dui-reference.banc-segur.test>"
        message = HealthMessage(sender=sender, recipients=[recipient], cda=document.xml, pdf=document.pdf,
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
            smtp.sendmail(sender, [recipient], raw)
        return {"message_id": message_id}

    def _document(self):
        """The usager's care plan as a CDA R2 N1 (PDF/A with the INS datamatrix), made once."""
        if "document" not in self.facts:
            nurse = self.directory.person("infirmiere_coordinatrice")
            author = from_directory(nurse, self.directory.ssiad)
            gp = from_directory(self.directory.gp, self.directory.structure("cabinet_medecin_traitant"))
            usager = self.facts.get("usager")
            if not isinstance(usager, Identity):
                raise RuntimeError("aucun usager identifié : recherche INSi d'abord")
            if "oid-ins-faux" in self.faults:
                usager = replace(usager, oid=OID_INS_NIR)
            recipients = () if "sans-destinataire" in self.faults else (Recipient(practitioner=gp),)
            ctx = DocumentContext(identity=usager, author=author, when=dt.datetime.now().replace(microsecond=0),
                                  seed=7, recipients=recipients)
            options = {"datamatrix": False} if "sans-datamatrix" in self.faults else {}
            self.facts["document"] = factory.generate("N1", ctx, **options)
        return self.facts["document"]


def _identity(birth_name: str, first_name: str) -> Identity:
    return next(i for i in cnam_test_identities() if (i.birth_name, i.first_name) == (birth_name, first_name))
