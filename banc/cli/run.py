"""`banc jouer` (alias `run`), `banc executions` (alias `runs`), `banc preuve`, `banc couverture`.

`banc jouer SCENARIO --dui PROFIL --pilote manual|http|reference` plays a scenario against a
DUI. It attaches to the bench a `banc demarrer` is running (its configuration sheet: `--fiche`,
`BANC_FICHE`, or the last one written), or starts the simulators in this process for the run.
Exit codes (README « Codes de sortie »): 0 every requirement passed (or omitted), 1 a
requirement failed, was skipped or not evaluated, 4 manual proofs are awaited (nothing failed),
2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from banc.bench import BenchError, start_bench
from banc.cli import UsageError
from banc.cli.vocabulary import command, option
from banc.dui import DuiProfile, ProfileError
from banc.journal import Journal
from banc.scenario.drivers import DriverError, make_driver
from banc.scenario.model import Outcome
from banc.scenario.report import build, write_reports
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import RunStore
from banc.scenario.verdicts import coverage_matrix, registered_scenarios, requirement_verdicts
from banc.sheet import BenchSheet, SheetError, default_path

EXIT_FAILED, EXIT_AWAITING_PROOF = 1, 4


def register(subparsers: argparse._SubParsersAction) -> None:
    play = command(subparsers, "jouer", help="jouer un scénario contre un DUI et juger chaque exigence")
    play.add_argument("scenario", nargs="?", help="identifiant du scénario (banc jouer --liste)")
    play.add_argument("--dui", default="reference",
                      help="profil du DUI : fichier TOML, nom d'un DUI enregistré, ou « reference » (DUI de référence)")
    option(play, "--pilote", default="reference")
    play.add_argument("--defaut", action="append", default=[], metavar="NOM",
                      help="avec --pilote reference : faire commettre au DUI de référence une erreur "
                           "type (répétable ; liste : docs/reference-dui.md)")
    option(play, "--fiche", help="fiche de configuration du banc à utiliser (sinon celle du banc démarré)")
    play.add_argument("--reprendre", metavar="EXECUTION", help="reprendre une exécution (après une preuve manuelle)")
    option(play, "--sortie", default="out/executions", help="dossier des rapports (un sous-dossier par exécution)")
    play.add_argument("--delais", type=float, default=1.0,
                      help="multiplier les délais d'attente des échanges (ex. 3 pour un opérateur lent)")
    play.add_argument("--couverture", action="store_true", help="afficher aussi la matrice de couverture des exigences")
    play.add_argument("--liste", action="store_true", help="lister les scénarios disponibles")
    play.set_defaults(handler=_play)

    runs = command(subparsers, "executions", help="lister les exécutions de scénarios")
    option(runs, "--fiche")
    option(runs, "--journal", help="base du journal (au lieu de la fiche)")
    runs.set_defaults(handler=_runs)

    proof = subparsers.add_parser("preuve", help="joindre une preuve manuelle (capture, export) à une étape")
    proof.add_argument("execution", help="identifiant de l'exécution (banc executions)")
    proof.add_argument("etape", help="identifiant de l'étape qui attend la preuve")
    proof.add_argument("fichier", help="fichier de preuve (capture d'écran, export…)")
    proof.add_argument("--note", default="", help="commentaire de l'opérateur")
    option(proof, "--fiche")
    option(proof, "--journal", help="base du journal (au lieu de la fiche)")
    proof.set_defaults(handler=_proof)

    coverage = subparsers.add_parser("couverture", help="matrice de couverture des exigences DSR par les scénarios")
    coverage.set_defaults(handler=_coverage)


def open_journal(args: argparse.Namespace) -> Journal:
    """The journal named by --journal, else the one of the sheet (refusing a missing file)."""
    path = getattr(args, "journal", None)
    if not path:
        try:
            path = BenchSheet.load(args.fiche).journal
        except SheetError as exc:
            raise UsageError(str(exc)) from None
    if not Path(path).is_file():
        raise UsageError(f"base du journal introuvable : {path}")
    return Journal(path)


@contextlib.contextmanager
def bench_for_run(args: argparse.Namespace) -> Iterator[tuple[Journal, BenchSheet, dict]]:
    """Attach to the running bench (its sheet), or start one in this process for the run."""
    sheet_path = args.fiche or (default_path() if default_path().exists() else None)
    if sheet_path:
        try:
            sheet = BenchSheet.load(sheet_path)
        except SheetError as exc:
            raise UsageError(str(exc)) from None
        if sheet.alive() or args.fiche:
            print(f"Banc démarré utilisé : fiche {sheet_path}")
            yield Journal(sheet.journal), sheet, {}
            return
    print("Aucun banc démarré : démarrage des simulateurs pour cette exécution…")
    try:
        bench = start_bench(ports={} if args.pilote == "reference" else None, label="banc jouer")
    except BenchError as exc:
        raise UsageError(str(exc)) from None
    with bench:
        yield bench.journal, bench.sheet, bench.planes()


def resolve_profile(value: str, journal: Journal, sheet: BenchSheet, driver: object) -> DuiProfile:
    if value == "reference":
        default = getattr(driver, "default_profile", None)
        if default is None:
            raise UsageError("le profil « reference » ne se joue qu'avec --pilote reference")
        return default(sheet)
    if value.endswith(".toml") or Path(value).is_file():
        try:
            return DuiProfile.from_toml(value)
        except ProfileError as exc:
            raise UsageError(str(exc)) from None
    found = journal.dui(value)
    if found is None:
        known = ", ".join(p.name for p in journal.duis()) or "aucun"
        raise UsageError(f"DUI « {value} » inconnu (enregistrés : {known}) : donnez un profil TOML")
    return found


def register_everywhere(profile: DuiProfile, journal: Journal, sheet: BenchSheet, planes: dict) -> dict[str, object]:
    """Declare the DUI to the journal (attribution) and to every mock's control plane."""
    journal.register_dui(profile)
    done: dict[str, object] = {}
    for service in sheet.services():
        plane = planes.get(service) or sheet.control(service)
        done[service] = plane.register_dui(profile)
    return done


