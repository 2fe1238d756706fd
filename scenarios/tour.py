"""Tour of the simulated services: the bench plays a well-behaved DUI once against each mock.

This is the first scenario of the demonstration run (`banc demo`). The bench acts as a
conforming home-care DUI — the SSIAD's coordinating nurse logs in with Pro Santé Connect, finds
the GP's MSSanté address in the Annuaire Santé, obtains the usager's INS from INSi, feeds a
document to the DMP and sends it to the GP by MSSanté — with real client libraries (httpx,
zeep, smtplib, imaplib) over TLS. Each step's verdict is built from what the simulators
recorded in the journal (their own checks, with the journal ids as evidence) plus the
expectations on the answers; a step whose traffic was not observed fails.

The next round replaces the bench-as-client by the reference DUI and the DSR scenarios; this
tour stays as the smoke test that every service answers as a client expects.
"""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, urlparse

import httpx
import requests
import zeep
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from zeep.wsa import WsAddressingPlugin

from banc.directory import Directory, default_directory
from banc.documents import factory
from banc.documents.base import GeneratedDocument
from banc.documents.header import DocumentContext
from banc.documents.parties import Recipient, from_directory
from banc.identity import OID_INS_NIR_TEST, Identity, IdentityStatus
from banc.mail.compose import HealthMessage
from banc.mocks import MockContext, RunningMock
from banc.population import cnam_test_identities
from banc.soap.offline import OfflineTransport
from banc.verdict import Finding, Verdict
from simulators.dmp_mock.client import Author, DmpClient

CLIENT_ID, CLIENT_SECRET = "banc-dui", "banc-dui-secret"
REDIRECT_URI = "http://127.0.0.1:8765/retour-psc"
INSI_BINDING = "{http://www.cnamts.fr/webservice}ICIRServiceBinding"
TOUR_USAGER = ("ADRTROIS", "DOMINIQUE")


@dataclass
class Tour:
    """What the steps share: the running mocks, the bench context and facts learnt so far."""

    context: MockContext
    mocks: dict[str, RunningMock]
    directory: Directory = field(default_factory=default_directory)
    facts: dict[str, object] = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        return self.context.endpoints[name]

    def httpx_client(self, cert: str | None = None) -> httpx.Client:
        return httpx.Client(verify=self.context.pki.client_context(cert), timeout=30)


@dataclass(frozen=True)
class TourStep:
    title: str
    service: str
    requirements: tuple[str, ...]
    act: Callable[[Tour], list[Finding]]
    """Performs the exchanges; returns findings on the answers (empty when as expected)."""


def _expect(condition: bool, rule: str, message: str, reqs: tuple[str, ...] = ()) -> list[Finding]:
    return [] if condition else [Finding(rule, message, ruleset="tour", requirements=reqs)]


# -- steps ------------------------------------------------------------------------------------
def psc_login(tour: Tour) -> list[Finding]:
    """Authorization code flow with PKCE S256, then userinfo, as an OIDC client library does."""
    nurse = tour.directory.person("infirmiere_coordinatrice")
    tour.mocks["psc"].automatic(nurse.national_id)  # type: ignore[attr-defined]
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with tour.httpx_client() as client:
        authorize = client.get(tour.endpoint("psc.authorization"), params={
            "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
            "scope": "openid scope_all", "acr_values": "eidas1", "state": state,
            "nonce": secrets.token_urlsafe(16), "code_challenge_method": "S256",
            "code_challenge": create_s256_code_challenge(verifier),
        })
        query = parse_qs(urlparse(authorize.headers.get("location", "")).query)
        if "code" not in query:
            return _expect(False, "TOUR.PSC.CODE", f"pas de code d'autorisation (HTTP {authorize.status_code})")
        tokens = client.post(tour.endpoint("psc.token"), auth=(CLIENT_ID, CLIENT_SECRET), data={
            "grant_type": "authorization_code", "code": query["code"][0],
            "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
        }).json()
        userinfo = client.get(tour.endpoint("psc.userinfo"),
                              headers={"Authorization": f"Bearer {tokens.get('access_token')}"})
    tour.facts["access_token"] = tokens.get("access_token", "")
    claims = userinfo.json() if userinfo.status_code == 200 else {}
    return (
        _expect(query.get("state") == [state], "TOUR.PSC.STATE", "le paramètre state n'est pas renvoyé")
        + _expect(claims.get("SubjectNameID") == nurse.national_id, "TOUR.PSC.USERINFO",
                  f"userinfo ne renvoie pas l'identifiant national attendu ({nurse.national_id})")
    )


