"""`banc journal`: look at what the simulators saw (sessions, exchanges, raw messages)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from banc.cli import UsageError
from banc.journal import Journal


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("journal", help="consulter le journal des échanges")
    parser.add_argument("--db", help="fichier du journal (défaut : cache utilisateur)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sessions = actions.add_parser("sessions", help="lister les sessions")
    sessions.set_defaults(handler=_sessions)
    listing = actions.add_parser("list", help="lister les échanges")
    listing.add_argument("--session", help="identifiant de session")
    listing.add_argument("--service", help="insi, dmp, mssante, annuaire, psc…")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="afficher un échange (constats et messages bruts)")
    show.add_argument("id", type=int)
    show.add_argument("--raw", choices=("request", "response"), help="écrire les octets bruts")
    show.set_defaults(handler=_show)


def _journal(args: argparse.Namespace) -> Journal:
    return Journal(args.db) if args.db else Journal()


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _sessions(args: argparse.Namespace) -> int:
    for session in _journal(args).sessions():
        print(f"{session['id']}  {_when(session['started_at'])}  {session['label']}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for exchange in _journal(args).exchanges(session=args.session, service=args.service):
        mark = "conforme" if exchange.conform else f"{len(exchange.findings)} constat(s)"
        print(
            f"{exchange.id:>6}  {_when(exchange.started_at)}  {exchange.service:<9} "
            f"{exchange.operation:<40} {exchange.status:<6} {mark}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    exchange = _journal(args).get(args.id)
    if exchange is None:
        raise UsageError(f"aucun échange n° {args.id} dans le journal")
    if args.raw:
        sys.stdout.buffer.write(exchange.request if args.raw == "request" else exchange.response)
        return 0
    print(f"Échange {exchange.id} — {exchange.service} {exchange.operation} ({exchange.channel})")
    print(f"  session : {exchange.session or '—'}   début : {_when(exchange.started_at)}   "
          f"durée : {exchange.duration_ms:.1f} ms   statut : {exchange.status}")
    print(f"  pair : {exchange.peer or '—'}   certificat : {exchange.peer_certificate or '—'}")
    for key, value in exchange.summary.items():
        print(f"  {key} : {value}")
    for finding in exchange.findings:
        reqs = f" [{', '.join(finding.requirements)}]" if finding.requirements else ""
        print(f"  {finding.severity.upper():<7} {finding.rule_id}{reqs} : {finding.message}")
    if not exchange.findings:
        print("  aucun constat")
    return 0
