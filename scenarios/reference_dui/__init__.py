"""The built-in reference DUI: a conforming home-care DUI served behind the automation protocol.

`ReferenceDriver` (driver `reference`, entry point group `banc.drivers`) starts the reference
DUI's automation endpoint over HTTPS and then drives it exactly as the `http` driver drives a
vendor's DUI: the reference path always goes through the published protocol. `actions.py` is what
the DUI does for each action (one module per service), `store.py` its database, `app.py` the
protocol server.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from banc.dui import DuiProfile
from banc.scenario.drivers import ActionHandle, HttpDriver
from banc.scenario.model import DuiActs, ManualProof
from banc.scenario.runner import RunContext
from banc.server import ServedApp
from banc.sheet import BenchSheet
from scenarios.reference_dui.actions import ReferenceDui
from scenarios.reference_dui.app import AutomationServer, build_app
from scenarios.reference_dui.faults import check
from scenarios.reference_dui.profile import NAME, reference_profile
from scenarios.reference_dui.store import ReferenceStore

__all__ = ["NAME", "ReferenceDriver", "ReferenceDui", "reference_profile", "serve"]


def store_path(sheet: BenchSheet) -> Path:
    """The reference DUI's database: beside the bench's journal, like a DUI beside its bench."""
    return Path(sheet.journal).parent / f"{NAME}.sqlite"


def serve(sheet: BenchSheet, *, faults: frozenset[str] = frozenset(), port: int = 0,
          store: ReferenceStore | None = None) -> tuple[ServedApp, str]:
    """Start the reference DUI's automation endpoint; returns the server and its base URL."""
    server = AutomationServer(sheet, store or ReferenceStore(store_path(sheet)), faults=faults)
    served = ServedApp(build_app(server), pki=sheet.pki,
                       client_cert="optional", port=port, name="dui-reference").start()
    return served, f"{served.url}/banc/v1"


class ReferenceDriver:
    """Driver `reference`: the reference DUI, reached through its automation endpoint."""

    name = "reference"

    def __init__(self, faults: tuple[str, ...] | frozenset[str] = ()) -> None:
        self.faults = check(tuple(faults))
        self._served: ServedApp | None = None
        self._url = ""
        self._http: HttpDriver | None = None

    def default_profile(self, sheet: BenchSheet) -> DuiProfile:
        """The reference DUI's profile, with the URL of its (now started) automation endpoint."""
        if self._served is None:
            self._served, self._url = serve(sheet, faults=self.faults)
            self._http = HttpDriver(verify=sheet.pki.client_context())
        return replace(reference_profile(sheet), automation_url=self._url)

    def start(self, step: DuiActs, params: dict, context: RunContext) -> ActionHandle:
        if self._http is None:
            self.default_profile(context.sheet)
        assert self._http is not None
        if not context.dui.automation_url:
            context = replace(context, dui=replace(context.dui, automation_url=self._url))
        return self._http.start(step, params, context)

    def request_proof(self, step: ManualProof, instruction: str, context: RunContext) -> Path | None:
        context.console.proof_request(step, instruction, interactive=False)
        return None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._served is not None:
            self._served.stop()
        self._served, self._http = None, None
