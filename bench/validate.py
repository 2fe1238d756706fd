"""Where the time of `banc validate` goes, side by side in one run.

1. Compile time per rule set: first process (empty cache: schematron → XSLT + Saxon compile)
   and second process (XSLT cached on disk: Saxon compile only; SaxonC-HE cannot reload a
   compiled stylesheet, so this is the floor without the warm service).
2. A second `banc validate` command: through the warm service vs. in its own process.
3. Warm per-document time, full stack (XSD + StrucMin + 3 profiles + volet + our rules),
   for the DLU, VSM and LDL-SES examples: min / median / max, and per rule set medians.
4. Batch throughput on 1 core and on all cores (processes, after warm-up).

Run: `.venv/bin/python bench/validate.py [--runs 20]`. Uses a temporary cache for 1.
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
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from banc.cda.package import find_package

DOCS = ("DLU-EHPAD-DLU_2022.01.xml", "VSM_1.4_2022.01.xml", "LDL-SES_2022.01.xml")


def _child_compile() -> None:
    from banc.cda.engine import Engine

    engine = Engine()
    start = time.perf_counter()
    engine.warm(["CI-SIS_DLU-EHPAD-DLU_2022.01", "CI-SIS_VSM_1.4_2022.01", "CI-SIS_LDL-SES_2022.01"])
    times = dict(engine.compile_times, total=time.perf_counter() - start)
    print(json.dumps(times))


def _compile_runs() -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory(prefix="banc-bench-") as home:
        env = dict(os.environ, BANC_HOME=home)
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, __file__, "--child-compile"], env=env, capture_output=True, text=True, check=True
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
    return runs[0], runs[1]


def _cli_runs(path: Path) -> tuple[float, float]:
    banc = [sys.executable, "-m", "banc", "validate"]
    subprocess.run([*banc, str(path)], capture_output=True)  # make sure the service is up and warm
    start = time.perf_counter()
    subprocess.run([*banc, str(path)], capture_output=True)
    service = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([*banc, "--sur-place", str(path)], capture_output=True)
    return service, time.perf_counter() - start


_engine = None


def _init(volets: list[str]) -> None:
    global _engine
    from banc.cda.engine import Engine

    _engine = Engine().warm(volets)


def _one(path: str) -> bool:
    return _engine.validate(Path(path)).conform


def _volets(files: list[Path]) -> list[str]:
    from lxml import etree

    from banc.cda.rulesets import Header, choose_volet, volet_table

    known = {row.schematron for row in volet_table()}
    found = {choose_volet(Header.of(etree.parse(str(f)).getroot()), known).schematron for f in files}
    return sorted(v for v in found if v)


def _throughput(files: list[Path], workers: int) -> float:
    """Documents per second once every worker has compiled everything the batch needs."""
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(_volets(files),)) as pool:
        list(pool.map(_one, [str(f) for f in files[:workers] * 4]))  # wait for every worker's warm-up
        start = time.perf_counter()
        list(pool.map(_one, [str(f) for f in files]))
        return len(files) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--child-compile", action="store_true")
    args = parser.parse_args()
    if args.child_compile:
        _child_compile()
        return
    from banc.cda.engine import Engine

    package = find_package()
    examples = {p.name: p for p in package.examples}
    print("== 1. Compilation par jeu de règles (s) : 1er processus (cache vide) | 2e processus (cache disque)")
    first, second = _compile_runs()
    for name in first:
        print(f"  {name:<34} {first[name]:8.2f} | {second.get(name, float('nan')):8.2f}")
    print("== 2. Une seconde commande `banc validate` (1 document, s)")
    service, alone = _cli_runs(examples["VSM_1.4_2022.01.xml"])
    print(f"  via le service chaud : {service:6.2f}   |   dans son propre processus : {alone:6.2f}")
    print(f"   (charge de la machine : {os.getloadavg()[0]:.1f} sur {os.cpu_count()} cœurs)")
    print(f"== 3. Temps par document, moteur chaud, pile complète ({args.runs} passages, ms)")
    engine = Engine(package).warm([])
    for name in DOCS:
        data = examples[name].read_bytes()
        engine.validate(data)
        totals, cpu, per = [], [], {}
        for _ in range(args.runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            verdict = engine.validate(data, subject=name)
            totals.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            for key, value in verdict.details["timings_ms"].items():
                per.setdefault(key, []).append(value)
        medians = ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in per.items())
        print(f"  {name:<28} min {min(totals):6.0f}  médiane {statistics.median(totals):6.0f}  "
              f"max {max(totals):6.0f}  (CPU médiane {statistics.median(cpu):4.0f})   [{medians}]")
    cores = os.cpu_count() or 1
    batch = list(examples.values()) * 3
    print(f"== 4. Débit d'un lot ({len(batch)} documents, docs/s, après chauffe)")
    one = _throughput(batch, 1)
    many = _throughput(batch, cores) if cores > 1 else one
    print(f"  1 processus : {one:6.1f}   |   {cores} processus : {many:6.1f}   (x{many / one:.2f})")


if __name__ == "__main__":
    main()
