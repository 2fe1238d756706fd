"""`python -m simulators.annuaire_mock`: run the Annuaire Santé mock alone until Ctrl-C."""

from __future__ import annotations

import sys

from banc.cli.french import FrenchParser
from banc.cli.standalone import mock_parser, port_option, run
from banc.mocks import DEFAULT_PORTS, MockContext
from simulators.annuaire_mock import DEFAULT_API_KEY, NAME, RunningAnnuaire, launch


def build_parser() -> FrenchParser:
    parser = mock_parser("annuaire_mock", "Simulateur Annuaire Santé (API FHIR).")
    port_option(parser, "--port", DEFAULT_PORTS[NAME], "de l'API FHIR")
    return parser


def _announce(mock: RunningAnnuaire, context: MockContext) -> None:
    print(f"Annuaire Santé simulé : {mock.base_url} (clé ESANTE-API-KEY : {DEFAULT_API_KEY})")
    print(f"Extraction PS_LibreAcces : {mock.endpoints['annuaire.extraction']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(parser, args, "Annuaire Santé simulé", {NAME: args.port}, launch, _announce)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
