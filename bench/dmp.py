"""DMP mock benchmark: ITI-41 with a 1 MB CDA, FindDocuments as the store grows, bare baseline.

Prints, side by side: ITI-41 (p50/p99 latency, submissions/s, sequential client), ITI-18
FindDocuments for one patient (20 documents) when the store holds 100, 10 000 and 100 000
documents (seeded directly in SQLite: the point is the query's cost growth, not 100 000 SOAP
calls), and the bare endpoint of `bench/bare_endpoint.py` (same TLS server stack, no work).
Target: FindDocuments p50 at 100 000 documents within 2x of its p50 at 100.

Run: `.venv/bin/python bench/dmp.py [--iterations N]`
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_endpoint import serve_bare

from banc.journal import Journal
from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.dmp_mock import launch
from simulators.dmp_mock.app import DmpSettings
from simulators.dmp_mock.client import DmpClient, minimal_cda, soap_request, stored_query
from simulators.dmp_mock.models import Patient
from simulators.dmp_mock.seed import document_for
from simulators.dmp_mock.wire import FIND_DOCUMENTS

TARGET = Patient("275126322074974", "1.2.250.1.213.1.4.10", "ADRUN", "ZOE", "F", "19751231")
TARGET_DOCUMENTS = 20
ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(call, iterations: int) -> list[float]:
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def fill(store, total: int) -> None:
    """`total` documents: TARGET_DOCUMENTS for the target patient, the rest spread over others."""
    template = document_for(TARGET, 0)
    target = [document_for(TARGET, n) for n in range(TARGET_DOCUMENTS)]
    others = []
    for n in range(total - TARGET_DOCUMENTS):
        others.append(dataclasses.replace(
            template, entry_uuid=f"urn:uuid:{uuid.uuid4()}", unique_id=f"1.2.250.1.213.1.1.9.997.{n}",
            patient_ins=f"P{n % (total // 10 + 1):014d}", metadata=b"<ExtrinsicObject/>",
            content=b"x" * 200, creation_time=f"2023{n % 12 + 1:02d}01000000"))
    store.bulk_insert(target + others)


def bench_find(pki: TestPki, sizes: list[int], iterations: int) -> dict[int, tuple[float, float]]:
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            mock = launch(MockContext(journal=Journal(Path(folder) / "journal.sqlite"), pki=pki,
                                      data_dir=Path(folder)), settings=DmpSettings(validate_cda=False),
                          documents_per_patient=0)
            try:
                fill(mock.store, size)
                mock.authorize(TARGET.ins, "810000000001")
                client = DmpClient(mock.url, pki)
                query = stored_query(FIND_DOCUMENTS, {
                    "$XDSDocumentEntryPatientId": [f"{TARGET.ins}^^^&{TARGET.oid}&ISO^NH"],
                    "$XDSDocumentEntryStatus": ["urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"]})
                body = soap_request(ACTION, query, client.vihf(TARGET.ins), to=client.url(ACTION))
                headers = {"content-type": "application/soap+xml; charset=utf-8"}
                check = client.http.post(client.url(ACTION), content=body, headers=headers)
                found = len(re.findall(rb"<(?:\w+:)?ExtrinsicObject[ >]", check.content))
                assert found >= TARGET_DOCUMENTS, check.text[-800:]
                client.http.post(client.url(ACTION), content=body, headers=headers)  # warm-up
                url = client.url(ACTION)
                samples = timed(partial(client.http.post, url, content=body, headers=headers), iterations)
                results[size] = percentiles(samples)
                client.close()
            finally:
                mock.stop()
    return results


def bench_feed(pki: TestPki, iterations: int) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        mock = launch(MockContext(journal=Journal(Path(folder) / "journal.sqlite"), pki=pki,
                                  data_dir=Path(folder)), settings=DmpSettings(validate_cda=False),
                      documents_per_patient=0)
        try:
            client = DmpClient(mock.url, pki)
            documents = [minimal_cda(TARGET.ins, family="ADRUN", given="ZOE", text=f"doc {n}",
                                     padding=1024 * 1024) for n in range(iterations + 1)]
            client.provide(documents.pop(), TARGET.ins)  # warm-up
            samples = []
            started = time.perf_counter()
            for cda in documents:
                begin = time.perf_counter()
                fed = client.provide(cda, TARGET.ins)
                samples.append((time.perf_counter() - begin) * 1000)
                assert b"Success" in fed.response.content, fed.response.text[-800:]
            elapsed = time.perf_counter() - started
            client.close()
            server = [e.duration_ms for e in mock.exchanges() if e.operation == "TD2.1"][1:]
        finally:
            mock.stop()
    p50, p99 = percentiles(samples)
    return p50, p99, len(samples) / elapsed, statistics.median(server)


def bench_bare(pki: TestPki, iterations: int) -> tuple[float, float]:
    server = serve_bare(pki)
    try:
        with httpx.Client(verify=pki.client_context("dui")) as http:
            url = f"{server.url}/si-dmp-server/v2/services/registry"
            http.post(url, content=b"<x/>")
            return percentiles(timed(lambda: http.post(url, content=b"<x/>"), iterations))
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="requêtes par mesure (FindDocuments)")
    parser.add_argument("--feeds", type=int, default=40, help="alimentations ITI-41 de 1 Mo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pki = TestPki.ensure(Path(folder) / "pki")
        feed = bench_feed(pki, args.feeds)
        find = bench_find(pki, [100, 10_000, 100_000], args.iterations)
        bare = bench_bare(pki, args.iterations)
    print(f"{'mesure':<44}{'p50 (ms)':>10}{'p99 (ms)':>10}{'débit':>16}")
    print(f"{'ITI-41, CDA de 1 Mo (+ signature)':<44}{feed[0]:>10.1f}{feed[1]:>10.1f}{feed[2]:>12.1f} /s")
    print(f"{'  dont traitement serveur (journal, p50)':<44}{feed[3]:>10.1f}")
    for size, (p50, p99) in find.items():
        print(f"{f'ITI-18 FindDocuments, {size:>7} documents':<44}{p50:>10.1f}{p99:>10.1f}")
    print(f"{'point d’accès nu (TLS, même pile)':<44}{bare[0]:>10.1f}{bare[1]:>10.1f}")
    ratio = find[100_000][0] / find[100][0]
    print(f"\nFindDocuments p50 à 100 000 / à 100 documents : x{ratio:.2f} (objectif ≤ x2)")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