def _play(args: argparse.Namespace) -> int:
    scenarios = registered_scenarios()
    if args.liste or not args.scenario:
        for scenario in scenarios.values():
            print(f"{scenario.id:<28} {scenario.title} — {len(scenario.steps)} étapes — {scenario.profile}")
        if args.couverture:
            _print_coverage(scenarios.values())
        return 0 if args.liste or args.couverture else 2
    if args.scenario not in scenarios:
        raise UsageError(f"scénario « {args.scenario} » inconnu (disponibles : {', '.join(scenarios)})")
    scenario = scenarios[args.scenario]
    if args.defaut and args.pilote != "reference":
        raise UsageError("--defaut ne s'applique qu'au DUI de référence (--pilote reference)")
    try:
        driver = make_driver(args.pilote, **({"faults": tuple(args.defaut)} if args.defaut else {}))
    except (DriverError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    with bench_for_run(args) as (journal, sheet, planes):
        profile = resolve_profile(args.dui, journal, sheet, driver)
        register_everywhere(profile, journal, sheet, planes)
        runner = Runner(journal, sheet, driver, console=Console(), planes=planes, timeout_scale=args.delais)
        try:
            run = (runner.resume(scenario, args.reprendre, profile) if args.reprendre
                   else runner.play(scenario, profile))
        except DriverError as exc:
            raise UsageError(str(exc)) from None
        finally:
            driver.close()
        report = write_reports(build(run, journal, RunStore(journal)), Path(args.sortie) / run.id)
    verdicts = requirement_verdicts(run)
    print(f"\nExécution {run.id} — {run.status}. Verdict par exigence :")
    for verdict in verdicts:
        print(f"  {verdict.requirement:<16} {verdict.outcome}")
    print(f"Rapport : {report.resolve()} (et JSON, JUnit, fiche de référencement xlsx/csv à côté ; "
          f"paquet de preuves : banc rapport {run.id} --paquet)")
    if args.couverture:
        _print_coverage(scenarios.values())
    outcomes = {v.outcome for v in verdicts}
    if outcomes & {Outcome.FAILED, Outcome.NOT_EVALUATED, Outcome.SKIPPED}:
        return EXIT_FAILED
    return EXIT_AWAITING_PROOF if Outcome.AWAITING_PROOF in outcomes else 0


def _print_coverage(scenarios) -> None:
    rows = coverage_matrix(scenarios)
    print("\nMatrice de couverture des exigences :")
    for row in rows:
        where = f" ({', '.join(row.scenarios)})" if row.scenarios else ""
        print(f"  {row.requirement:<16} {row.level:<5} {row.coverage:<16}{where}")
    counts = {c: sum(r.coverage == c for r in rows) for c in {r.coverage for r in rows}}
    print("  " + ", ".join(f"{n} {c}" for c, n in sorted(counts.items())))


def _coverage(args: argparse.Namespace) -> int:
    _print_coverage(registered_scenarios().values())
    return 0


def _runs(args: argparse.Namespace) -> int:
    store = RunStore(open_journal(args))
    runs = store.list()
    if not runs:
        print("aucune exécution enregistrée")
    for run in runs:
        counts: dict[str, int] = {}
        for verdict in requirement_verdicts(run):
            counts[str(verdict.outcome)] = counts.get(str(verdict.outcome), 0) + 1
        summary = ", ".join(f"{n} {o}" for o, n in counts.items()) or "aucune exigence jugée"
        print(f"{run.id:<44} {run.dui:<18} {run.driver:<9} {run.status:<22} {summary}")
    return 0


def _proof(args: argparse.Namespace) -> int:
    journal = open_journal(args)
    store = RunStore(journal)
    run = store.get(args.execution)
    if run is None:
        raise UsageError(f"exécution « {args.execution} » introuvable")
    result = run.result(args.etape)
    if result is None or result.outcome not in (Outcome.AWAITING_PROOF, Outcome.PROOF_ATTACHED):
        waiting = [s.step for s in run.steps if s.outcome is Outcome.AWAITING_PROOF]
        raise UsageError(f"l'étape « {args.etape} » n'attend pas de preuve (en attente : {', '.join(waiting) or 'aucune'})")
    file = Path(args.fichier)
    if not file.is_file():
        raise UsageError(f"fichier de preuve introuvable : {file}")
    store.attach_proof(run.id, args.etape, file, args.note)
    print(f"preuve « {file.name} » jointe à l'étape {args.etape} ; reprenez l'exécution avec "
          f"banc jouer {run.scenario} --dui {run.dui} --reprendre {run.id}")
    return 0
