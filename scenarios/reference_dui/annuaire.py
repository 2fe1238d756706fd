"""Annuaire Santé lookups of the reference DUI (FHIR API with its ESANTE-API-KEY)."""

from __future__ import annotations

from banc.sheet import ANNUAIRE_API_KEY
from scenarios.reference_dui.base import DuiBase


class AnnuaireActions(DuiBase):
    def recherche_annuaire(self, nom: str, prenom: str = "") -> dict:
        """Find a professional by name in the Annuaire Santé; keep their MSSanté address."""
        with self._http() as client:
            bundle = client.get(
                f"{self.sheet.url('annuaire.fhir')}/Practitioner", params={"family": nom, **({"given": prenom} if prenom else {})},
                headers={"ESANTE-API-KEY": ANNUAIRE_API_KEY, "Accept": "application/fhir+json"},
            ).raise_for_status().json()
        addresses = [t.get("value") for entry in bundle.get("entry", [])
                     for t in entry.get("resource", {}).get("telecom", []) if t.get("system") == "email"]
        if not addresses:
            raise RuntimeError(f"aucune adresse MSSanté pour {prenom} {nom} dans l'Annuaire")
        self.facts["correspondent_mailbox"] = addresses[0]
        return {"bal": addresses[0]}
