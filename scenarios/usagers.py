"""A fresh usager per run, known to the simulated national services before the DUI meets them.

DSR scenarios must not collide between runs or DUIs: each run draws its own synthetic identity
(valid NIR and key, test INS OID) from its run id, and its first bench steps make it exist where
a real person exists — in the INSi reference (so a traits search finds it), with a DMP (so
TD0.2 and feeds succeed) — as the hospital or the GP would already know them.
"""

from __future__ import annotations

import hashlib

from banc.identity import Identity
from banc.population import generated_identities, identity_to_dict
from banc.scenario.model import BenchActs
from banc.scenario.runner import RunContext

_IDENTITY_KEYS = ("birth_name", "first_names", "sex", "birth_date", "birth_place", "matricule", "key", "oid",
                  "status")


def fresh_identity(context: RunContext, role: str = "usager") -> Identity:
    """The run's identity for `role`: the same on resume, another for every run."""
    seed = int(hashlib.sha256(f"{context.run.id}:{role}".encode()).hexdigest()[:12], 16)
    return generated_identities(1, seed=seed, corsica_every=0, homonym_every=0)[0]


def usager_values(identity: Identity, prefix: str = "usager") -> dict:
    """Template values of an identity: `{usager_nom}`, `{usager_ins}`…"""
    return {
        f"{prefix}_nom": identity.birth_name, f"{prefix}_prenom": identity.first_name,
        f"{prefix}_prenoms": " ".join(identity.first_names), f"{prefix}_sexe": identity.sex,
        f"{prefix}_naissance": identity.birth_date.isoformat(), f"{prefix}_lieu": identity.birth_place or "",
        f"{prefix}_ins": identity.ins or "", f"{prefix}_oid": identity.oid,
        **{f"{prefix}_identite_{key}": value for key, value in identity_to_dict(identity).items()
           if key in _IDENTITY_KEYS},
    }


def homonyms(context: RunContext) -> tuple[Identity, Identity]:
    """Two people of the run with the same birth name, first names, sex and birth date (other
    birthplace and NIR): a traits search without birthplace gets INSi's CR 02."""
    seed = int(hashlib.sha256(f"{context.run.id}:homonymes".encode()).hexdigest()[:12], 16)
    first, second = generated_identities(2, seed=seed, corsica_every=0, homonym_every=2)
    return first, second


def in_insi(prefix: str, title: str = "L'usager existe dans le référentiel INSi") -> BenchActs:
    """Bench step: the identity of `prefix` exists in the INSi reference (no requirement: setup)."""
    return BenchActs(f"{prefix}-insi", title, (), service="insi", action="ajouter_identite",
                     params={key: f"{{{prefix}_identite_{key}}}" for key in _IDENTITY_KEYS})


def known_to_national_services(prefix: str = "usager", dmp_documents: int = 0) -> tuple[BenchActs, ...]:
    """Bench steps making the run's usager exist in INSi and in the DMP (no requirement: setup),
    with `dmp_documents` documents the hospital and the GP already fed."""
    return (
        in_insi(prefix),
        BenchActs(f"{prefix}-dmp", "L'usager a un DMP" + (" où l'hôpital et le médecin ont versé des documents"
                                                          if dmp_documents else ""),
                  (), service="dmp", action="ajouter_patient",
                  params={"ins": f"{{{prefix}_ins}}", "oid": f"{{{prefix}_oid}}", "nom": f"{{{prefix}_nom}}",
                          "prenom": f"{{{prefix}_prenom}}", "sexe": f"{{{prefix}_sexe}}",
                          "naissance": f"{{{prefix}_naissance}}",
                          **({"documents": dmp_documents} if dmp_documents else {})}),
    )
