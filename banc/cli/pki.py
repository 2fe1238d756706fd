"""`banc pki initialiser` (alias `init`): generate (or show) the test PKI."""

from __future__ import annotations

import argparse

from banc.cli.vocabulary import command, option
from banc.pki import CLIENT_PROFILES, TestPki


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pki", help="PKI de test (AC, certificats serveur et client)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = command(actions, "initialiser", help="générer l'AC et les certificats manquants")
    option(init, "--pki")
    init.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    pki = TestPki.ensure(args.pki)
    print(f"PKI de test dans {pki.directory}")
    print(f"  AC à installer dans le DUI : {pki.ca_cert}")
    print(f"  certificat serveur des simulateurs : {pki.server_cert}")
    for profile in CLIENT_PROFILES:
        print(f"  {profile.common_name:<24} {pki.p12(profile.name)}  ({profile.purpose})")
    print(f"Mode d'emploi : {pki.directory / 'LISEZMOI.txt'}")
    return 0
