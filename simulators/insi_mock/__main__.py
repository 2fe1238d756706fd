"""`python -m simulators.insi_mock`: run the INSi mock alone."""

from __future__ import annotations

import sys
from pathlib import Path

from banc.cli.french import FrenchParser
from banc.cli.standalone import mock_parser, port_option, run
from banc.cli.vocabulary import option
from banc.mocks import DEFAULT_PORTS, MockContext
from simulators.insi_mock import InsiMock, launch
from simulators.insi_mock.seed import DEFAULT_GENERATED


def build_parser() -> FrenchParser:
    parser = mock_parser("insi_mock", "Simulateur du téléservice INSi (CNAM).")
    port_option(parser, "--port", DEFAULT_PORTS["insi"], "du service INSi")
    option(parser, "--generees", type=int, default=DEFAULT_GENERATED)
    parser.add_argument("--identites", type=Path, help="fichier JSON d'identités supplémentaires")
    parser.add_argument("--reinitialiser", action="store_true", help="recréer la base d'identités")
    return parser


def _announce(mock: InsiMock, context: MockContext) -> None:
    print(f"INSi simulé : {mock.url}  ({mock.identities.count()} identités)")
    print(f"Plan de contrôle : {mock.endpoints['insi.controle']}")
    print(f"Certificats : {context.pki.directory} (client : insi-auto.p12)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.identites is not None and not args.identites.is_file():
        print(f"{parser.prog} : fichier d'identités introuvable : {args.identites}", file=sys.stderr)
        return 2
    return run(parser, args, "INSi simulé", {"insi": args.port},
               lambda context: launch(context, generated=args.generees, fixture=args.identites,
                                      reset=args.reinitialiser),
               _announce)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
