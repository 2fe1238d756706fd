"""A quiet and honest console: no third-party noise, a busy port said in one French line.

- `quiet_third_party()` silences the warnings libraries print about the bench's own, deliberate
  choices: aiosmtpd's "auth_required == True but auth_require_tls == False" (logged for the
  implicit-TLS SMTP listener, which *is* encrypted but aiosmtpd cannot tell) and its
  `Session.login_data` deprecation (raised by its own code when a custom SASL mechanism
  succeeds). Nothing the user could act on; everything else still shows.
- `busy_ports()` / `require_free_ports()` try each wanted port before a server starts, so a
  clash is reported as "port 9101 (insi) déjà utilisé…" instead of a uvicorn or asyncio trace.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import warnings
from collections.abc import Mapping

from banc.cli import UsageError

_AIOSMTPD_NOISE = (
    "auth_required == True but auth_require_tls == False",
    "Requiring AUTH while not requiring TLS",
    "Session.login_data is deprecated",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_AIOSMTPD_NOISE)


def quiet_third_party() -> None:
    """Install the filters (idempotent: the logging filter is added once)."""
    for text in _AIOSMTPD_NOISE:
        warnings.filterwarnings("ignore", message=text)
    logger = logging.getLogger("mail.log")  # aiosmtpd's logger
    if not any(isinstance(f, _DropNoise) for f in logger.filters):
        logger.addFilter(_DropNoise())


def busy_ports(ports: Mapping[str, int], host: str = "127.0.0.1") -> dict[str, int]:
    """The named ports (0 = chosen by the system, never busy) that cannot be bound now.

    Binds the way the servers do (SO_REUSEADDR, as asyncio does on POSIX), so a port left in
    TIME_WAIT by a previous run is not reported busy."""
    busy = {}
    for name, port in ports.items():
        if not port:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise UsageError(f"port {port} ({name}) inutilisable : {exc.strerror}") from None
                busy[name] = port
    return busy


def require_free_ports(ports: Mapping[str, int], hint: str) -> None:
    """Raise a one-line French `UsageError` naming every busy port and what to do (`hint`)."""
    busy = busy_ports(ports)
    if busy:
        listed = ", ".join(f"{port} ({name})" for name, port in busy.items())
        plural = "s" if len(busy) > 1 else ""
        raise UsageError(f"port{plural} {listed} déjà utilisé{plural} : un simulateur tourne "
                         f"peut-être déjà ; arrêtez-le ou {hint}")


def add_version(parser: argparse.ArgumentParser) -> None:
    """`--version`: the installed version of the bench (same for `banc` and the mocks)."""
    from banc import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="afficher la version et quitter")
