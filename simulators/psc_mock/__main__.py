"""`python -m simulators.psc_mock`: run the Pro Santé Connect mock alone until Ctrl-C."""

from __future__ import annotations

import sys

from banc.cli.french import FrenchParser
from banc.cli.standalone import mock_parser, port_option, run
from banc.mocks import DEFAULT_PORTS, MockContext
from simulators.psc_mock import NAME, RunningPsc, launch


def build_parser() -> FrenchParser:
    parser = mock_parser("psc_mock", "Simulateur Pro Santé Connect (OpenID Connect).")
    port_option(parser, "--port", DEFAULT_PORTS[NAME], "du fournisseur OpenID")
    parser.add_argument("--auto", metavar="IDENTIFIANT", nargs="?", const="",
                        help="connexion automatique de ce professionnel (sans valeur : le médecin traitant)")
    return parser


def _announce(mock: RunningPsc, context: MockContext) -> None:
    print(f"Pro Santé Connect simulé : émetteur {mock.issuer}")
    print(f"Découverte : {mock.endpoints['psc.discovery']}")
    print("Clients : banc-dui (secret banc-dui-secret), banc-dui-public (PKCE)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    def start(context: MockContext) -> RunningPsc:
        mock = launch(context)
        if args.auto is not None:
            mock.automatic(args.auto or None)
        return mock

    return run(parser, args, "Pro Santé Connect simulé", {NAME: args.port}, start, _announce)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
