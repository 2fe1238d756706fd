"""`banc demo`: the demonstration run, as a list of steps, ending in an HTML report.

The steps validate the official ANS examples and the TDDUI example, then start every registered
simulator and play every registered scenario (entry points `banc.simulators` and
`banc.scenarios`: `banc` imports neither package). Each step returns verdicts; the report shows
every step's narrative and verdicts, with the documents rendered beside them.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from banc.cli import UsageError
from banc.cli.vocabulary import option
from banc.paths import reference_path
from banc.report import to_html, to_json, to_junit_xml
from banc.verdict import Finding, Verdict


@dataclass
class DemoContext:
    out: Path
    validate: Callable[..., Verdict]
    documents: dict[str, Path]
    """Subject → file, so the report can render what was validated."""


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
    verdicts: list[Verdict] = []
    with start_bench(data_dir=work, journal_path=context.out / "journal.sqlite", ports={},
                     label="démonstration") as bench:
        profile = driver.default_profile(bench.sheet)  # type: ignore[attr-defined]
        register_everywhere(profile, bench.journal, bench.sheet, bench.planes())
        runner = Runner(bench.journal, bench.sheet, driver, console=Console(), planes=bench.planes())
        store = RunStore(bench.journal)
        for scenario in scenarios.values():
            run = runner.play(scenario, profile)
            write_reports(build(run, bench.journal, store), context.out / "executions" / run.id)
            verdicts += [_step_verdict(scenario.title, result) for result in run.steps]
        driver.close()
        print(f"journal des échanges : {os.path.abspath(bench.journal.path)} (banc journal --journal … liste)")
    return verdicts


def _step_verdict(title: str, result) -> Verdict:
    """A scenario step as a verdict of the demo report: only a passed step is conform."""
    from banc.scenario.model import Outcome
    from banc.verdict import NotEvaluated

    verdict = Verdict(f"{title} — {result.title}", list(result.findings), details={
        "résultat": str(result.outcome), "exigences": list(result.requirements),
        "échanges": [f"journal:{e}" for e in result.evidence]})
    if result.outcome is Outcome.FAILED and verdict.conform:
        verdict.findings.append(Finding("SCN.ECHEC", result.reason, requirements=result.requirements))
    elif result.outcome is not Outcome.PASSED and result.outcome is not Outcome.FAILED:
        verdict.not_evaluated.append(NotEvaluated("scénario", f"{result.outcome} : {result.reason}"))
    return verdict


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
        "executions/.",
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
    context = DemoContext(out, _backend(package, args.in_process), {})
    verdicts: list[Verdict] = []
    narrative: list[tuple[str, str]] = []
    for number, step in enumerate(STEPS, 1):
        print(f"étape {number}/{len(STEPS)} : {step.title}")
        results = step.run(context)
        verdicts.extend(results)
        conform = sum(v.conform for v in results)
        narrative.append((f"Étape {number} — {step.title}", f"{step.text} Résultat : {conform}/{len(results)} conforme(s)."))
        print(f"  {conform}/{len(results)} conforme(s)")
        for verdict in results:
            if not verdict.conform and step.run is _scenarios:
                print(f"  NON CONFORME : {verdict.subject} — {verdict.errors[0].message}")
    report = out / "rapport.html"
    report.write_text(
        to_html(
            verdicts,
            title="Banc Ségur — démonstration",
            steps=narrative,
            render=lambda v: render_html(context.documents[v.subject]) if v.subject in context.documents else None,
        ),
        encoding="utf-8",
    )
    (out / "rapport.json").write_text(to_json(verdicts), encoding="utf-8")
    (out / "rapport.junit.xml").write_text(to_junit_xml(verdicts), encoding="utf-8")
    print(f"rapport : {os.path.abspath(report)}")
    from banc.cli.service import notice

    if not args.in_process and (ending := notice()):
        print(ending)
    return 0
