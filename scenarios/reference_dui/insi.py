"""INSi calls of the reference DUI: zeep from the WSDL the service publishes, mutual TLS with the
INSI-AUTO certificate, the LPS context carrying the DUI's IDAM; the usager qualified in its store."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlparse

import requests
import zeep
from zeep.wsa import WsAddressingPlugin

from banc.identity import OID_INS_NIR_TEST, IdentityStatus
from banc.sheet import INSI_IDAM
from banc.soap.offline import OfflineTransport
from scenarios.reference_dui.base import DuiBase

INSI_BINDING = "{http://www.cnamts.fr/webservice}ICIRServiceBinding"


class InsiActions(DuiBase):
    def _insi_service(self):
        """The zeep service of the INSi WSDL over mutual TLS, and the LPS/BAM context headers."""
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
        return service, [lps, bam]

    def _insi_search(self, nom: str, prenom: str, sexe: str, naissance: str, lieu: str = ""):
        service, headers = self._insi_service()
        return service.rechercherInsAvecTraitsIdentite(
            NomNaissance=nom, Prenom=[prenom], Sexe=sexe, DateNaissance=naissance,
            LieuNaissance=lieu or None, _soapheaders=headers)

    def recherche_ins(self, nom: str, prenom: str, sexe: str, naissance: str, lieu: str = "") -> dict:
        """Create (or find) the usager from their traits and qualify the identity with INSi.

        INSi's CR 01 (no identity) or 02 (several) leaves the usager created from their traits
        alone, provisional and without INS: the DUI must neither pick an INS nor qualify."""
        result = self._insi_search(nom, prenom, sexe, naissance, lieu)
        code = result.CR.CodeCR
        if code in ("01", "02"):
            self.store.save_usager(ins=None, oid="", nom=nom, prenom=prenom, sexe=sexe, naissance=naissance,
                                   lieu=lieu, statut=IdentityStatus.PROVISOIRE.value)
            return _unconfirmed(result)
        if code != "00":
            raise RuntimeError(f"INSi : compte rendu {code}")
        return self._qualified(result, nom=nom, prenom=prenom, sexe=sexe, naissance=naissance, lieu=lieu)

    def _qualified(self, result, **traits: str) -> dict:
        """The usager of INSi's CR 00 answer saved qualified with the INS answered."""
        found = result.INDIVIDU.INSACTIF.IdIndividu
        ins = f"{found.NumIdentifiant}{found.Cle}"
        # The DMP test platform knows patients under the test INS OID (official DMP examples),
        # while INSi answers with the production OID for the public test identities.
        self.store.save_usager(ins=ins, oid=OID_INS_NIR_TEST, statut=IdentityStatus.QUALIFIEE.value, **traits)
        self.facts["ins"] = ins
        return {"ins": ins, "oid": result.INDIVIDU.INSACTIF.OID, "statut": "qualifiee",
                "compte_rendu": result.CR.CodeCR}

    def recherche_ins_carte(self, nir: str, naissance: str, nom: str = "") -> dict:
        """The INS from a carte Vitale read (the beneficiary's NIR, birth date, birth name): the
        usager created from the traits INSi answers (TIQ), qualified; CR 01/02 create nobody."""
        service, headers = self._insi_service()
        result = service.rechercherInsAvecCarteVitale(
            MatriculeIndividu={"NumIdentifiant": nir[:13], "Cle": nir[13:] or None}, NomNaissance=nom or None,
            DateNaissance=naissance, _soapheaders=headers)
        if result.CR.CodeCR != "00":
            return _unconfirmed(result)
        traits = result.INDIVIDU.TIQ
        prenoms = traits.Prenom if isinstance(traits.Prenom, list) else [traits.Prenom]
        return self._qualified(result, nom=traits.NomNaissance, prenom=str(prenoms[0]), sexe=traits.Sexe,
                               naissance=str(traits.DateNaissance), lieu=traits.LieuNaissance or "")

    def verifier_ins(self, ins: str) -> dict:
        """Unit verification of a known usager's INS: the traits search again, whose answer
        must give back the same INS (how INSi verification works today)."""
        usager = self.usager(ins)
        found = self.recherche_ins(usager.nom, usager.prenom, usager.sexe, usager.naissance, usager.lieu)
        if found["ins"] != ins:
            raise RuntimeError(f"INSi renvoie {found['ins']} au lieu de {ins}")
        return {"ins": ins, "verifie": True}


def _unconfirmed(result) -> dict:
    """INSi's CR 01/02: no INS, the identity stays provisional."""
    return {"ins": None, "statut": "provisoire", "compte_rendu": result.CR.CodeCR, "libelle": result.CR.LibelleCR}
