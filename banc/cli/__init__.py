"""`banc` command line: thin argument parsing over the modules of `banc`.

Each sub-command lives in its own module of this package exposing `register(subparsers)`;
adding a command means adding a module and one name to `COMMANDS`. Errors the user can act on
are `UsageError`s (exit 2, French message, no stack trace); anything unexpected is reported
in one line too, with `--debug` to see the trace.

Every parser is a `banc.cli.french.FrenchParser` (sub-parsers inherit the class), so the
commands registered here speak French, argparse's own words included; their names follow
`banc.cli.vocabulary`, which `tests/banc/test_cli_vocabulary.py` checks on every parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("pki", "up", "dui", "run", "rapport", "journal", "insi", "dmp", "annuaire", "psc", "mss",
            "validate", "service", "ans", "demo", "capture")
"""Sub-command modules, in the order `banc --help` lists them."""


class UsageError(Exception):
    """A problem with what the user asked for: printed as is, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    from banc.cli.console import add_version
    from banc.cli.french import FrenchParser

    parser = FrenchParser(
        prog="banc",
        description="Banc Ségur : banc de conformité et simulateurs pour les DUI du Ségur numérique.",
    )
    add_version(parser)
    parser.add_argument("--debug", action="store_true", help="afficher la trace complète des erreurs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMANDE")
    for name in COMMANDS:
        importlib.import_module(f"banc.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from banc.cli.console import quiet_third_party

    quiet_third_party()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"banc : {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("banc : interrompu", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"banc : erreur interne ({type(exc).__name__} : {exc}). "
            "Relancez avec --debug pour la trace et signalez-la.",
            file=sys.stderr,
        )
        return 3
