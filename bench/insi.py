"""INSi mock throughput and latency, side by side with a bare endpoint on the same stack.

    .venv/bin/python bench/insi.py [--seconds 5] [--clients 1 16]

The servers (the INSi mock with its journal, and `bench/bare_endpoint.py`) run in a separate
process so that the client's work does not share their interpreter; the client is httpx
(async, HTTP/1.1 keep-alive, client certificate INSI-AUTO). The figure is the ratio of the
mock's requests/s to the bare endpoint's (target ≥ 0.5); rounds alternate between the two
and the best of each is kept, so a busy machine does not favour one side.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_endpoint import serve_bare

from banc.cli.insi import ACTION_TRAITS, CONTENT_TYPE, build_traits_request
from banc.pki import TestPki


def _servers(directory: str, ready: mp.Queue, stop: mp.Event) -> None:
    from banc.journal import Journal
    from banc.mocks import MockContext
    from simulators.insi_mock import launch

    pki = TestPki.ensure(Path(directory) / "pki")
    context = MockContext(journal=Journal(Path(directory) / "journal.sqlite"), pki=pki,
                          data_dir=Path(directory))
    mock = launch(context, generated=1000)
    bare = serve_bare(pki)
    ready.put({"insi": mock.url, "bare": f"{bare.url}/lps"})
    stop.wait()
    mock.stop()
    bare.stop()


async def _load(url: str, pki: TestPki, clients: int, seconds: float) -> list[float]:
    request = build_traits_request("ADRTROIS", "DOMINIQUE", "F", "1997-02-26", "2A020")
    headers = {"Content-Type": CONTENT_TYPE.format(action=ACTION_TRAITS)}
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(verify=pki.client_context("insi-auto"), limits=limits) as client:
        warm = [client.post(url, content=request, headers=headers) for _ in range(clients)]
        for response in await asyncio.gather(*warm):  # open every connection (TLS) first
            response.raise_for_status()
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post(url, content=request, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or b"<CodeCR>00</CodeCR>" not in response.content:
                    raise RuntimeError(f"réponse inattendue {response.status_code}")

        await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(url: str, pki: TestPki, clients: int, seconds: float) -> tuple[float, ...]:
    """(req/s, p50 ms, p99 ms, client CPU share): a client CPU near 1.0 means the figure is
    bounded by the client, not by the server."""
    cpu, started = _cpu_seconds(), time.perf_counter()
    latencies = asyncio.run(_load(url, pki, clients, seconds))
    client_cpu = (_cpu_seconds() - cpu) / (time.perf_counter() - started)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(latencies) / seconds, statistics.median(ordered) * 1000, p99 * 1000, client_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--rounds", type=int, default=5, help="mesures alternées ; la meilleure est gardée")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pki = TestPki.ensure(Path(directory) / "pki")
        ready: mp.Queue = mp.get_context("spawn").Queue()
        stop = mp.get_context("spawn").Event()
        process = mp.get_context("spawn").Process(target=_servers, args=(directory, ready, stop))
        process.start()
        try:
            urls = ready.get(timeout=120)
            print(f"{'clients':>7} {'service':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU client':>10}")
            for clients in args.clients:
                best: dict[str, tuple[float, ...]] = {}
                for _ in range(args.rounds):  # alternate, so a busy machine hurts both alike
                    for name in ("bare", "insi"):
                        figures = _measure(urls[name], pki, clients, args.seconds)
                        if name not in best or figures[0] > best[name][0]:
                            best[name] = figures
                for name, (rate, p50, p99, cpu) in best.items():
                    print(f"{clients:>7} {name:>8} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f} {cpu:>10.2f}")
                ratio = best["insi"][0] / best["bare"][0]
                print(f"{clients:>7} {'ratio':>8} {ratio:>9.2f}  (INSi / nu)")
        finally:
            stop.set()
            process.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
