"""The Annuaire mock's control plane (`banc.control.ControlPlane`): API keys and professionals
added by a scenario, from a notebook or another process (`/_banc/…`, admin token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banc.control import Action, ControlError
from banc.directory import PROFESSIONS, SPECIALTIES, Activity, Mailbox, Professional, rpps_is_valid
from banc.dui import DuiProfile
from simulators.annuaire_mock import seed
from simulators.annuaire_mock.app import DEFAULT_API_KEY, AnnuaireConfig

SERVICE = "annuaire"


@dataclass
class AnnuaireControl:
    config: AnnuaireConfig
    service: str = SERVICE

    def state(self) -> dict:
        store = self.config.store
        return {
            "cles_api": sorted(self.config.api_keys),
            "ressources": {rtype: store.count(rtype) for rtype in
                           ("Practitioner", "PractitionerRole", "Organization", "HealthcareService")},
        }

    def reset(self) -> None:
        """The directory of the launch again (added professionals gone), the default key only."""
        self.config.api_keys.clear()
        self.config.api_keys.add(DEFAULT_API_KEY)
        self.config.added.clear()
        self.config.store.refill(seed.resources(self.config.directory))

    def seed(self, **params: Any) -> dict:
        """`professionnels`: a list of `ajouter_professionnel` parameter objects."""
        unknown = sorted(set(params) - {"professionnels"})
        if unknown:
            raise ControlError(f"paramètre(s) inconnu(s) pour semer : {', '.join(unknown)} "
                               "(attendu : professionnels)", 422)
        entries = params.get("professionnels", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ControlError("« professionnels » doit être une liste d'objets", 422)
        added = [self.add_professional(**entry)["rpps"] for entry in entries]
        return {"ajoutes": added, "praticiens": self.config.store.count("Practitioner")}

    def register_dui(self, profile: DuiProfile) -> dict:
        """The DUI's ESANTE-API-KEY becomes an accepted key."""
        if not profile.annuaire_api_key:
            return {"cle_api": None, "remarque": "profil sans clé d'API Annuaire : rien à enregistrer"}
        self.config.api_keys.add(profile.annuaire_api_key)
        return {"cle_api": profile.annuaire_api_key}

    def actions(self) -> dict[str, Action]:
        return {
            "ajouter_professionnel": Action(
                "publie un professionnel dans l'API FHIR (rpps, nom, prenom, sexe, profession, "
                "specialite, bal, organisation) ; les extractions PS_LibreAcces servies ensuite le "
                "contiennent aussi (une ligne par activité : avec une organisation)",
                self.add_professional),
            "ajouter_cle_api": Action("accepte une clé ESANTE-API-KEY (cle)", self.add_key),
            "revoquer_cle_api": Action("révoque une clé ESANTE-API-KEY (cle)", self.revoke_key),
        }

    # -- actions ----------------------------------------------------------------------------
    def add_professional(self, rpps: str, nom: str, prenom: str, sexe: str = "F",
                         profession: str = "10", specialite: str = "", bal: str = "",
                         organisation: str = "") -> dict:
        """A Practitioner (and a PractitionerRole per activity) built as the seed builds them."""
        problems = []
        if not isinstance(rpps, str) or not rpps_is_valid(rpps):
            problems.append(f"RPPS {rpps!r} invalide (11 chiffres, clé de Luhn)")
        if not str(nom).strip() or not str(prenom).strip():
            problems.append("nom et prénom obligatoires")
        if sexe not in ("M", "F"):
            problems.append(f"sexe {sexe!r} : M ou F attendu")
        if profession not in PROFESSIONS:
            problems.append(f"profession {profession!r} inconnue (codes TRE_G15 : {', '.join(PROFESSIONS)})")
        if specialite and specialite not in SPECIALTIES:
            problems.append(f"spécialité {specialite!r} inconnue")
        if bal and (not isinstance(bal, str) or bal.count("@") != 1):
            problems.append(f"adresse MSSanté {bal!r} invalide")
        if organisation and self.config.store.read("Organization", str(organisation)) is None:
            problems.append(f"organisation {organisation!r} absente de l'annuaire")
        if problems:
            raise ControlError("professionnel refusé : " + " ; ".join(problems), 422)
        prof = Professional(
            rpps=rpps, family=str(nom).strip().upper(), given=str(prenom).strip(), sex=sexe,
            profession=profession, specialty=specialite,
            activities=(Activity(organisation, "L"),) if organisation else (),
            mailbox=Mailbox(bal, "PER", "8" + rpps) if bal else None,
        )
        self.config.store.put([seed.practitioner(prof), *seed.practitioner_roles(prof)])
        self.config.added.append(prof)
        return {"rpps": rpps, "identifiant_national": prof.national_id,
                "roles": len(prof.activities), "bal": bal or None}

    def add_key(self, cle: str) -> dict:
        if not isinstance(cle, str) or not cle.strip():
            raise ControlError("cle : clé d'API (texte non vide) attendue", 422)
        self.config.api_keys.add(cle.strip())
        return {"cle_api": cle.strip()}

    def revoke_key(self, cle: str) -> dict:
        if cle not in self.config.api_keys:
            raise ControlError("clé d'API inconnue : rien à révoquer", 404)
        self.config.api_keys.discard(cle)
        return {"revoquee": True}
