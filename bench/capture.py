"""Recorder overhead: DMP ITI-41 (TD2.1) latency without and with `banc capture` in front.

The same DMP mock (TLS, client certificate, CDA validation off as in bench/dmp.py) is fed by
the bench's DMP client directly, then through a reverse-proxy recorder (its own process,
mutual TLS on both sides, every flow written to its capture file). Prints p50/p99 side by side
and the difference, then the offline cost: importing that capture (replay into a fresh mock,
journal write), start and stop of the replay mock included.

Run: `.venv/bin/python bench/capture.py [--iterations N] [--taille OCTETS]`
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from banc.capture.flows import read_capture
from banc.capture.process import RecorderProcess
from banc.capture.replay import ReplaySettings, import_capture
from banc.dui import DuiProfile
from banc.journal import Journal
from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.dmp_mock import launch
from simulators.dmp_mock.app import DmpSettings
from simulators.dmp_mock.client import DmpClient, minimal_cda

INS, FAMILY, GIVEN = "275126322074974", "ADRUN", "ZOE"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def feed(base_url: str, pki: TestPki, iterations: int, size: int) -> list[float]:
    """Sequential ITI-41 latencies (ms) against `base_url`, after one warm-up."""
    client = DmpClient(base_url, pki)
    documents = [minimal_cda(INS, family=FAMILY, given=GIVEN, text=f"doc {n}", padding=size)
                 for n in range(iterations + 1)]
    try:
        client.provide(documents.pop(), INS)
        samples = []
        for cda in documents:
            begin = time.perf_counter()
            fed = client.provide(cda, INS)
            samples.append((time.perf_counter() - begin) * 1000)
            assert b"Success" in fed.response.content, fed.response.text[-800:]
    finally:
        client.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--taille", type=int, default=100 * 1024, help="padding of each CDA (bytes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pki = TestPki.ensure(root / "pki")
        mock = launch(MockContext(journal=Journal(root / "journal.sqlite"), pki=pki, data_dir=root),
                      settings=DmpSettings(validate_cda=False), documents_per_patient=0)
        try:
            direct = feed(mock.url, pki, args.iterations, args.taille)
            with RecorderProcess(["--ecoute", "0", "--amont", mock.url, "--pki", str(pki.directory),
                                  "--sortie", str(root / "captures"), "--certificat-client",
                                  str(pki.cert("dui")), "--cle-client", str(pki.key("dui"))]) as recorder:
                recorded = feed(recorder.url, pki, args.iterations, args.taille)
        finally:
            mock.stop()
        captured = read_capture(recorder.capture_file)
        profile = DuiProfile(name="bench", client_certificates=(pki.cert("dui").read_text(),))
        began = time.perf_counter()
        imported = import_capture(captured, Journal(root / "import.sqlite"), profile,
                                  ReplaySettings(pki=pki, mock_settings={"dmp": {"validate_cda": False}}))
        import_s = time.perf_counter() - began
    (d50, d99), (r50, r99) = percentiles(direct), percentiles(recorded)
    print(f"DMP ITI-41, CDA de {args.taille // 1024} Ko, {args.iterations} envois séquentiels")
    print(f"{'':24}{'p50 (ms)':>10}{'p99 (ms)':>10}")
    print(f"{'sans enregistreur':24}{d50:>10.1f}{d99:>10.1f}")
    print(f"{'avec enregistreur':24}{r50:>10.1f}{r99:>10.1f}")
    print(f"{'surcoût':24}{r50 - d50:>+10.1f}{r99 - d99:>+10.1f}   ({(r50 / d50 - 1) * 100:+.0f} % au p50)")
    print(f"import hors ligne : {len(imported)} échanges en {import_s:.1f} s, démarrage et arrêt du "
          "simulateur de rejeu compris (l'arrêt attend la compilation des règles CDA lancée à son "
          "démarrage)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
