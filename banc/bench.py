"""The running bench: every mock started in this process, one journal session, the sheet.

`banc demarrer`, `banc jouer` (when no bench is running), `banc demo`, the tests and the
notebooks all start the bench the same way: `start_bench(...)` discovers the mocks (entry
points `banc.simulators`), starts them in dependency order on the chosen address and ports,
opens a journal session and writes the configuration sheet (`banc.sheet`). A port already
taken stops nothing half-way: what was started is stopped and the error names the service and
the option that changes its port.

It does not wait for the CDA engine: the mocks that judge CDA (DMP, MSSanté) start the
process's shared validation in the background (`banc.cda.shared`: the warm validation service,
reused by every later bench). `bench.validation.ready` says when it is; a document received
before waits for its verdict. The bench keeps the service alive while it runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from banc.cda.shared import Validation, ValidationModeError
from banc.control import ControlPlane, admin_token
from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, RunningMock, available
from banc.paths import cache_dir
from banc.pki import TestPki
from banc.server import PortInUse
from banc.sheet import BenchSheet, describe


class BenchError(Exception):
    """The bench cannot start as asked: one French line, naming what to change."""


@dataclass
class RunningBench:
    context: MockContext
    mocks: dict[str, RunningMock]
    sheet: BenchSheet
    session: str
    validation: Validation
    sheet_files: dict[str, Path] = field(default_factory=dict)
    _release: Callable[[], None] = lambda: None

    @property
    def journal(self) -> Journal:
        return self.context.journal

    def planes(self) -> dict[str, ControlPlane]:
        """In-process control planes by service (what a scenario drives the mocks with)."""
        return {name: mock.control for name, mock in self.mocks.items()  # type: ignore[misc]
                if getattr(mock, "control", None) is not None}

    def stop(self) -> None:
        for mock in reversed(list(self.mocks.values())):
            mock.stop()
        self._release()
        self.journal.end_session(self.session)

    def __enter__(self) -> RunningBench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_ports(values: Iterable[str]) -> dict[str, int]:
    """`insi=9201` options → {"insi": 9201}, with a French error for a malformed one."""
    ports: dict[str, int] = {}
    for value in values:
        name, _, number = value.partition("=")
        if name not in DEFAULT_PORTS or not number.isdigit() or not 0 < int(number) < 65536:
            known = ", ".join(DEFAULT_PORTS)
            raise BenchError(f"--port {value!r} : attendu SERVICE=PORT, SERVICE parmi {known}")
        ports[name] = int(number)
    return ports


def start_services(names: list[str] | None, context: MockContext) -> list[RunningMock]:
    """Start the named services (all when None) in dependency order; stop all on failure."""
    launchers = available()
    unknown = sorted(set(names or ()) - set(launchers))
    if unknown:
        raise BenchError(
            f"service(s) inconnu(s) : {', '.join(unknown)} (disponibles : {', '.join(launchers)})")
    running: list[RunningMock] = []
    try:
        for name, launch in launchers.items():
            if names and name not in names:
                continue
            mock = launch(context)
            running.append(mock)
            context.endpoints.update(mock.endpoints)
    except PortInUse as exc:
        for mock in reversed(running):
            mock.stop()
        service = next((n for n, p in context.ports.items() if p == exc.port), exc.name)
        raise BenchError(
            f"le port {exc.port} du service {service} est déjà utilisé sur {exc.host} : un autre "
            f"« banc demarrer » tourne peut-être ; sinon changez-le avec --port {service}=AUTRE_PORT "
            "ou utilisez --ports-ephemeres") from None
    except BaseException:
        for mock in reversed(running):
            mock.stop()
        raise
    return running


def start_bench(
    *,
    data_dir: Path | None = None,
    journal_path: Path | None = None,
    pki_dir: Path | None = None,
    host: str = "127.0.0.1",
    public_host: str | None = None,
    server_names: tuple[str, ...] = (),
    ports: dict[str, int] | None = None,
    services: list[str] | None = None,
    seed: int = 20240101,
    insecure: bool = False,
    label: str = "banc",
    sheet_dir: Path | None = None,
    validation: str | None = None,
) -> RunningBench:
    """Start the mocks and write the sheet. `ports=None` means the fixed default ports; `{}`
    ephemeral ones (tests). `public_host` (default: the first server name, else localhost) is
    what URLs name; every server name is put in the server certificate. `validation`:
    `service` (default, or `BANC_VALIDATION`) or `processus` (the engine in this process)."""
    import banc.cda

    try:
        shared = banc.cda.shared(validation)
    except ValidationModeError as exc:
        raise BenchError(str(exc)) from None
    data_dir = data_dir or cache_dir() / "simulators"
    data_dir.mkdir(parents=True, exist_ok=True)
    public = public_host or (server_names[0] if server_names else "localhost")
    names = tuple(dict.fromkeys((*server_names, public)))
    pki = TestPki.ensure(pki_dir, server_names=names)
    journal = Journal(journal_path or data_dir / "journal.sqlite")
    context = MockContext(
        journal=journal, pki=pki, data_dir=data_dir, seed=seed,
        ports=dict(DEFAULT_PORTS) if ports is None else {**ports},
        insecure=insecure, host=host, public_host=public, admin_token=admin_token(data_dir),
    )
    running = start_services(services, context)
    if not running:
        raise BenchError("aucun simulateur installé (pip install -e . depuis le dépôt)")
    session = journal.start_session(label)
    sheet = BenchSheet(
        endpoints=dict(context.endpoints), pki_dir=str(pki.directory), journal=str(journal.path),
        admin_token=context.admin_token, session=session, host=host, public_host=public,
        server_names=pki.server_names(), pid=os.getpid(), data=describe(pki),
    )
    bench = RunningBench(context, {m.name: m for m in running}, sheet, session, shared)
    if shared.started:
        bench._release = shared.hold()
    bench.sheet_files = sheet.write(sheet_dir or data_dir)
    return bench
