"""The DMP mock's control plane (`banc.control.ControlPlane`): state, reset, seed, DUI
registration, and what other actors do in the DMP (a patient's DMP created, with the documents the hospital
and the GP already fed; a professional authorised).

A registered DUI becomes a `rules.RegisteredDui`: its TLS client certificates, the certificates
that sign its VIHF and its structure; the DMP then accepts its calls (`rules.check_caller`)."""

from __future__ import annotations

import datetime as dt
import threading

from banc.control import Action, ControlError
from banc.documents.header import paris_zone
from banc.dui import DuiProfile, fingerprint
from banc.identity import Identity
from simulators.dmp_mock import rules
from simulators.dmp_mock.core import SERVICE
from simulators.dmp_mock.models import APPROVED, Authorization, DmpStore, Patient
from simulators.dmp_mock.seed import seed_documents, seed_store


class DmpControl:
    service = SERVICE

    def __init__(self, store: DmpStore, duis: list[rules.RegisteredDui], *, documents_per_patient: int = 2) -> None:
        self.store = store
        self.duis = duis
        self.documents_per_patient = documents_per_patient
        self._bench_duis = list(duis)
        self._lock = threading.Lock()

    def state(self) -> dict:
        patients = self.store.patients()
        return {
            "patients": len(patients),
            "documents": sum(len(self.store.documents(p.ins, (APPROVED,))) for p in patients),
            "duis": [d.name for d in self.duis],
        }

    def reset(self) -> None:
        """Back to the seeded DMPs; registered DUIs stay known (they are declared, not data)."""
        with self._lock:
            self.store.clear()
            seed_store(self.store, documents_per_patient=self.documents_per_patient)

    def seed(self, **params: object) -> dict:
        count = int(params.get("documents_par_patient", self.documents_per_patient))  # type: ignore[arg-type]
        with self._lock:
            self.store.clear()
            seed_store(self.store, documents_per_patient=count)
        return {"patients": len(self.store.patients())}

    def register_dui(self, profile: DuiProfile) -> dict:
        registered = rules.RegisteredDui(
            profile.name,
            frozenset(fingerprint(pem) for pem in profile.client_certificates),
            frozenset(fingerprint(pem) for pem in profile.vihf_certificates[:1]),
            profile.structure_id,
        )
        with self._lock:
            self.duis[:] = [d for d in self.duis if d.name != profile.name] + [registered]
        return {"dui": profile.name, "certificats_tls": len(registered.client_certificates),
                "certificats_vihf": len(registered.vihf_certificates), "structure": profile.structure_id}

    def actions(self) -> dict[str, Action]:
        return {
            "ajouter_patient": Action("crée le DMP d'un patient (ins, oid, nom, prenom, sexe, naissance) et, "
                                      "avec documents=N, y verse N documents de l'hôpital et du médecin",
                                      self._add_patient),
            "autoriser": Action("le patient autorise (ou bloque) un professionnel : ins, professionnel, "
                                "medecin_traitant, bloque", self._authorize),
        }

    def _add_patient(self, ins: str, oid: str = "1.2.250.1.213.1.4.10", nom: str = "", prenom: str = "",
                     sexe: str = "", naissance: str = "", documents: int = 0) -> dict:
        if len(ins) != 15:
            raise ControlError(f"INS « {ins} » : 15 caractères attendus", 422)
        if not isinstance(documents, int) or not 0 <= documents <= 20:
            raise ControlError(f"documents « {documents} » : un nombre de 0 à 20 attendu", 422)
        self.store.add_patient(Patient(ins, oid, nom, prenom, sexe, naissance))
        if not documents:
            return {"patient": ins}
        try:
            born = dt.date.fromisoformat(naissance)
        except ValueError:
            raise ControlError(f"naissance « {naissance} » : date AAAA-MM-JJ attendue pour produire des documents",
                               422) from None
        identity = Identity(nom, (prenom,), sexe, born, matricule=ins[:13], key=ins[13:], oid=oid)
        first = dt.datetime.now(paris_zone()).replace(microsecond=0) - dt.timedelta(days=7 * documents)
        return {"patient": ins, "documents": seed_documents(self.store, identity, documents, first=first)}

    def _authorize(self, ins: str, professionnel: str, medecin_traitant: bool = False,
                   bloque: bool = False) -> dict:
        if self.store.patient(ins) is None:
            raise ControlError(f"aucun DMP pour l'INS {ins}", 404)
        self.store.set_authorization(Authorization(ins, professionnel, "", state="BLOQUE" if bloque else "VALIDE",
                                                   treating_doctor=medecin_traitant))
        return {"patient": ins, "professionnel": professionnel}
