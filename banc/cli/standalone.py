"""What every `python -m simulators.<mock>` entry point shares: the French parser with the
common options (data, journal, PKI, seed, plain HTTP, version), the mock context built from
them, and the run — busy ports refused in one line, start announced, Ctrl+C to stop.

`banc` imports nothing from `simulators`: each `__main__` passes its own `start` function.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from banc.cli import UsageError
from banc.cli.console import add_version, quiet_third_party, require_free_ports
from banc.cli.french import FrenchParser
from banc.cli.vocabulary import option
from banc.mocks import MockContext, RunningMock, serve_until_interrupted
from banc.population import DEFAULT_SEED


def mock_parser(module: str, description: str, *, plain_http: bool = True) -> FrenchParser:
    """The parser of `python -m simulators.<module>` with the options every mock takes."""
    parser = FrenchParser(prog=f"python -m simulators.{module}", description=description)
    add_version(parser)
    option(parser, "--donnees", type=Path)
    option(parser, "--journal", type=Path)
    option(parser, "--pki", type=Path)
    option(parser, "--graine", type=int, default=DEFAULT_SEED)
    if plain_http:
        option(parser, "--sans-tls")
    return parser


def port_option(parser: argparse.ArgumentParser, name: str, default: int, what: str) -> None:
    parser.add_argument(name, type=int, default=default, metavar="PORT",
                        help=f"port {what} (défaut : {default} ; 0 : au choix du système)")


def _context(args: argparse.Namespace, ports: Mapping[str, int]) -> MockContext:
    from banc.control import admin_token
    from banc.journal import Journal
    from banc.paths import cache_dir
    from banc.pki import TestPki

    data_dir = args.donnees or cache_dir() / "simulators"
    return MockContext(
        journal=Journal(args.journal), pki=TestPki.ensure(args.pki), data_dir=data_dir,
        seed=args.graine, ports=dict(ports), insecure=getattr(args, "sans_tls", False),
        admin_token=admin_token(Path(data_dir)),
    )


def run(
    parser: argparse.ArgumentParser, args: argparse.Namespace, label: str, ports: Mapping[str, int],
    start: Callable[[MockContext], RunningMock], announce: Callable[[RunningMock, MockContext], None],
    *, port_hint: str = "choisissez un autre port (--port)",
) -> int:
    """Start one mock and serve it until Ctrl+C; 2 for a usage problem (busy port…), 1 when
    the server could not start, each said in one French line."""
    quiet_third_party()
    try:
        require_free_ports(ports, port_hint)
        print(f"{label} : démarrage…", flush=True)
        context = _context(args, ports)
        mock = start(context)
    except UsageError as exc:
        print(f"{parser.prog} : {exc}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as exc:  # a port taken between the check and the start
        print(f"{parser.prog} : {label} n'a pas pu démarrer ({exc})", file=sys.stderr)
        return 1
    announce(mock, context)
    serve_until_interrupted([mock])
    return 0
