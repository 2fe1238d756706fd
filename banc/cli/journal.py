"""`banc journal`: look at what the simulators saw (sessions, exchanges, raw messages).

Reading only: a journal database that does not exist is refused (a mistyped `--journal` must
not leave an empty database behind and list nothing as if all were well)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from banc.cli import UsageError
from banc.cli.vocabulary import command, option
from banc.journal import UNKNOWN_DUI, Exchange, Journal, default_path

RAW = {"requete": "request", "reponse": "response", "request": "request", "response": "response"}
"""`--brut` values (the English ones are the old spelling) → which bytes."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("journal", help="consulter le journal des échanges")
    option(parser, "--journal")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sessions = command(actions, "sessions", help="lister les sessions")
    sessions.set_defaults(handler=_sessions)
    listing = command(actions, "liste", help="lister les échanges")
    listing.add_argument("--session", help="identifiant de session")
    listing.add_argument("--service", help="insi, dmp, mssante, annuaire, psc…")
    listing.add_argument("--dui", help="nom du DUI enregistré (banc dui liste)")
    listing.add_argument("--execution", help="identifiant d'une exécution de scénario (banc executions)")
    listing.set_defaults(handler=_list)
    show = command(actions, "voir", help="afficher un échange (constats et messages bruts)")
    show.add_argument("id", type=int, metavar="NUMERO", help="numéro de l'échange (colonne 1 de « liste »)")
    show.add_argument("--brut", "--raw", choices=RAW, metavar="{requete,reponse}",
                      help="écrire les octets bruts de la requête ou de la réponse")
    show.set_defaults(handler=_show)


def _journal(args: argparse.Namespace) -> Journal:
    path = Path(args.journal) if args.journal else default_path()
    if not path.is_file():
        where = "--journal" if args.journal else "le cache utilisateur"
        raise UsageError(f"journal introuvable : {path} ({where}) ; aucune base créée. Indiquez la "
                         "base écrite par les simulateurs (banc demarrer, banc demo)")
    return Journal(path)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "—"
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _sessions(args: argparse.Namespace) -> int:
    for session in _journal(args).sessions():
        print(f"{session['id']}  {_when(session['started_at'])}  {session['label']}")
    return 0


def verdict_mark(exchange: Exchange) -> str:
    """`conforme`, `TOLÉRÉ` (accepted by a lenient setting: not conform) or `NON CONFORME`."""
    errors = sum(f.is_error for f in exchange.findings)
    if exchange.summary.get("tolere"):
        return f"TOLÉRÉ ({len(exchange.findings)} constat(s))"
    return "conforme" if not errors else f"NON CONFORME ({errors} erreur(s))"


def _list(args: argparse.Namespace) -> int:
    for exchange in _journal(args).exchanges(session=args.session, service=args.service,
                                             dui=args.dui, run=args.execution):
        print(
            f"{exchange.id:>6}  {_when(exchange.started_at)}  {exchange.service:<9} "
            f"{exchange.operation:<40} {exchange.status:<6} {exchange.dui or UNKNOWN_DUI:<18} "
            f"{verdict_mark(exchange)}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    exchange = _journal(args).get(args.id)
    if exchange is None:
        raise UsageError(f"aucun échange n° {args.id} dans le journal")
    if args.brut:
        sys.stdout.buffer.write(exchange.request if RAW[args.brut] == "request" else exchange.response)
        return 0
    print(f"Échange {exchange.id} — {exchange.service} {exchange.operation} ({exchange.channel})")
    print(f"  session : {exchange.session or '—'}   début : {_when(exchange.started_at)}   "
          f"durée : {exchange.duration_ms:.1f} ms   statut : {exchange.status}")
    print(f"  pair : {exchange.peer or '—'}   certificat : {exchange.peer_certificate or '—'}")
    print(f"  DUI : {exchange.dui or UNKNOWN_DUI}   exécution : {exchange.run or '—'}   "
          f"verdict : {verdict_mark(exchange)}")
    for key, value in exchange.summary.items():
        print(f"  {key} : {value}")
    for finding in exchange.findings:
        reqs = f" [{', '.join(finding.requirements)}]" if finding.requirements else ""
        print(f"  {finding.severity.label:<13} {finding.rule_id}{reqs} : {finding.message}")
    if not exchange.findings:
        print("  aucun constat")
    return 0
