"""`banc demo`: the demonstration run, as a list of steps, ending in an HTML report.

The steps validate the official ANS examples and the TDDUI example, then start every registered
simulator and play every registered scenario (entry points `banc.simulators` and
`banc.scenarios`: `banc` imports neither package). Document steps return verdicts, shown with
the reason of each (the official examples are not home-care documents: why each one is not
conform is said on its line); scenario runs get their own reports under `executions/`, linked
from the demo's report and never counted as documents.

Exit codes (README « Codes de sortie »): 0 every scenario run against the reference DUI is
conform and every example was judged; 1 a scenario run is not conform (or none could be
played); 3 the validator failed on an example; 2 usage error (no ANS package).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from banc.cli import UsageError
from banc.cli.vocabulary import option
from banc.paths import reference_path
from banc.report import is_internal_error, is_official, to_html, to_json, to_junit_xml, why
from banc.verdict import Finding, Verdict

EXIT_RUN_NOT_CONFORM, EXIT_VALIDATOR_FAILED = 1, 3


@dataclass(frozen=True)
class RunSummary:
    """A scenario run of the demo, as its report line: where its own reports are."""

    run_id: str
    title: str
    conform: bool
    counts: dict[str, int]
    report: Path


@dataclass
class DemoContext:
    out: Path
    validate: Callable[..., Verdict]
    documents: dict[str, Path]
    """Subject → file, so the report can render what was validated."""
    runs: list[RunSummary]


@dataclass(frozen=True)
class DemoStep:
    title: str
    text: str
    run: Callable[[DemoContext], list[Verdict]]


def _validate_files(context: DemoContext, files: list[Path]) -> list[Verdict]:
    verdicts = []
    for path in files:
        context.documents[path.name] = path
        verdicts.append(context.validate(path.read_bytes(), subject=path.name))
    return verdicts


def _official_examples(context: DemoContext) -> list[Verdict]:
    from banc.cda.package import find_package

    return _validate_files(context, find_package().examples)


def _tddui_example(context: DemoContext) -> list[Verdict]:
    folder = reference_path("tddui")
    return _validate_files(context, sorted(folder.glob("*.xml")) if folder else [])


def _scenarios(context: DemoContext) -> list[Verdict]:
    """Start the simulators on ephemeral ports with fresh data, play every registered scenario
    against the reference DUI (driver `reference`), write each run's report, stop."""
    from banc.bench import start_bench
    from banc.cli.run import register_everywhere
    from banc.scenario.drivers import DriverError, make_driver
    from banc.scenario.report import build, write_reports
    from banc.scenario.runner import Console, Runner
    from banc.scenario.runs import RunStore
    from banc.scenario.verdicts import registered_scenarios

    scenarios = registered_scenarios()
    if not scenarios:
        return [Verdict("Scénarios", [Finding(
            "DEMO.SCENARIOS", "aucun scénario installé (pip install -e . depuis le dépôt)")])]
    try:
        driver = make_driver("reference")
    except DriverError as exc:
        return [Verdict("Scénarios", [Finding("DEMO.PILOTE", str(exc))])]
    work = context.out / "simulateurs"
    shutil.rmtree(work, ignore_errors=True)
    for stale in context.out.glob("journal.sqlite*"):
        stale.unlink()
    with start_bench(data_dir=work, journal_path=context.out / "journal.sqlite", ports={},
                     label="démonstration") as bench:
        profile = driver.default_profile(bench.sheet)  # type: ignore[attr-defined]
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(), planes=bench.planes())
        store = RunStore(bench.journal)
        for scenario in scenarios.values():
            run = runner.play(scenario, profile)
            report = build(run, bench.journal, store)
            path = write_reports(report, context.out / "executions" / run.id)
            context.runs.append(RunSummary(run.id, scenario.title, report.conform, report.counts(), path))
        driver.close()
        print(f"journal des échanges : {os.path.abspath(bench.journal.path)} (banc journal --journal … liste)")
    return []


def _runs_html(out: Path, runs: list[RunSummary]) -> str:
    """The table of the scenario runs, each linked to its own report."""
    if not runs:
        return ""
    esc = html.escape
    rows = "".join(
        f"<tr><td><a href='{esc(r.report.relative_to(out).as_posix())}'>{esc(r.title)}</a><br>"
        f"<small>{esc(r.run_id)}</small></td><td><span class='{'ok' if r.conform else 'ko'}'>"
        f"{'conforme' if r.conform else 'non conforme'}</span></td>"
        f"<td>{esc(', '.join(f'{n} {c}' for c, n in r.counts.items() if n))}</td></tr>" for r in runs)
    return ("<h2>Exécutions des scénarios</h2><p>Chaque exécution a son propre rapport (exigences, diagrammes "
            "de séquence, messages, constats), sa fiche de référencement et son JUnit dans executions/.</p>"
            "<table><tr><th>Scénario</th><th>Verdict</th><th>Exigences du catalogue</th></tr>" + rows + "</table>")


