"""`banc rapport EXECUTION`: the report of a stored run (HTML, JSON or JUnit)."""

from __future__ import annotations

import argparse
from pathlib import Path

from banc.cli import UsageError
from banc.cli.run import open_journal
from banc.cli.vocabulary import option
from banc.scenario.report import to_html, to_json, to_junit
from banc.scenario.runs import RunStore

FORMATS = ("html", "json", "junit")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rapport", help="rapport d'une exécution : exigence, verdict, preuves")
    parser.add_argument("execution", nargs="?", help="identifiant de l'exécution (défaut : la dernière)")
    parser.add_argument("--format", choices=FORMATS, default="html", help="format du rapport (html par défaut)")
    option(parser, "--sortie", help="fichier à écrire (défaut : sortie standard)")
    option(parser, "--fiche")
    option(parser, "--journal", help="base du journal (au lieu de la fiche)")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    journal = open_journal(args)
    store = RunStore(journal)
    run = store.get(args.execution) if args.execution else store.latest()
    if run is None:
        raise UsageError(f"exécution « {args.execution or 'dernière'} » introuvable")
    text = {"html": lambda: to_html(run, journal, store), "json": lambda: to_json(run, store),
            "junit": lambda: to_junit(run)}[args.format]()
    if args.sortie:
        Path(args.sortie).write_text(text, encoding="utf-8")
        print(f"rapport : {Path(args.sortie).resolve()}")
    else:
        print(text, end="")
    return 0
