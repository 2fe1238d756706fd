"""`python -m simulators.dmp_mock`: run the DMP mock alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, serve_until_interrupted
from banc.paths import cache_dir
from banc.pki import TestPki
from simulators.dmp_mock import launch
from simulators.dmp_mock.app import DmpSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.dmp_mock",
                                     description="Simulateur des services web du DMP (HL7v3, XDS.b, VIHF).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS["dmp"], help="port (0 : au choix du système)")
    parser.add_argument("--data", type=Path, help="dossier des données (défaut : cache utilisateur)")
    parser.add_argument("--pki", type=Path, help="dossier de la PKI de test (défaut : cache utilisateur)")
    parser.add_argument("--journal", type=Path, help="base du journal des échanges")
    parser.add_argument("--tolerant", action="store_true",
                        help="accepter les métadonnées non conformes (verdict enregistré) au lieu de les refuser")
    parser.add_argument("--droits", choices=("appliquer", "signaler"), default="appliquer",
                        help="matrice des droits PDT-INF-526 : refuser ou seulement signaler")
    parser.add_argument("--exemples-officiels", action="store_true",
                        help="accepter les défauts connus des exemples ANS (jetons expirés…), signalés")
    parser.add_argument("--sans-validation-cda", action="store_true", help="ne pas valider les CDA reçus")
    parser.add_argument("--documents", type=int, default=2, help="documents de départ par patient")
    parser.add_argument("--insecure", action="store_true", help="HTTP sans TLS (démonstration seulement)")
    args = parser.parse_args(argv)
    settings = DmpSettings(strictness="lenient" if args.tolerant else "strict",
                           rights="report" if args.droits == "signaler" else "enforce",
                           trust_official_examples=args.exemples_officiels,
                           validate_cda=not args.sans_validation_cda)
    context = MockContext(journal=Journal(args.journal), pki=TestPki.ensure(args.pki),
                          data_dir=args.data or cache_dir() / "simulators", ports={"dmp": args.port},
                          insecure=args.insecure)
    mock = launch(context, settings=settings, documents_per_patient=args.documents)
    print(f"DMP simulé : {mock.endpoints['dmp']}/<service>  ({len(mock.store.patients())} patients)", flush=True)
    print(f"Accès web (TD0.9) : {mock.endpoints['dmp.web']}", flush=True)
    print(f"Certificats : {context.pki.directory} (client : dui.p12)", flush=True)
    serve_until_interrupted([mock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
