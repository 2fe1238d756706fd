"""`banc demarrer` (alias `up`): start every simulator, open a journal session, write the
configuration sheet, and print each exchange as it arrives until Ctrl+C."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path

from banc.bench import BenchError, parse_ports, start_bench
from banc.cli import UsageError
from banc.cli.journal import verdict_mark
from banc.cli.vocabulary import command, option
from banc.journal import UNKNOWN_DUI, Exchange, Journal
from banc.mocks import serve_until_interrupted


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = command(subparsers, "demarrer",
                     help="démarrer les services simulés et écrire la fiche de configuration du DUI")
    parser.add_argument("services", nargs="*", help="services à démarrer (par défaut : tous ceux installés)")
    option(parser, "--donnees")
    option(parser, "--graine", type=int, default=20240101)
    option(parser, "--ports-ephemeres", help="ports choisis par le système (la fiche de configuration les donne)")
    parser.add_argument("--port", action="append", default=[], metavar="SERVICE=PORT",
                        help="changer le port d'un service (ex. --port insi=9201 ; répétable)")
    parser.add_argument("--hote", default="127.0.0.1",
                        help="adresse d'écoute : 127.0.0.1 par défaut, 0.0.0.0 pour un DUI sur une autre machine")
    parser.add_argument("--nom", action="append", default=[], metavar="NOM_OU_IP",
                        help="nom DNS ou adresse IP par lequel le DUI joint le banc (mis dans le certificat "
                             "serveur et dans les adresses ; répétable ; le premier est utilisé dans les URL)")
    option(parser, "--journal", help="base du journal des échanges (défaut : dans --donnees)")
    option(parser, "--sans-tls")
    parser.set_defaults(handler=_up)


def exchange_line(exchange: Exchange) -> str:
    """One console line per exchange: time, service, operation, DUI, verdict."""
    when = time.strftime("%H:%M:%S", time.localtime(exchange.started_at))
    errors = [f.rule_id for f in exchange.findings if f.is_error][:3]
    detail = f" {', '.join(errors)}" if errors else ""
    return (f"{when}  {exchange.service:<9} {exchange.operation[:38]:<38} "
            f"{exchange.dui or UNKNOWN_DUI:<18} {verdict_mark(exchange)}{detail}  journal:{exchange.id}")


def watch(journal: Journal, stop: threading.Event, since_id: int, interval: float = 0.3) -> None:
    """Print exchanges recorded after `since_id` (by any process) until `stop` is set."""
    last = since_id
    while not stop.wait(interval):
        for exchange in journal.exchanges(since_id=last):
            last = exchange.id or last
            if not exchange.summary.get("controle"):
                print(exchange_line(exchange), flush=True)


def _up(args: argparse.Namespace) -> int:
    print("Démarrage des services simulés…", flush=True)
    started = time.perf_counter()
    try:
        bench = start_bench(
            data_dir=Path(args.donnees) if args.donnees else None,
            journal_path=Path(args.journal) if args.journal else None,
            host=args.hote, server_names=tuple(args.nom),
            ports={} if args.ports_ephemeres else _ports(args.port),
            services=args.services or None, seed=args.graine, insecure=args.sans_tls,
            label="banc demarrer",
        )
    except BenchError as exc:
        raise UsageError(str(exc)) from None
    print(f"Services simulés démarrés en {time.perf_counter() - started:.1f} s :")
    for label, url in sorted(bench.sheet.endpoints.items()):
        print(f"  {label:<24} {url}")
    print(f"Fiche de configuration du DUI : {bench.sheet_files['txt']}")
    print(f"  (JSON pour les clients et notebooks : {bench.sheet_files['json']} ; "
          f"page : {bench.sheet_files['html']})")
    print(f"Journal des échanges : {bench.journal.path} (session {bench.session})")
    print(f"AC de test à installer dans le DUI : {bench.context.pki.ca_cert}")
    if bench.validation.started:  # prepared in the background: say where, and when it is ready
        print(bench.validation.describe(), flush=True)
        if not bench.validation.ready.is_set():
            bench.validation.when_ready(lambda validation: print(validation.describe(), flush=True))
    print("Échanges reçus (heure, service, opération, DUI, verdict) :", flush=True)
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(bench.journal, stop, bench.journal.last_id()),
                               name="journal-console", daemon=True)
    watcher.start()
    try:
        serve_until_interrupted(list(bench.mocks.values()))
    finally:
        stop.set()
        bench.journal.end_session(bench.session)
    return 0


def _ports(values: list[str]) -> dict[str, int] | None:
    if not values:
        return None
    from banc.mocks import DEFAULT_PORTS

    try:
        return {**DEFAULT_PORTS, **parse_ports(values)}
    except BenchError as exc:
        raise UsageError(str(exc)) from None
