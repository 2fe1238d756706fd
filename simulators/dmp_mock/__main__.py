"""`python -m simulators.dmp_mock`: run the DMP mock alone."""

from __future__ import annotations

import sys

from banc.cli.french import FrenchParser
from banc.cli.standalone import mock_parser, port_option, run
from banc.mocks import DEFAULT_PORTS, MockContext
from simulators.dmp_mock import DmpMock, launch
from simulators.dmp_mock.app import DmpSettings


def build_parser() -> FrenchParser:
    parser = mock_parser("dmp_mock", "Simulateur des services web du DMP (HL7v3, XDS.b, VIHF).")
    port_option(parser, "--port", DEFAULT_PORTS["dmp"], "des services web du DMP")
    parser.add_argument("--tolerant", action="store_true",
                        help="accepter les métadonnées non conformes (verdict enregistré) au lieu de les refuser")
    parser.add_argument("--droits", choices=("appliquer", "signaler"), default="appliquer",
                        help="matrice des droits PDT-INF-526 : refuser ou seulement signaler")
    parser.add_argument("--exemples-officiels", action="store_true",
                        help="accepter les défauts connus des exemples ANS (jetons expirés…), signalés")
    parser.add_argument("--sans-validation-cda", action="store_true", help="ne pas valider les CDA reçus")
    parser.add_argument("--documents", type=int, default=2, help="documents de départ par patient")
    return parser


def _announce(mock: DmpMock, context: MockContext) -> None:
    print(f"DMP simulé : {mock.endpoints['dmp']}/<service>  ({len(mock.store.patients())} patients)")
    print(f"Accès web (TD0.9) : {mock.endpoints['dmp.web']}")
    print(f"Certificats : {context.pki.directory} (client : dui.p12)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = DmpSettings(strictness="lenient" if args.tolerant else "strict",
                           rights="report" if args.droits == "signaler" else "enforce",
                           trust_official_examples=args.exemples_officiels,
                           validate_cda=not args.sans_validation_cda)
    return run(parser, args, "DMP simulé", {"dmp": args.port},
               lambda context: launch(context, settings=settings, documents_per_patient=args.documents),
               _announce)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
