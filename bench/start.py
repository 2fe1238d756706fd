"""How long `start_bench` (`banc demarrer`, `banc jouer`, tests, notebooks) takes, side by side.

Each start runs in a new process (as a command does), on ephemeral ports, with a PKI made
beforehand (its generation is not what is measured). For each, three times from the call:
`start_bench` returned (the mocks listen), validation ready, and first CDA verdict (a document
handed to the mocks' validation at once, so it waits for the start-up when it is not over);
plus the bench process's memory once the verdict is in.

1. cold: no validation service running for this code (the script stops it first): the
   service is started and compiles the rule sets in its own process;
2. warm: a second start, the service running: nothing to compile;
3. in-process (`BANC_VALIDATION=processus`, the former path): the engine compiles in the
   bench process itself.

Run: `.venv/bin/python bench/start.py [--runs 3]`. Leaves the validation service running
(it stops after 30 min without a request, or `banc service arreter`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's code, not another installed copy's
    sys.path.insert(0, str(ROOT))

from banc.pki import TestPki  # noqa: E402


def _rss_mb() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return -1


def _child(mode: str, pki_dir: str) -> None:
    """One start in this process; prints its figures as JSON."""
    began = time.perf_counter()
    from banc.bench import start_bench
    from banc.population import cnam_test_identities
    from banc.xml import parse_untrusted
    from simulators.dmp_mock.client import minimal_cda

    imported = time.perf_counter() - began
    root = parse_untrusted(minimal_cda(cnam_test_identities()[1].ins))
    with tempfile.TemporaryDirectory(prefix="banc-start-") as data:
        began = time.perf_counter()
        bench = start_bench(data_dir=Path(data), pki_dir=Path(pki_dir), ports={}, validation=mode)
        started = time.perf_counter() - began
        ready_at_return = bench.validation.ready.is_set()
        verdict = bench.validation.validate_root(root, subject="premier")
        judged = time.perf_counter() - began
        figures = {
            "import": imported, "start": started, "ready_at_return": ready_at_return,
            "ready": bench.validation.prepared_seconds, "first_verdict": judged,
            "findings": len(verdict.findings), "where": bench.validation.where,
            "started_service": bench.validation.started_service, "rss_mb": _rss_mb(),
        }
        bench.stop()
    print(json.dumps(figures))


def _run(mode: str, pki_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(pki_dir)],
                         capture_output=True, text=True, check=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def _stop_service() -> None:
    from banc.cda.package import find_package
    from banc.cda.service import Client

    Client(find_package()).stop()


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="starts per case (medians shown)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PKI"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="banc-start-pki-") as folder:
        pki_dir = Path(folder)
        TestPki.ensure(pki_dir, server_names=("localhost",))
        cases: dict[str, list[dict]] = {}
        cold = []
        for _ in range(args.runs):
            _stop_service()
            cold.append(_run("service", pki_dir))
        cases["1. cold (service started)"] = cold
        cases["2. warm (service reused)"] = [_run("service", pki_dir) for _ in range(args.runs)]
        cases["3. in-process (former path)"] = [_run("processus", pki_dir) for _ in range(args.runs)]
    print(f"start_bench, all five mocks, {args.runs} run(s) per case (median), seconds from the call")
    print(f"{'case':<30} {'returned':>9} {'ready':>7} {'1st verdict':>12} {'bench RSS':>10}  validated in")
    for name, runs in cases.items():
        where = ", ".join(sorted({r["where"] + (" (started)" if r["started_service"] else "") for r in runs}))
        waited = "" if not any(r["ready_at_return"] for r in runs) else "  (ready at return)"
        print(f"{name:<30} {_median(runs, 'start'):>9.1f} {_median(runs, 'ready'):>7.1f} "
              f"{_median(runs, 'first_verdict'):>12.1f} {_median(runs, 'rss_mb'):>7.0f} MB  {where}{waited}")
    print(f"(imports before the call: {statistics.median(r['import'] for rs in cases.values() for r in rs):.1f} s; "
          "'ready' counts from the mocks' start, inside the call)")


if __name__ == "__main__":
    main()
