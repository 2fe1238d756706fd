"""Annuaire Santé lookups of the reference DUI (FHIR API with its ESANTE-API-KEY): a
professional's MSSanté address, the usager's correspondents found by their RPPS; and its local
directory, the day's open-data extraction (PS_LibreAcces) it imports and proposes names from."""

from __future__ import annotations

from typing import Any

from banc.sheet import ANNUAIRE_API_KEY
from banc.xdm import XdmError, read_xdm
from scenarios.reference_dui.base import ActionImpossible, DuiBase

EXTRACTION_COLUMNS = {"Identification nationale PP": "identifiant", "Nom d'exercice": "nom",
                      "Prénom d'exercice": "prenom", "Libellé profession": "profession"}
"""Columns of the PS_LibreAcces Personne_activite file the local directory keeps."""
MOST_CORRESPONDENTS_OF_A_FAULTY_DUI = 9
"""The fault `moins-de-10-correspondants`: a file that keeps only this many (SC.MSS.14.MS1 asks 10)."""


class AnnuaireActions(DuiBase):
    def _practitioners(self, **params: str) -> list[dict[str, Any]]:
        with self._http() as client:
            bundle = client.get(
                f"{self.sheet.url('annuaire.fhir')}/Practitioner", params=params,
                headers={"ESANTE-API-KEY": ANNUAIRE_API_KEY, "Accept": "application/fhir+json"},
            ).raise_for_status().json()
        return [entry.get("resource", {}) for entry in bundle.get("entry", [])]

    @staticmethod
    def _mailbox(practitioner: dict[str, Any]) -> str:
        return next((t.get("value", "") for t in practitioner.get("telecom", []) if t.get("system") == "email"), "")

    def recherche_annuaire(self, nom: str, prenom: str = "") -> dict:
        """Find a professional by name in the Annuaire Santé; keep their MSSanté address."""
        found = [p for p in self._practitioners(family=nom, **({"given": prenom} if prenom else {}))
                 if _named(p, nom, prenom)]  # FHIR string search matches the start of a name
        addresses = [a for a in map(self._mailbox, found) if a]
        if not addresses:
            raise RuntimeError(f"aucune adresse MSSanté pour {prenom} {nom} dans l'Annuaire")
        self.facts["correspondent_mailbox"] = addresses[0]
        return {"bal": addresses[0]}

    def ajouter_correspondant(self, ins: str, rpps: str) -> dict:
        """Add to the usager's file the professional the Annuaire knows under this RPPS, with
        the name and MSSanté address it publishes (SC.MSS.14.MS1)."""
        usager = self.usager(ins)
        found = self._practitioners(identifier=rpps)
        if not found:
            raise ActionImpossible(f"aucun professionnel de RPPS {rpps} dans l'Annuaire Santé")
        name = (found[0].get("name") or [{}])[0]
        given = " ".join(name.get("given", []))
        kept = self.store.correspondents(usager.id)
        if "moins-de-10-correspondants" in self.faults and len(kept) >= MOST_CORRESPONDENTS_OF_A_FAULTY_DUI:
            return {"rpps": rpps, "nom": name.get("family", "")}  # dropped without a word
        self.store.add_correspondent(usager.id, rpps, name.get("family", ""), given, self._mailbox(found[0]))
        return {"rpps": rpps, "nom": name.get("family", ""), "prenom": given, "bal": self._mailbox(found[0])}

    def correspondants(self, ins: str) -> dict:
        """The usager's correspondents: national id, name, MSSanté address."""
        return {"ins": ins, "correspondants": self.store.correspondents(self.usager(ins).id)}

    def importer_annuaire(self) -> dict:
        """Download the day's PS_LibreAcces extraction (open data: no key) and replace the local
        directory with its Personne_activite file (one row per professional). The fault
        `sans-extraction-annuaire` keeps the directory of an earlier import."""
        if "sans-extraction-annuaire" in self.faults:
            return {"fichier": "(import précédent conservé)", "professionnels": 0}
        with self._http() as client:
            response = client.get(self.sheet.url("annuaire.extraction"),  # its key: attributed to the DUI
                                  headers={"ESANTE-API-KEY": ANNUAIRE_API_KEY}).raise_for_status()
        name = response.headers.get("content-disposition", "").partition("filename=")[2].strip('"') or "extraction"
        try:
            files = read_xdm(response.content).files
        except XdmError as exc:
            raise ActionImpossible(f"extraction de l'Annuaire illisible : {exc}") from None
        text = next((c for n, c in files.items() if "Personne_activite" in n), None)
        if text is None:
            raise ActionImpossible(f"extraction {name} sans fichier Personne_activite")
        lines = text.decode("utf-8").splitlines()
        header = lines[0].split("|")
        wanted = {key: header.index(column) for column, key in EXTRACTION_COLUMNS.items()}
        rows: dict[str, tuple[str, str, str, str]] = {}
        for line in lines[1:]:
            fields = line.split("|")
            if len(fields) >= len(header) - 1:
                rows.setdefault(fields[wanted["identifiant"]], tuple(  # type: ignore[arg-type]
                    fields[wanted[k]] for k in ("identifiant", "nom", "prenom", "profession")))
        return {"fichier": name, "professionnels": self.store.replace_directory(name, list(rows.values()))}

    def professionnels_proposes(self, nom: str) -> dict:
        """The professionals of the local directory the DUI proposes for a name."""
        return {"nom": nom, "professionnels": self.store.directory_named(nom)}


def _named(practitioner: dict[str, Any], nom: str, prenom: str) -> bool:
    """The practitioner's own name is `nom` (and `prenom`), not merely starting with it."""
    for name in practitioner.get("name", []):
        if str(name.get("family", "")).upper() == nom.upper() and (
                not prenom or prenom.upper() in (g.upper() for g in name.get("given", []))):
            return True
    return False
