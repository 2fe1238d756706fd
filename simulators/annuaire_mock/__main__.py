"""`python -m simulators.annuaire_mock`: run the Annuaire Santé mock alone until Ctrl-C."""

from __future__ import annotations

import argparse

from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, serve_until_interrupted
from banc.paths import cache_dir
from banc.pki import TestPki
from simulators.annuaire_mock import DEFAULT_API_KEY, launch


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulateur Annuaire Santé (API FHIR)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS["annuaire"])
    parser.add_argument("--http", action="store_true", help="HTTP sans TLS (démonstration)")
    args = parser.parse_args()
    context = MockContext(journal=Journal(), pki=TestPki.ensure(), data_dir=cache_dir() / "simulators",
                          ports={"annuaire": args.port}, insecure=args.http)
    mock = launch(context)
    print(f"Annuaire Santé simulé : {mock.base_url} (clé ESANTE-API-KEY : {DEFAULT_API_KEY})")
    print(f"Extraction PS_LibreAcces : {mock.endpoints['annuaire.extraction']}")
    serve_until_interrupted([mock])


if __name__ == "__main__":
    main()
