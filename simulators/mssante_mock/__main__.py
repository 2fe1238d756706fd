"""`python -m simulators.mssante_mock`: run the MSSanté mock alone (SMTP and IMAP, a port each)."""

from __future__ import annotations

import sys

from banc.cli.french import FrenchParser
from banc.cli.standalone import mock_parser, port_option, run
from banc.cli.vocabulary import option
from banc.mocks import DEFAULT_PORTS, MockContext
from simulators.mssante_mock import MssanteMock, launch

CHANNELS = {
    "smtp": "de soumission SMTP (STARTTLS)",
    "smtps": "de soumission SMTP en TLS implicite",
    "imaps": "IMAP en TLS implicite",
    "imap": "IMAP (STARTTLS)",
}
"""Channel → what its port serves; the context key is `mssante.<channel>`."""


def build_parser() -> FrenchParser:
    parser = mock_parser("mssante_mock", "Serveur MSSanté simulé (SMTP, IMAP).", plain_http=False)
    for channel, what in CHANNELS.items():
        port_option(parser, f"--port-{channel}", DEFAULT_PORTS[f"mssante.{channel}"], what)
    option(parser, "--ports-ephemeres")
    return parser


def _announce(mock: MssanteMock, context: MockContext) -> None:
    for name, url in mock.endpoints.items():
        print(f"{name:<16} {url}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ports = {} if args.ports_ephemeres else {
        f"mssante.{channel}": getattr(args, f"port_{channel}") for channel in CHANNELS}
    return run(parser, args, "MSSanté simulé", ports, launch, _announce,  # type: ignore[arg-type]
               port_hint="choisissez d'autres ports (--port-smtp…) ou --ports-ephemeres")


if __name__ == "__main__":
    sys.exit(main())