def annuaire_lookup(tour: Tour) -> list[Finding]:
    """Find the GP by name and read the MSSanté address from `telecom`."""
    gp = tour.directory.gp
    with tour.httpx_client() as client:
        response = client.get(
            f"{tour.endpoint('annuaire.fhir')}/Practitioner",
            params={"family": gp.family, "given": gp.given},
            headers={"ESANTE-API-KEY": "banc-segur-annuaire", "Accept": "application/fhir+json"},
        )
    bundle = response.json() if response.status_code == 200 else {}
    addresses = [
        telecom.get("value")
        for entry in bundle.get("entry", [])
        for telecom in entry.get("resource", {}).get("telecom", [])
        if telecom.get("system") == "email"
    ]
    tour.facts["gp_mailbox"] = gp.mailbox.address if gp.mailbox else ""
    return _expect(
        tour.facts["gp_mailbox"] in addresses, "TOUR.ANNUAIRE.BAL",
        f"adresse MSSanté du médecin traitant absente de la réponse (HTTP {response.status_code})",
        ("SC.ANN.01.MS1",),
    )


def insi_search(tour: Tour) -> list[Finding]:
    """zeep client built from the WSDL the mock serves, mutual TLS with the INSI-AUTO certificate."""
    pki = tour.context.pki
    session = requests.Session()
    session.trust_env = False
    session.verify = str(pki.ca_cert)
    session.cert = (str(pki.cert("insi-auto")), str(pki.key("insi-auto")))
    url = tour.endpoint("insi")
    base = f"{urlparse(url).scheme}://{urlparse(url).netloc}/"
    client = zeep.Client(f"{url}?wsdl", transport=OfflineTransport(session=session, allow=(base,)),
                         plugins=[WsAddressingPlugin()])
    service = client.create_service(INSI_BINDING, url)
    now = dt.datetime.now(dt.UTC).isoformat()
    lps = client.get_element("{urn:siram:lps:ctxlps}ContexteLPS")(
        Id=secrets.token_hex(8), Temps=now, Emetteur="BANC-SEGUR", Nature="CTXLPS", Version="01_00",
        LPS={"IDAM": {"_value_1": "BANC-SEGUR-DUI", "R": "4"}, "Version": "1.0",
             "Instance": secrets.token_hex(8), "Nom": "DUI DE REFERENCE DU BANC"},
    )
    bam = client.get_element("{urn:siram:bam:ctxbam}ContexteBAM")(
        Id=secrets.token_hex(8), Temps=now, Emetteur="BANC-SEGUR", COUVERTURE={}, Version="01_02",
    )
    person = _usager()
    result = service.rechercherInsAvecTraitsIdentite(
        NomNaissance=person.birth_name, Prenom=list(person.first_names[:1]), Sexe=person.sex,
        DateNaissance=person.birth_date.isoformat(), LieuNaissance=person.birth_place,
        _soapheaders=[lps, bam],
    )
    found = result.INDIVIDU.INSACTIF.IdIndividu if result.CR.CodeCR == "00" else None
    ins = f"{found.NumIdentifiant}{found.Cle}" if found is not None else ""
    # The DMP test platform knows patients under the test INS OID (official DMP examples), while
    # INSi answers with the production OID for the public test identities (CNAM captures).
    tour.facts["usager"] = replace(person, status=IdentityStatus.QUALIFIEE, oid=OID_INS_NIR_TEST)
    return _expect(ins == person.ins, "TOUR.INSI.INS",
                   f"INS renvoyé {ins or 'aucun'} au lieu de {person.ins}", ("SC.INS.26.MS1",))


def _usager() -> Identity:
    return next(i for i in cnam_test_identities()
                if (i.birth_name, i.first_name) == TOUR_USAGER)


def _document(tour: Tour) -> GeneratedDocument:
    """The usager's care plan as a CDA R2 N1 (PDF/A with the INS datamatrix), generated once."""
    if "document" not in tour.facts:
        nurse = tour.directory.person("infirmiere_coordinatrice")
        author = from_directory(nurse, tour.directory.ssiad)
        gp = from_directory(tour.directory.gp, tour.directory.structure("cabinet_medecin_traitant"))
        ctx = DocumentContext(identity=tour.facts.get("usager") or _usager(), author=author,
                              when=dt.datetime.now().replace(microsecond=0), seed=7,
                              recipients=(Recipient(practitioner=gp),))
        tour.facts["document"] = factory.generate("N1", ctx)
    return tour.facts["document"]  # type: ignore[return-value]


def dmp_feed(tour: Tour) -> list[Finding]:
    """TD0.2, TD0.3, ITI-41 of the usager's document, then ITI-18 finds it."""
    nurse = tour.directory.person("infirmiere_coordinatrice")
    ssiad = tour.directory.ssiad
    author = Author(rpps=nurse.national_id, family=nurse.family.upper(), given=nurse.given.upper(),
                    structure_id=ssiad.national_id, structure_name=ssiad.name)
    person = _usager()
    assert person.ins is not None
    client = DmpClient(tour.mocks["dmp"].url, tour.context.pki, author=author)  # type: ignore[attr-defined]
    try:
        client.td02(person.ins)
        client.set_authorization(person.ins)
        fed = client.provide(_document(tour).xml, person.ins)
        found = client.find_documents(person.ins)
    finally:
        client.close()
    return (
        _expect(b"ResponseStatusType:Success" in fed.response.content, "TOUR.DMP.ALIMENTATION",
                "le DMP a refusé le document", ("SC.DMP.04.MS1",))
        + _expect(fed.entry_uuid.encode() in found.content, "TOUR.DMP.RECHERCHE",
                  "le document versé n'est pas retrouvé par FindDocuments", ("SC.DMP.04.MS1",))
    )


