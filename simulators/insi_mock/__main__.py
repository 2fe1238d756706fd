"""`python -m simulators.insi_mock`: run the INSi mock alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, serve_until_interrupted
from banc.paths import cache_dir
from banc.pki import TestPki
from simulators.insi_mock import launch
from simulators.insi_mock.seed import DEFAULT_GENERATED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.insi_mock", description="Simulateur du téléservice INSi (CNAM)."
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS["insi"], help="port (0 : au choix du système)")
    parser.add_argument("--data", type=Path, help="dossier des données (défaut : cache utilisateur)")
    parser.add_argument("--generes", type=int, default=DEFAULT_GENERATED, help="nombre d'identités générées")
    parser.add_argument("--graine", type=int, default=20240101, help="graine des identités générées")
    parser.add_argument("--identites", type=Path, help="fichier JSON d'identités supplémentaires")
    parser.add_argument("--reinitialiser", action="store_true", help="recréer la base d'identités")
    parser.add_argument("--insecure", action="store_true", help="HTTP sans TLS (démonstration seulement)")
    args = parser.parse_args(argv)
    if args.identites is not None and not args.identites.is_file():
        print(f"fichier d'identités introuvable : {args.identites}", file=sys.stderr)
        return 2
    context = MockContext(
        journal=Journal(), pki=TestPki.ensure(), data_dir=args.data or cache_dir() / "simulators",
        seed=args.graine, ports={"insi": args.port}, insecure=args.insecure,
    )
    mock = launch(context, generated=args.generes, fixture=args.identites, reset=args.reinitialiser)
    print(f"INSi simulé : {mock.url}  ({mock.identities.count()} identités)")
    print(f"Plan de contrôle : {mock.endpoints['insi.controle']}")
    print(f"Certificats : {context.pki.directory} (client : insi-auto.p12)")
    serve_until_interrupted([mock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
