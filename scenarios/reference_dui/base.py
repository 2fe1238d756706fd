"""What every action of the reference DUI shares: the bench's sheet, the DUI's store, its user.

`DuiBase` is one run's view of the reference DUI: the store is the DUI's (shared by runs, like
a real DUI's database), `facts` what this run's session remembers between actions (the PSC
access token, the last document produced). The action modules (`psc`, `annuaire`, `insi`,
`documents`, `dmp`, `mssante`, `dashboard`) each add the protocol actions of one service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import httpx

from banc.directory import Directory, Professional, default_directory
from banc.documents.base import GeneratedDocument
from banc.identity import Identity, IdentityStatus
from banc.scenario.drivers import ActionRefused
from banc.sheet import BenchSheet
from scenarios.reference_dui.store import ReferenceStore, Usager


class ActionImpossible(ActionRefused):
    """The DUI refuses the action as a conforming DUI would (identity mismatch, refusal…):
    reported through the protocol with status `impossible` and this French message."""


@dataclass
class DuiBase:
    sheet: BenchSheet
    store: ReferenceStore
    faults: frozenset[str] = frozenset()
    """Fault profiles in force (the mistakes real DUIs make), for negative runs."""
    directory: Directory = field(default_factory=default_directory)
    facts: dict[str, object] = field(default_factory=dict)
    made: dict[str, GeneratedDocument] = field(default_factory=dict)
    """Documents produced, by id: shared by the runs of one server, to derive new versions."""

    def _http(self, cert: str | None = None) -> httpx.Client:
        return httpx.Client(verify=self.sheet.pki.client_context(cert), timeout=30, trust_env=False)

    @property
    def nurse(self) -> Professional:
        """The logged-in professional: the SSIAD's coordinating nurse."""
        return self.directory.person("infirmiere_coordinatrice")

    def usager(self, ins: str) -> Usager:
        found = self.store.usager_by_ins(ins)
        if found is None:
            raise ActionImpossible(f"usager d'INS {ins} inconnu du DUI : recherche INSi d'abord")
        return found


def as_identity(usager: Usager) -> Identity:
    """The store's usager as the document factory's identity."""
    ins = usager.ins or ""
    return Identity(birth_name=usager.nom, first_names=(usager.prenom,), sex=usager.sexe,
                    birth_date=dt.date.fromisoformat(usager.naissance), birth_place=usager.lieu or None,
                    matricule=ins[:13] or None, key=ins[13:] or None, oid=usager.oid,
                    status=IdentityStatus(usager.statut))