def _xoauth2(user: str, token: str) -> bytes:
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def mssante_send(tour: Tour) -> list[Finding]:
    """The nurse sends the document (XDM + PDF) to the GP over SMTP, the GP reads it over IMAP."""
    pki = tour.context.pki
    nurse = tour.directory.person("infirmiere_coordinatrice")
    sender = nurse.mailbox.address if nurse.mailbox else ""
    gp_mailbox = str(tour.facts.get("gp_mailbox") or tour.directory.gp.mailbox.address)
    document = _document(tour)
    message_id = f"<{secrets.token_hex(12)}@banc-segur.test>"
    message = HealthMessage(sender=sender, recipients=[gp_mailbox], cda=document.xml,
                            pdf=document.pdf, message_id=message_id)
    raw = message.build()
    smtp_url = urlparse(tour.endpoint("mssante.smtp"))
    with smtplib.SMTP(smtp_url.hostname, smtp_url.port, timeout=120) as smtp:
        smtp.starttls(context=pki.client_context())
        smtp.ehlo()
        token = str(tour.facts.get("access_token", ""))
        code, _ = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(_xoauth2(sender, token)).decode())
        if code != 235:
            return _expect(False, "TOUR.MSS.AUTH", f"authentification XOAUTH2 refusée ({code})")
        smtp.sendmail(sender, [gp_mailbox], raw)
    gp_token = tour.mocks["psc"].tokens_for(tour.directory.gp)["access_token"]  # type: ignore[attr-defined]
    imap_url = urlparse(tour.endpoint("mssante.imaps"))
    with imaplib.IMAP4_SSL(imap_url.hostname, imap_url.port, ssl_context=pki.client_context()) as imap:
        imap.authenticate("XOAUTH2", lambda _: _xoauth2(gp_mailbox, gp_token))
        imap.select("INBOX")
        _, hits = imap.search(None, "HEADER", "Message-ID", f'"{message_id}"')
    return _expect(bool(hits and hits[0]), "TOUR.MSS.RECEPTION",
                   "le message n'est pas dans la boîte du médecin traitant", ("SC.MSS.17.MS1",))


STEPS: tuple[TourStep, ...] = (
    TourStep("Connexion Pro Santé Connect (code + PKCE)", "psc", (), psc_login),
    TourStep("Adresse MSSanté du médecin traitant (Annuaire Santé)", "annuaire",
             ("SC.ANN.01.MS1",), annuaire_lookup),
    TourStep("INS de l'usager par ses traits (INSi)", "insi", ("SC.INS.26.MS1", "SC.INS.27.MS1"),
             insi_search),
    TourStep("Alimentation et consultation du DMP", "dmp", ("SC.DMP.04.MS1",), dmp_feed),
    TourStep("Envoi MSSanté au médecin traitant et lecture IMAP", "mssante",
             ("SC.MSS.17.MS1",), mssante_send),
)


def run(context: MockContext, mocks: dict[str, RunningMock]) -> list[Verdict]:
    """Play every step; one verdict per step, judged from the journal."""
    tour = Tour(context, mocks)
    journal = context.journal
    verdicts = []
    for step in STEPS:
        subject = f"Tour des services — {step.title}"
        if step.service not in mocks:
            verdicts.append(Verdict(subject, [Finding(
                "TOUR.SERVICE", f"simulateur « {step.service} » non démarré", ruleset="tour")]))
            continue
        start = journal.last_id()
        try:
            findings = step.act(tour)
        except Exception as exc:  # a client-side failure is a finding, the tour goes on
            findings = [Finding("TOUR.ECHEC", f"l'échange a échoué : {type(exc).__name__} : {exc}",
                                ruleset="tour", requirements=step.requirements)]
        observed = journal.exchanges(since_id=start, service=step.service)
        verdict = Verdict(subject, findings, details={
            "service": step.service,
            "échanges": [f"journal:{e.id} {e.operation} {e.status}".strip() for e in observed],
        })
        if not observed:
            verdict.findings.append(Finding(
                "TOUR.TRAFIC", "aucun échange observé par le simulateur", ruleset="tour",
                requirements=step.requirements))
        for exchange in observed:
            verdict.findings.extend(
                replace(f, evidence=(*f.evidence, f"journal:{exchange.id}")) for f in exchange.findings
            )
        verdicts.append(verdict)
    return verdicts
