"""Simulator of the DMP web services (HL7v3 patients, habilitations, XDS.b registry/repository).

`launch(context)` starts it for `banc up`, tests and notebooks; the returned `DmpMock` is the
Python API scenarios drive it with (`mock.store.add_patient(...)`, `mock.documents_for(ins)`,
`mock.authorize(ins, rpps)`, `mock.exchanges()`). See docs/dmp-mock.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from banc.control import CONTROL_PREFIX, with_control
from banc.journal import Exchange, Journal
from banc.mocks import MockContext
from banc.recording import JournalMiddleware
from banc.server import ServedApp
from simulators.dmp_mock.app import DmpApp, DmpSettings
from simulators.dmp_mock.control import DmpControl
from simulators.dmp_mock.core import BASE, SERVICE
from simulators.dmp_mock.models import (
    APPROVED,
    ARCHIVED,
    Authorization,
    DmpStore,
    Patient,
    StoredDocument,
)
from simulators.dmp_mock.rules import visible_to_patient
from simulators.dmp_mock.seed import seed_store


@dataclass
class DmpMock:
    """A running DMP mock and the handles a scenario drives it with."""

    server: ServedApp
    store: DmpStore
    journal: Journal
    app: DmpApp
    control: DmpControl
    name: str = SERVICE
    endpoints: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Base URL (services are under /si-dmp-server/v2/services/<service>)."""
        return self.server.url

    @property
    def settings(self) -> DmpSettings:
        return self.app.settings

    def add_patient(self, ins: str, family: str = "", given: str = "", *, sex: str = "",
                    birth_date: str = "", oid: str = "1.2.250.1.213.1.4.10") -> Patient:
        return self.store.add_patient(Patient(ins, oid, family, given, sex, birth_date))

    def authorize(self, ins: str, actor_id: str, *, treating_doctor: bool = False,
                  blocked: bool = False, name: str = "") -> None:
        """Declare (as the patient would) that a professional may access, or is blocked."""
        self.store.set_authorization(Authorization(ins, actor_id, name, state="BLOQUE" if blocked else "VALIDE",
                                                   treating_doctor=treating_doctor))

    def documents_for(self, ins: str, statuses: tuple[str, ...] = (APPROVED,)) -> list[StoredDocument]:
        return self.store.documents(ins, statuses)

    def documents_seen_by_patient(self, ins: str, *, legal_representative: bool = False) -> list[StoredDocument]:
        """What the usager (or a legal representative) sees in Mon espace santé: current and
        archived documents without `INVISIBLE_PATIENT` (nor `INVISIBLE_REPRESENTANTS_LEGAUX`)."""
        return [d for d in self.store.documents(ins, (APPROVED, ARCHIVED)) if not d.is_signature
                and visible_to_patient(d.confidentiality, legal_representative=legal_representative)]

    def exchanges(self, session: str | None = None, since_id: int = 0) -> list[Exchange]:
        return self.journal.exchanges(session=session, service=SERVICE, since_id=since_id)

    def stop(self) -> None:
        self.server.stop()
        self.store.close()


def launch(context: MockContext, *, settings: DmpSettings | None = None,
           documents_per_patient: int = 2) -> DmpMock:
    """Start the DMP mock over TLS requiring the DUI's organisation certificate (plain HTTP
    only in the explicit insecure demo mode)."""
    store = DmpStore(Path(context.data_dir) / "dmp" / "dmp.sqlite")
    if not store.patients():
        seed_store(store, documents_per_patient=documents_per_patient)
    app = DmpApp(store, context.journal, context.pki, settings)
    if context.insecure:  # no TLS, no client certificate to check (explicit demo mode only)
        app.settings.authenticate_callers = False
    if app.settings.validate_cda:  # in the background; the first ITI-41 waits for it if needed
        import banc.cda

        banc.cda.shared().start()
    control = DmpControl(store, app.duis, documents_per_patient=documents_per_patient)
    served = JournalMiddleware(with_control(app, control, context.admin_token), context.journal, SERVICE)
    # the control plane is reached without a client certificate: the TLS layer asks for one
    # ("optional") and the DMP's own rules refuse a SOAP caller that presents none
    server = context.serve(served, name="dmp-mock", port_name=SERVICE, client_cert="optional")
    endpoints = {SERVICE: server.url + BASE, f"{SERVICE}.web": server.url + "/AccesDirect/TableauDeBord",
                 f"{SERVICE}.controle": server.url + CONTROL_PREFIX}
    for service in ("patients", "patientsSpecific", "habilitations", "registry", "repository"):
        endpoints[f"{SERVICE}.{service}"] = f"{server.url}{BASE}/{service}"
    return DmpMock(server, store, context.journal, app, control, endpoints=endpoints)
