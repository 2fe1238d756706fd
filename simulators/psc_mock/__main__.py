"""`python -m simulators.psc_mock`: run the Pro Santé Connect mock alone until Ctrl-C."""

from __future__ import annotations

import argparse

from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, serve_until_interrupted
from banc.paths import cache_dir
from banc.pki import TestPki
from simulators.psc_mock import launch


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulateur Pro Santé Connect (OpenID Connect)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS["psc"])
    parser.add_argument("--http", action="store_true", help="HTTP sans TLS (démonstration)")
    parser.add_argument("--auto", metavar="IDENTIFIANT", nargs="?", const="",
                        help="connexion automatique (par défaut : le médecin traitant)")
    args = parser.parse_args()
    context = MockContext(journal=Journal(), pki=TestPki.ensure(), data_dir=cache_dir() / "simulators",
                          ports={"psc": args.port}, insecure=args.http)
    mock = launch(context)
    if args.auto is not None:
        mock.automatic(args.auto or None)
    print(f"Pro Santé Connect simulé : émetteur {mock.issuer}")
    print(f"Découverte : {mock.endpoints['psc.discovery']}")
    print("Clients : banc-dui (secret banc-dui-secret), banc-dui-public (PKCE)")
    serve_until_interrupted([mock])


if __name__ == "__main__":
    main()
