"""`banc rapport EXECUTION`: the reports of a stored run (HTML, JSON, JUnit, referencing sheet)
or its evidence pack (`--paquet`, masked with `--masquer`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from banc.cli import UsageError
from banc.cli.run import open_journal
from banc.cli.vocabulary import option
from banc.scenario.report import FORMATS, REPORT_FILES, build, evidence_pack
from banc.scenario.runs import RunStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rapport", help="rapport d'une exécution : exigence, verdict, preuves")
    parser.add_argument("execution", nargs="?", help="identifiant de l'exécution (défaut : la dernière)")
    parser.add_argument("--format", choices=tuple(FORMATS), default="html",
                        help="format du rapport : html (défaut), json, junit, xlsx ou csv (fiche de référencement)")
    parser.add_argument("--paquet", action="store_true",
                        help="écrire le paquet de preuves (zip : rapports, échanges bruts, documents, "
                             "preuves manuelles, manifeste SHA-256)")
    parser.add_argument("--masquer", action="store_true",
                        help="avec --paquet : masquer les noms, INS et dates de naissance de l'usager")
    option(parser, "--sortie", help="fichier à écrire (défaut : sortie standard ; xlsx et paquet : "
                                    "fichier nommé d'après l'exécution)")
    option(parser, "--fiche")
    option(parser, "--journal", help="base du journal (au lieu de la fiche)")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    if args.masquer and not args.paquet:
        raise UsageError("--masquer ne s'applique qu'au paquet de preuves (--paquet)")
    journal = open_journal(args)
    store = RunStore(journal)
    run = store.get(args.execution) if args.execution else store.latest()
    if run is None:
        raise UsageError(f"exécution « {args.execution or 'dernière'} » introuvable")
    if args.paquet:
        content = evidence_pack(run, journal, store, redact=args.masquer)
        target = Path(args.sortie or f"preuves-{run.id}{'-masque' if args.masquer else ''}.zip")
    else:
        content = REPORT_FILES[FORMATS[args.format]](build(run, journal, store))
        target = Path(args.sortie) if args.sortie else (
            Path(f"{run.id}-{FORMATS[args.format]}") if args.format == "xlsx" else None)
    if target is None:
        sys.stdout.write(content.decode("utf-8"))
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    print(f"{'paquet de preuves' if args.paquet else 'rapport'} : {target.resolve()}")
    return 0
