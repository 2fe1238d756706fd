"""`python -m simulators.mssante_mock`: run the MSSanté mock alone on its fixed ports."""

from __future__ import annotations

import argparse

from banc.journal import Journal
from banc.mocks import DEFAULT_PORTS, MockContext, serve_until_interrupted
from banc.paths import cache_dir
from banc.pki import TestPki
from simulators.mssante_mock import launch


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.mssante_mock",
                                     description="Serveur MSSanté simulé (SMTP, IMAP).")
    parser.add_argument("--ephemeral-ports", action="store_true", help="ports choisis par le système")
    args = parser.parse_args()
    data = cache_dir() / "simulators"
    context = MockContext(
        journal=Journal(), pki=TestPki.ensure(), data_dir=data,
        ports={} if args.ephemeral_ports else dict(DEFAULT_PORTS),
    )
    mock = launch(context)
    for name, url in mock.endpoints.items():
        print(f"{name:<16} {url}")
    serve_until_interrupted([mock])


if __name__ == "__main__":
    main()
