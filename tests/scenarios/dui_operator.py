"""The "operator" of the manual-driver end-to-end test, run as a separate process.

It knows nothing of the bench's code beyond the configuration sheet (JSON): it reads the
addresses and certificate files there and acts with plain clients — httpx for SOAP and OIDC,
smtplib and imaplib for MSSanté — as a person at a DUI would, following the scenario's steps
in order (it watches the run's current step in the journal database).

    python dui_operator.py SHEET.json PLAN.json
"""

from __future__ import annotations

import base64
import imaplib
import json
import re
import secrets
import smtplib
import socket
import sqlite3
import ssl
import sys
import time
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

_real_getaddrinfo = socket.getaddrinfo


def resolve(name: str, address: str) -> None:
    """What /etc/hosts does on the DUI's machine: the bench's name → its address."""

    def getaddrinfo(host, *args, **kwargs):
        return _real_getaddrinfo(address if host == name else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def insi_request(idam: str, nom: str, prenom: str, sexe: str, naissance: str) -> bytes:
    """The SOAP request a DUI's INSi module composes (the bench's builder of the same message);
    only the transport, plain httpx, is the operator's."""
    from banc.cli.insi import build_traits_request

    return build_traits_request(nom, prenom, sexe, naissance, idam=idam)


def health_message(sender: str, recipients: list[str]) -> bytes:
    """What the DUI software composes (a CDA N1 of the usager in an XDM); only the transport is
    the operator's plain smtplib."""
    import datetime as dt

    from banc.directory import default_directory
    from banc.documents import factory
    from banc.documents.header import DocumentContext
    from banc.documents.parties import Recipient, from_directory
    from banc.identity import IdentityStatus
    from banc.mail.compose import HealthMessage
    from banc.population import cnam_test_identities

    directory = default_directory()
    usager = next(i for i in cnam_test_identities() if (i.birth_name, i.first_name) == ("ADRTROIS", "DOMINIQUE"))
    usager = __import__("dataclasses").replace(usager, status=IdentityStatus.QUALIFIEE)
    author = from_directory(directory.person("infirmiere_coordinatrice"), directory.ssiad)
    gp = from_directory(directory.gp, directory.structure("cabinet_medecin_traitant"))
    document = factory.generate("N1", DocumentContext(identity=usager, author=author, seed=3,
                                                      when=dt.datetime.now().replace(microsecond=0),
                                                      recipients=(Recipient(practitioner=gp),)))
    return HealthMessage(sender=sender, recipients=recipients, cda=document.xml, pdf=document.pdf,
                         message_id=f"<{uuid.uuid4()}@operateur.test>").build()


class Operator:
    def __init__(self, sheet: dict, plan: dict) -> None:
        self.sheet, self.plan = sheet, plan
        certs = {c["nom"]: c for c in sheet["data"]["certificats"]["clients"]}
        self.ca = sheet["data"]["certificats"]["ac"]
        self.insi_cert = (certs["insi-auto"]["pem"], certs["insi-auto"]["cle"])
        self.token = ""

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)

    def insi(self, person: dict) -> None:
        context = self.tls()
        context.load_cert_chain(*self.insi_cert)
        body = insi_request(self.plan["idam"], **person)
        with httpx.Client(verify=context, trust_env=False) as client:
            client.post(self.sheet["endpoints"]["insi"], content=body, headers={
                "Content-Type": 'application/soap+xml; charset=utf-8; action="urn:ServiceIdentiteCertifiee'
                                ':1.0.0:rechercherInsAvecTraitsIdentite"'})

    def insi_of(self, prefix: str) -> None:
        """Search the person the current run's instruction names (`{prefix}_nom`…), as an
        operator types the traits the bench shows: read from the run's inputs."""
        database = sqlite3.connect(self.sheet["journal"], timeout=30)
        (inputs,) = database.execute("SELECT inputs FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        values = json.loads(inputs)
        self.insi({key: values[f"{prefix}_{key}"] for key in ("nom", "prenom", "sexe", "naissance")})

    def insi_card_of(self, prefix: str) -> None:
        """Read the person's carte Vitale (their NIR and birth date, from the run's inputs)."""
        from banc.cli.insi import build_vitale_request

        database = sqlite3.connect(self.sheet["journal"], timeout=30)
        (inputs,) = database.execute("SELECT inputs FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        values = json.loads(inputs)
        nir = values[f"{prefix}_ins"]
        body = build_vitale_request(nir[:13], nir[13:], values[f"{prefix}_naissance"], idam=self.plan["idam"])
        context = self.tls()
        context.load_cert_chain(*self.insi_cert)
        with httpx.Client(verify=context, trust_env=False) as client:
            client.post(self.sheet["endpoints"]["insi"], content=body, headers={
                "Content-Type": 'application/soap+xml; charset=utf-8; action="urn:ServiceIdentiteCertifiee'
                                ':1.0.0:rechercherInsAvecCarteVitale"'})

    def psc_login(self) -> None:
        endpoints = self.sheet["endpoints"]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(__import__("hashlib").sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirect = self.plan["redirect_uri"]
        with httpx.Client(verify=self.tls(), trust_env=False) as client:
            page = client.get(endpoints["psc.authorization"], params={
                "response_type": "code", "client_id": self.plan["client_id"], "redirect_uri": redirect,
                "scope": "openid scope_all", "acr_values": "eidas1", "state": "s", "nonce": "n",
                "code_challenge": challenge, "code_challenge_method": "S256"})
            action = unescape(re.search(r'<form[^>]+action="([^"]+)"', page.text).group(1))
            request_id = re.search(r'name="request"\s+value="([^"]+)"', page.text).group(1)
            login = client.post(httpx.URL(str(page.url)).join(action),
                                data={"request": request_id, "identifiant": self.plan["professional"]})
            code = parse_qs(urlparse(login.headers["location"]).query)["code"][0]
            tokens = client.post(endpoints["psc.token"], auth=(self.plan["client_id"], self.plan["secret"]),
                                 data={"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": redirect, "code_verifier": verifier}).json()
        self.token = tokens["access_token"]

    def xoauth2(self) -> bytes:
        return f"user={self.plan['mailbox']}\x01auth=Bearer {self.token}\x01\x01".encode()

    def send_mail(self) -> None:
        url = urlparse(self.sheet["endpoints"]["mssante.smtp"])
        message = health_message(self.plan["mailbox"], [self.plan["to"], self.plan["mailbox"]])
        with smtplib.SMTP(url.hostname, url.port, timeout=60) as smtp:
            smtp.starttls(context=self.tls())
            smtp.ehlo()
            smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(self.xoauth2()).decode())
            smtp.sendmail(self.plan["mailbox"], [self.plan["to"], self.plan["mailbox"]], message)

    def read_mail(self) -> None:
        url = urlparse(self.sheet["endpoints"]["mssante.imaps"])
        with imaplib.IMAP4_SSL(url.hostname, url.port, ssl_context=self.tls()) as imap:
            imap.authenticate("XOAUTH2", lambda _: self.xoauth2())
            imap.select("INBOX")
            _, numbers = imap.search(None, "ALL")
            for number in (numbers[0] or b"").split():
                imap.fetch(number, "(BODY[])")

    def play(self) -> None:
        database = sqlite3.connect(self.sheet["journal"], timeout=30)
        deadline = time.monotonic() + 240
        done: set[int] = set()
        while time.monotonic() < deadline:
            row = database.execute("SELECT status, current_step FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
            if row is not None and row[0] != "en cours" and done:
                return
            current = row[1] if row is not None else None
            if current is not None and current not in done:
                done.add(current)
                for action in self.plan["steps"][current] if current < len(self.plan["steps"]) else ():
                    getattr(self, action["do"])(*action.get("args", ()))
            time.sleep(0.1)


if __name__ == "__main__":
    sheet = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    plan = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    resolve(sheet["public_host"], plan["address"])
    Operator(sheet, plan).play()
