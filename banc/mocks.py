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

    def port(self, name: str) -> int:
        return self.ports.get(name, 0)


class RunningMock(Protocol):
    name: str
    endpoints: dict[str, str]

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
