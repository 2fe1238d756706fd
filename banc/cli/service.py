"""`banc service statut|arreter`: the warm validation service, visible and under control.

`banc validate` and `banc demo` start it on first use (`banc.cda.service`): it keeps the
compiled schematrons warm (about 1 GB) and stops by itself after 30 minutes without a request.
These commands show where it runs and stop it at once.
"""

from __future__ import annotations

import argparse

from banc.cda import service


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "service", help="service de validation local (statut, arrêt) démarré par validate et demo"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "statut", help="services de validation en cours : adresse, mémoire, heure d'arrêt"
    ).set_defaults(handler=_status)
    actions.add_parser(
        "arreter", help="arrêter maintenant les services de validation de l'utilisateur"
    ).set_defaults(handler=_stop)


def _status(args: argparse.Namespace) -> int:
    found = service.running()
    if not found:
        print("aucun service de validation en cours")
    for item in found:
        print(item.describe())
    return 0


def _stop(args: argparse.Namespace) -> int:
    stopped = service.stop_all()
    if not stopped:
        print("aucun service de validation en cours")
    for pid in stopped:
        print(f"service de validation pid {pid} arrêté")
    return 0


def notice() -> str | None:
    """French lines for a command that ends (the demo): the services it leaves running, if any."""
    found = service.running()
    return "\n".join(f"toujours actif : {item.describe()}" for item in found) or None
