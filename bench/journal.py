"""Cost of the journal middleware per exchange, side by side with the same app without it;
and the time `start_bench` (what `banc demarrer` does) takes to have the five mocks listening.

    .venv/bin/python bench/journal.py [--requests 2000] [--body 4096]

The app answers a fixed body; one httpx client (HTTP/1.1 keep-alive, TLS) sends `--requests`
POSTs of `--body` bytes to each server in turn, rounds alternating, best round kept. The
middleware's cost is the difference in median latency; the journal write (SQLite WAL, one
INSERT with attribution) is included, as in the mocks.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from banc.journal import Journal
from banc.pki import TestPki
from banc.recording import JournalMiddleware, note
from banc.server import ServedApp


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    exchange = note(scope)
    exchange.operation = "bench"
    exchange.summary["patient_ins"] = "297022A02077878"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _round(client: httpx.Client, url: str, requests: int, body: bytes) -> list[float]:
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        client.post(url, content=body).raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--body", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="banc-bench-journal-"))
    pki = TestPki.ensure(folder / "pki")
    journal = Journal(folder / "journal.sqlite")
    body = b"x" * args.body
    bare = ServedApp(app, pki=pki, client_cert="optional", name="nu").start()
    recorded = ServedApp(JournalMiddleware(app, journal, "bench"), pki=pki, client_cert="optional",
                         name="journalise").start()
    best: dict[str, float] = {}
    try:
        with httpx.Client(verify=pki.client_context(), trust_env=False) as client:
            for _ in range(args.rounds):
                for label, server in (("sans journal", bare), ("avec journal", recorded)):
                    median = statistics.median(_round(client, server.url + "/", args.requests, body))
                    best[label] = min(best.get(label, float("inf")), median)
    finally:
        bare.stop()
        recorded.stop()
    without, with_journal = best["sans journal"], best["avec journal"]
    print(f"{args.requests} requêtes de {args.body} octets, meilleure médiane sur {args.rounds} tours :")
    print(f"  sans journal : {without:.3f} ms   avec journal : {with_journal:.3f} ms   "
          f"surcoût : {with_journal - without:+.3f} ms par échange (x{with_journal / without:.2f})")
    print(f"  échanges journalisés : {len(journal.exchanges(service='bench'))}")

    from banc.bench import start_bench

    started = time.perf_counter()
    bench = start_bench(data_dir=folder / "simulateurs", pki_dir=folder / "pki", ports={})
    elapsed = time.perf_counter() - started
    bench.stop()
    print(f"démarrage des {len(bench.mocks)} simulateurs (start_bench, données neuves) : {elapsed:.1f} s")


if __name__ == "__main__":
    main()
