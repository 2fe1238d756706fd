"""The INSi mock's control plane (`banc.control.ControlPlane`): the register and the software
allowed to call, driven from a scenario, a notebook or another process (`/_banc/…`, admin
token). It replaces the former unauthenticated `/admin` routes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banc.control import Action, ControlError
from banc.dui import DuiProfile
from banc.identity import IdentityError, key_problem
from banc.population import identity_from_dict, identity_to_dict
from simulators.insi_mock.models import IdentityStore, InsiRecord
from simulators.insi_mock.seed import DEFAULT_GENERATED, seed_store

SERVICE = "insi"


def record_to_dict(record: InsiRecord) -> dict:
    """A register entry as JSON: the fixture format plus `ins`, INSHISTO entries, TIQ omissions."""
    data = identity_to_dict(record.identity)
    data["ins"] = record.ins
    data["history"] = [h.__dict__ for h in record.history]
    data["tiq_omit"] = sorted(record.tiq_omit)
    return data


@dataclass
class InsiControl:
    """Control of one running INSi mock. `generated`, `seed` and `fixture` say what a reset
    seeds again (those of the launch)."""

    store: IdentityStore
    generated: int = DEFAULT_GENERATED
    seed_value: int = 20240101
    fixture: Path | None = None
    service: str = SERVICE

    def state(self) -> dict:
        return {
            "identites": [record_to_dict(r) for r in self.store.all()],
            "logiciels": self.store.software(),
        }

    def reset(self) -> None:
        """Back to the seeded register: scenario identities and registered software forgotten."""
        self.store.clear()
        seed_store(self.store, generated=self.generated, seed=self.seed_value, fixture=self.fixture)

    def seed(self, **params: Any) -> dict:
        """`identites`: a list of fixture entries added to the register."""
        unknown = sorted(set(params) - {"identites"})
        if unknown:
            raise ControlError(f"paramètre(s) inconnu(s) pour semer : {', '.join(unknown)} "
                               "(attendu : identites)", 422)
        entries = params.get("identites", [])
        if not isinstance(entries, list):
            raise ControlError("« identites » doit être une liste d'identités", 422)
        added = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise ControlError("chaque identité doit être un objet JSON", 422)
            added.append(self.add_identity(**entry)["ins"])
        return {"ajoutees": added, "identites": self.store.count()}

    def register_dui(self, profile: DuiProfile) -> dict:
        """The DUI's IDAM (ContexteLPS/LPS/IDAM) becomes an authorised software."""
        if not profile.idam:
            return {"logiciel": None, "remarque": "profil sans IDAM : rien à enregistrer dans INSi"}
        name = profile.software or profile.label or profile.name
        self.store.register_software(profile.idam, name)
        return {"logiciel": {"idam": profile.idam, "nom": name}}

    def actions(self) -> dict[str, Action]:
        return {
            "ajouter_identite": Action(
                "ajoute (ou remplace) une personne du référentiel INSi (format des fichiers "
                "d'identités : birth_name, first_names, sex, birth_date, birth_place, matricule…)",
                self.add_identity),
            "retirer_identite": Action("retire une personne du référentiel INSi (ins)",
                                       self.remove_identity),
            "enregistrer_logiciel": Action(
                "autorise un identifiant de logiciel (idam, nom) à appeler le téléservice",
                self.register_software),
        }

    # -- actions ----------------------------------------------------------------------------
    def add_identity(self, **entry: Any) -> dict:
        try:
            tiq_omit = set(entry.pop("tiq_omit", ()))
            identity = identity_from_dict(entry)
        except KeyError as exc:
            raise ControlError(f"identité incomplète : champ {exc} absent", 422) from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise ControlError(f"identité invalide : {exc}", 422) from None
        if not identity.matricule:
            raise ControlError("identité sans matricule : INSi ne connaît que des NIR/NIA", 422)
        problem = key_problem(identity.matricule, identity.key)
        if problem:
            raise ControlError(f"identité invalide : {problem}", 422)
        try:
            record = self.store.add(identity, tiq_omit=tiq_omit)
        except IdentityError as exc:
            raise ControlError(str(exc), 422) from None
        return record_to_dict(record)

    def remove_identity(self, ins: str) -> dict:
        if not self.store.remove(str(ins)):
            raise ControlError(f"INS {ins} inconnu du simulateur INSi", 404)
        return {"retiree": ins}

    def register_software(self, idam: str, nom: str = "") -> dict:
        if not isinstance(idam, str) or not idam.strip():
            raise ControlError("idam : identifiant de logiciel (texte non vide) attendu", 422)
        self.store.register_software(idam.strip(), str(nom))
        return {"logiciel": {"idam": idam.strip(), "nom": str(nom)}}
