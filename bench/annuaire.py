"""Annuaire mock: searches per second over 10 000 and 100 000 practitioners, side by side.

Measures the store (SQLite indexes, FTS5 trigram for :contains) and the whole HTTPS path
(httpx keep-alive client → TLS → Starlette → store → Bundle), for `identifier` and
`mailbox-mss:contains`. Run: `.venv/bin/python bench/annuaire.py [--sizes 10000 100000]`.
"""

from __future__ import annotations

import argparse
import random
import ssl
import tempfile
import time
from pathlib import Path

import httpx

from banc.directory import build_directory
from banc.journal import Journal
from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.annuaire_mock import DEFAULT_API_KEY, RunningAnnuaire, open_store
from simulators.annuaire_mock.models import Criterion, Query


def rate(calls: list, seconds: float = 2.0) -> tuple[float, float]:
    """(calls per wall-clock second, calls per CPU second of this process), cycling through
    `calls` for about `seconds`. The CPU figure is what the code costs on an idle core: it
    stays meaningful when other jobs share the machine (the server runs in this process)."""
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        calls[done % len(calls)]()
        done += 1
    return done / (time.perf_counter() - started), done / max(time.process_time() - cpu, 1e-9)


def measure(size: int, workdir: Path, pki: TestPki) -> dict[str, float]:
    figures: dict[str, float] = {}

    def record(name: str, rates: tuple[float, float]) -> None:
        figures[f"{name} /s"] = rates[0]
        figures[f"{name} /s CPU"] = rates[1]

    started = time.process_time()
    directory = build_directory(20240101, size)
    figures["build directory (CPU s)"] = time.process_time() - started
    context = MockContext(journal=Journal(workdir / f"journal-{size}.sqlite"), pki=pki,
                          data_dir=workdir / f"data-{size}")
    started = time.process_time()
    store = open_store(context, directory, validate=False)
    figures["load store (CPU s)"] = time.process_time() - started
    rng = random.Random(size)
    people = rng.sample([p for p in directory.professionals if p.mailbox], 500)
    fragments = [p.mailbox.address.split("@")[0].split(".")[-1][:6] for p in people]

    def query(param: str, modifier: str, value: str) -> Query:
        return Query("Practitioner", (Criterion(param, modifier, (value,)),))

    record("store identifier", rate(
        [lambda p=p: store.search(query("identifier", "", p.rpps)) for p in people]))
    record("store mailbox-mss:contains", rate(
        [lambda f=f: store.search(query("mailbox-mss", "contains", f)) for f in fragments]))
    record("store contains @domain", rate(
        [lambda: store.search(query("mailbox-mss", "contains", "@infirmier.mssante.fr"))], 1.0))
    mock = RunningAnnuaire(context, directory)
    try:
        tls = ssl.create_default_context(cafile=str(pki.ca_cert))
        with httpx.Client(base_url=mock.base_url, verify=tls,
                          headers={"ESANTE-API-KEY": DEFAULT_API_KEY}) as client:
            record("HTTPS identifier", rate(
                [lambda p=p: client.get("/Practitioner", params={"identifier": p.rpps})
                 for p in people]))
            record("HTTPS mailbox-mss:contains", rate(
                [lambda f=f: client.get("/Practitioner", params={"mailbox-mss:contains": f})
                 for f in fragments]))
    finally:
        mock.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-annuaire-") as tmp:
        workdir = Path(tmp)
        pki = TestPki.ensure(workdir / "pki")
        results = {size: measure(size, workdir, pki) for size in args.sizes}
    names = list(next(iter(results.values())))
    print(f"{'praticiens':<32}" + "".join(f"{size:>14,}" for size in results))
    for name in names:
        print(f"{name:<32}" + "".join(f"{results[size][name]:>14.1f}" for size in results))


if __name__ == "__main__":
    main()
