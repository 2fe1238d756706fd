"""`banc ans install PATH_OR_URL` and `banc ans info`: the official ANS TestContenuCDA package."""

from __future__ import annotations

import argparse

from banc.cda.package import PackageError, find_package, install
from banc.cli import UsageError
from banc.cli.vocabulary import command


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ans", help="paquet ANS TestContenuCDA (installation, informations)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    inst = command(actions, "installer", help="installer le paquet (dossier, zip ou URL d'un zip) dans le cache")
    inst.add_argument("source", metavar="CHEMIN_OU_URL", help="dossier du paquet, fichier zip ou URL d'un zip")
    inst.set_defaults(handler=_install)
    info = actions.add_parser("info", help="paquet utilisé et corrections appliquées")
    info.add_argument("--ans", help="dossier du paquet")
    info.set_defaults(handler=_info)


def _install(args: argparse.Namespace) -> int:
    try:
        package = install(args.source)
        work = package.work_tree()
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    print(f"paquet ANS installé : {package.root}")
    print(f"  {len(list(package.schematrons.glob('CI-SIS_*.sch')))} schématrons de volet, "
          f"{len(package.examples)} exemples")
    for warning in work.warnings:
        print(f"  avertissement : {warning}")
    return 0


def _info(args: argparse.Namespace) -> int:
    try:
        package = find_package(args.ans)
        work = package.work_tree()
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    print(f"paquet ANS : {package.root}")
    print(f"copie de travail (corrections, formes compilées) : {work.root}")
    for warning in work.warnings:
        print(f"  avertissement : {warning}")
    for schematron, missing in sorted(work.missing.items()):
        print(f"  {schematron} : {len(missing)} fichier(s) inclus absent(s) du paquet ({missing[0]}…)")
    return 0