def official_reasons() -> Callable[[Verdict], str]:
    """The "why" of each example, completed by what the official ANS pipeline reports on the
    same example (reference `official-verdicts.json`, when present): an official rule set that
    fails here is compared with the official run of the same rules."""
    oracle_path = reference_path("official-verdicts.json")
    oracle = json.loads(oracle_path.read_text(encoding="utf-8")) if oracle_path else {}

    def reason(verdict: Verdict) -> str:
        text = why(verdict)
        known = oracle.get(Path(verdict.subject).name)
        if known and any(is_official(f.ruleset) for f in verdict.errors):
            official = {name: len(errors) for name, errors in known["errors"].items() if errors}
            text += (" ; la chaîne officielle de l'ANS relève sur cet exemple : "
                     + (", ".join(f"{n} erreur(s) {name}" for name, n in official.items()) or "aucune erreur"))
        return text

    return reason


STEPS: list[DemoStep] = [
    DemoStep(
        "Exemples officiels de l'ANS",
        "Chaque exemple du paquet TestContenuCDA est validé : XSD, schématrons officiels (StrucMin, "
        "profils, volet choisi d'après l'en-tête) et règles DSR du banc. Ces exemples ne sont pas des "
        "documents de DUI à domicile : la plupart ne nomment pas leurs destinataires "
        "(informationRecipient), ce que le DSR exige (SC.DOC.04.MS1), et ceux que l'ANS sait en "
        "échec sur ses propres règles (IMG, IHE…) le restent. Un validateur qui les déclarerait "
        "tous conformes se tromperait.",
        _official_examples,
    ),
    DemoStep(
        "Export DUI (TDDUI)",
        "L'exemple public d'export du DUI médico-social est validé avec les profils officiels et "
        "les règles du banc (le volet TDDUI n'a pas encore de schématron officiel).",
        _tddui_example,
    ),
    DemoStep(
        "Scénarios joués par le DUI de référence",
        "Les cinq simulateurs démarrent (Pro Santé Connect, Annuaire Santé, INSi, DMP, MSSanté) et "
        "le DUI de référence du banc, piloté par le protocole de pilotage publié, joue chaque "
        "scénario enregistré (tour des services, qualification de l'INS). Chaque étape est jugée "
        "d'après les échanges enregistrés au journal ; le rapport de chaque exécution est dans "
        "executions/ (tableau ci-dessous).",
        _scenarios,
    ),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="démonstration : valider les exemples et écrire un rapport HTML")
    option(parser, "--sortie", default="out/demo", help="dossier du rapport (out/demo par défaut)")
    parser.add_argument("--sur-place", dest="in_process", action="store_true",
                        help="valider dans ce processus, sans le service de validation local")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from banc.cda.package import PackageError, find_package
    from banc.cda.render import render_html
    from banc.cli.validate import _backend

    try:
        package = find_package()
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.sortie)
    out.mkdir(parents=True, exist_ok=True)
    context = DemoContext(out, _backend(package, args.in_process), {}, [])
    verdicts: list[Verdict] = []
    narrative: list[tuple[str, str]] = []
    for number, step in enumerate(STEPS, 1):
        print(f"étape {number}/{len(STEPS)} : {step.title}")
        results = step.run(context)
        verdicts.extend(results)
        if step.run is _scenarios:
            conform = sum(r.conform for r in context.runs)
            outcome = f"{conform}/{len(context.runs)} exécution(s) conforme(s)"
        else:
            outcome = f"{sum(v.conform for v in results)}/{len(results)} document(s) conforme(s)"
        narrative.append((f"Étape {number} — {step.title}", f"{step.text} Résultat : {outcome}."))
        print(f"  {outcome}")
    for summary in context.runs:
        if not summary.conform:
            print(f"  NON CONFORME : {summary.title} — rapport {summary.report}")
    report = out / "rapport.html"
    report.write_text(
        to_html(
            verdicts,
            title="Banc Ségur — démonstration",
            steps=narrative,
            render=lambda v: render_html(context.documents[v.subject]) if v.subject in context.documents else None,
            reason=official_reasons(),
            extra=_runs_html(out, context.runs),
        ),
        encoding="utf-8",
    )
    (out / "rapport.json").write_text(to_json(verdicts), encoding="utf-8")
    (out / "rapport.junit.xml").write_text(to_junit_xml(verdicts), encoding="utf-8")
    print(f"rapport : {os.path.abspath(report)}")
    from banc.cli.service import notice

    if not args.in_process and (ending := notice()):
        print(ending)
    if any(is_internal_error(v) for v in verdicts):
        return EXIT_VALIDATOR_FAILED
    played = context.runs and all(r.conform for r in context.runs)
    return 0 if played and not any(v.subject == "Scénarios" for v in verdicts) else EXIT_RUN_NOT_CONFORM
