"""`banc up`: start every registered simulator in one process, on fixed loopback ports."""

from __future__ import annotations

import argparse
from pathlib import Path

from banc.cli import UsageError
from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, RunningMock, available, serve_until_interrupted
from banc.paths import cache_dir
from banc.pki import TestPki


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("up", help="démarrer les services simulés (INSi, DMP, MSSanté…)")
    parser.add_argument(
        "services", nargs="*", help="services à démarrer (par défaut : tous ceux installés)"
    )
    parser.add_argument("--data", help="dossier des données des simulateurs (défaut : cache)")
    parser.add_argument("--seed", type=int, default=20240101, help="graine des données générées")
    parser.add_argument(
        "--ephemeral-ports", action="store_true", help="ports choisis par le système (tests)"
    )
    parser.add_argument(
        "--insecure", action="store_true",
        help="HTTP sans TLS, pour une démonstration seulement (refusé par défaut)",
    )
    parser.set_defaults(handler=_up)


def start_services(
    names: list[str] | None, context: MockContext
) -> list[RunningMock]:
    """Start the named services (all when None) in dependency order; stop all on failure."""
    launchers = available()
    unknown = sorted(set(names or ()) - set(launchers))
    if unknown:
        raise UsageError(
            f"service(s) inconnu(s) : {', '.join(unknown)} (disponibles : {', '.join(launchers)})"
        )
    running: list[RunningMock] = []
    try:
        for name, launch in launchers.items():
            if names and name not in names:
                continue
            mock = launch(context)
            running.append(mock)
            context.endpoints.update(mock.endpoints)
    except Exception:
        for mock in reversed(running):
            mock.stop()
        raise
    return running


def _up(args: argparse.Namespace) -> int:
    data_dir = Path(args.data) if args.data else cache_dir() / "simulators"
    data_dir.mkdir(parents=True, exist_ok=True)
    context = MockContext(
        journal=Journal(),
        pki=TestPki.ensure(),
        data_dir=data_dir,
        seed=args.seed,
        ports={} if args.ephemeral_ports else dict(DEFAULT_PORTS),
        insecure=args.insecure,
    )
    running = start_services(args.services or None, context)
    if not running:
        raise UsageError("aucun simulateur installé (pip install -e . depuis le dépôt)")
    print("Services simulés démarrés :")
    for mock in running:
        for label, url in mock.endpoints.items():
            print(f"  {label:<24} {url}")
    print(f"Journal des échanges : {context.journal.path}")
    print(f"AC de test à installer dans le DUI : {context.pki.ca_cert}")
    serve_until_interrupted(running)
    return 0
