"""Simulator of the CNAM INSi teleservice (SOAP 1.2, WSDL `DESIR_ICIR_EXP_1.5.0`).

`launch(context)` starts it for `banc up`, tests and notebooks; the returned `InsiMock` is also
the Python API scenarios use (`mock.identities.add(...)`, `mock.control`, `mock.exchanges()`…).
See docs/insi-mock.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from banc.control import CONTROL_PREFIX, with_control
from banc.journal import Exchange, Journal
from banc.mocks import MockContext
from banc.recording import JournalMiddleware
from banc.server import ServedApp
from simulators.insi_mock.app import SERVICE, InsiApp
from simulators.insi_mock.control import InsiControl
from simulators.insi_mock.models import IdentityStore
from simulators.insi_mock.seed import DEFAULT_GENERATED, seed_store
from simulators.insi_mock.wire import load_schemas

SOAP_PATH = "/lps"
"""Path of the SOAP endpoint (the WSDL's address ends in /lps)."""


@dataclass
class InsiMock:
    """A running INSi mock and the handles a scenario drives it with."""

    server: ServedApp
    identities: IdentityStore
    journal: Journal
    control: InsiControl
    name: str = SERVICE
    endpoints: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The SOAP endpoint to configure in the DUI."""
        return self.endpoints[SERVICE]

    def register_software(self, idam: str, name: str = "") -> None:
        """Accept calls from a software identified by this IDAM (ContexteLPS/LPS/IDAM)."""
        self.identities.register_software(idam, name)

    def exchanges(self, session: str | None = None, since_id: int = 0) -> list[Exchange]:
        """What the mock received (SOAP, WSDL and control plane), in order."""
        return self.journal.exchanges(session=session, service=SERVICE, since_id=since_id)

    def lookups(self, ins: str | None = None, session: str | None = None) -> list[Exchange]:
        """Searches the mock answered (CR 00/01/02), optionally only those that returned `ins`:
        the evidence that a DUI obtained or verified an INS through INSi (SC.INS.26.MS1)."""
        return [
            e for e in self.exchanges(session=session)
            if "cr" in e.summary and (ins is None or e.summary.get("patient_ins") == ins)
        ]

    def stop(self) -> None:
        self.server.stop()


def launch(
    context: MockContext, *, generated: int = DEFAULT_GENERATED, fixture: Path | None = None,
    reset: bool = False,
) -> InsiMock:
    """Start the INSi mock: TLS with optional client certificate (the app decides), or plain
    HTTP only when the context asks for the insecure demo mode. The identity base is seeded
    when empty (or when `reset`), so scenario changes survive a restart."""
    data_dir = Path(context.data_dir) / "insi"
    store = IdentityStore(data_dir / "identities.sqlite")
    if reset:
        store.clear()
    if store.count() == 0:
        seed_store(store, generated=generated, seed=context.seed, fixture=fixture)
    control = InsiControl(store, generated, context.seed, fixture)
    app = InsiApp(store, load_schemas(), ca_file=str(context.pki.ca_cert), insecure=context.insecure)
    served = JournalMiddleware(with_control(app, control, context.admin_token), context.journal, SERVICE)
    server = context.serve(served, name="insi-mock", port_name=SERVICE, client_cert="optional")
    endpoints = {SERVICE: f"{server.url}{SOAP_PATH}", f"{SERVICE}.controle": f"{server.url}{CONTROL_PREFIX}"}
    return InsiMock(server, store, context.journal, control, endpoints=endpoints)
