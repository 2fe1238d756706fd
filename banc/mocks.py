"""The contract every simulated service follows, so `banc up`, scenarios and notebooks start
them the same way without `banc` importing any of them.

Each mock package exposes `launch(context: MockContext) -> RunningMock` and is registered as an
entry point of the group `banc.simulators` in `pyproject.toml`. `banc up` discovers them there
(so the flow stays one-way: `banc` never imports `simulators`). Mocks that need another
service's address (MSSanté needs the PSC issuer to verify tokens) read it from
`context.endpoints`, filled in start order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from banc.journal import Journal
from banc.pki import TestPki
from banc.server import ServedApp

ENTRY_POINT_GROUP = "banc.simulators"

START_ORDER = ("psc", "annuaire", "insi", "dmp", "mssante")
"""Providers first: the PSC mock's issuer must be known before MSSanté starts."""

DEFAULT_PORTS: dict[str, int] = {
    "psc": 9104,
    "annuaire": 9103,
    "insi": 9101,
    "dmp": 9102,
    "mssante.smtp": 9587,
    "mssante.smtps": 9465,
    "mssante.imaps": 9993,
    "mssante.imap": 9143,
    "mssante.controle": 9105,
}
"""Fixed ports for `banc up`, so a DUI can be configured once; tests use port 0."""


@dataclass
class MockContext:
    journal: Journal
    pki: TestPki
    data_dir: Path
    seed: int = 20240101
    ports: dict[str, int] = field(default_factory=dict)  # empty: ephemeral ports
    insecure: bool = False  # plain HTTP demo mode, only when asked explicitly
    endpoints: dict[str, str] = field(default_factory=dict)  # "psc.issuer" → URL, …
    host: str = "127.0.0.1"
    """Address the servers bind to (`banc up --hote 0.0.0.0` for a DUI on another machine)."""
    public_host: str = "localhost"
    """Name a DUI uses to reach the bench: in every URL and in the server certificate."""
    admin_token: str = ""
    """Bearer token of every mock's control plane (`banc.control.admin_token`)."""

    def port(self, name: str) -> int:
        return self.ports.get(name, 0)

    def serve(self, app: object, *, name: str, port_name: str, client_cert: str = "optional") -> ServedApp:
        """Start `app` as this bench serves every mock: bound to `host`, URLs naming
        `public_host`, TLS from the PKI unless the insecure demo mode was asked for."""
        return ServedApp(
            app, pki=None if self.insecure else self.pki, client_cert=client_cert,
            host=self.host, public_host=self.public_host, port=self.port(port_name), name=name,
        ).start()


class RunningMock(Protocol):
    name: str
    endpoints: dict[str, str]
    """Label → URL; includes `<name>.controle`, the base of its control plane."""
    control: object
    """The mock's `banc.control.ControlPlane` (typed loosely: banc.control imports this module)."""

    def stop(self) -> None: ...


Launcher = Callable[[MockContext], RunningMock]


def available() -> dict[str, Launcher]:
    """Registered mocks by name, in start order (unknown names last, alphabetically)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    order = [n for n in START_ORDER if n in found] + sorted(set(found) - set(START_ORDER))
    return {name: found[name].load() for name in order}


def serve_until_interrupted(mocks: list[RunningMock]) -> None:
    """Block until Ctrl+C (or SIGTERM turned into KeyboardInterrupt), then stop the mocks in
    reverse start order. The one way a standalone mock or `banc up` waits."""
    print("Ctrl+C pour arrêter.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for mock in reversed(mocks):
            mock.stop()
