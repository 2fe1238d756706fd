"""The notebooks' side of the bench: attach or start, play a scenario, show what was observed.

A notebook is the interface trainers and QA teams use: it must run top to bottom unattended
(nbval in `make test`, papermill with parameters) and still read well as a static HTML export.
So everything shown is plain HTML or SVG built from the journal — no widget is needed to read
a run — and a failed requirement ends the notebook with a French message naming the
requirement and the step (`ScenarioFailed`), never a bare `assert` or a coloured traceback.
"""

from __future__ import annotations

import atexit
import html
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from banc.bench import RunningBench, start_bench
from banc.dui import DuiProfile
from banc.journal import Exchange, Journal
from banc.requirements import catalogue, describe
from banc.scenario.drivers import make_driver
from banc.scenario.model import Outcome, Scenario, fill, kind_of
from banc.scenario.report import REPORT_FILES, RunReport, build, write_reports
from banc.scenario.report.html import STYLE, step_section
from banc.scenario.report.messages import request_parts, response_parts
from banc.scenario.report.model import StepView
from banc.scenario.report.sequence import sequence_svg
from banc.scenario.runner import Console, Runner
from banc.scenario.runs import Run, RunStore, StepResult
from banc.scenario.verdicts import registered_scenarios, requirement_verdicts
from banc.sheet import BenchSheet, SheetError, default_path
from banc.verdict import Verdict

_TABLE = ("<style>table.banc th,table.banc td{text-align:left;vertical-align:top;padding:.2em .5em}"
          "table.banc{border-collapse:collapse}table.banc tr{border-bottom:1px solid #ddd}</style>")
"""Jupyter's own stylesheet right-aligns table cells; the notebooks' tables read left to right."""
_SEQUENCE_STYLE = "".join(line for line in STYLE.splitlines() if line.startswith(".sequence"))
"""The diagram's own rules of the report's stylesheet (all scoped to `.sequence`)."""
_COLOURS = {Outcome.PASSED: "#1b7f3b", Outcome.FAILED: "#b3261e", Outcome.AWAITING_PROOF: "#8a5a00",
            Outcome.PROOF_ATTACHED: "#8a5a00"}


class NotebookCheckFailed(Exception):
    """What a notebook checked is not as expected: its last cell raises it.

    IPython shows `_render_traceback_` instead of a traceback, so nbval, papermill and the
    HTML export all show the French lines alone (no Python frames, no ANSI colour codes)."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)

    def _render_traceback_(self) -> list[str]:
        return self.lines


class ScenarioFailed(NotebookCheckFailed):
    """A scenario run with a failed requirement."""


class ValidationUnexpected(NotebookCheckFailed):
    """A document's verdict is not the one the notebook's parameter expects."""


def expect_verdict(verdict: Verdict, expected: str | None) -> str:
    """The validator notebook's last cell: `expected` is "conforme", "non conforme" or None
    (nothing expected: the verdict is only shown)."""
    said = "conforme" if verdict.conform else "non conforme"
    if expected is None or expected == said:
        return f"{verdict.subject} : {said}" + (" (attendu)" if expected else "")
    if expected not in ("conforme", "non conforme"):
        raise ValidationUnexpected([f"ATTENDU vaut « {expected} » : « conforme », « non conforme » ou None"])
    lines = [f"{verdict.subject} : {said}, alors que « {expected} » était attendu."]
    for finding in verdict.errors[:20]:
        cited = f" [{', '.join(finding.requirements)}]" if finding.requirements else ""
        lines.append(f"- {finding.ruleset} / {finding.rule_id}{cited} : {finding.message}")
    if not verdict.errors and verdict.not_evaluated:
        lines += [f"- non évalué ({item.ruleset}) : {item.reason}" for item in verdict.not_evaluated]
    raise ValidationUnexpected(lines)


@dataclass
class PlayedRun:
    """A run as a notebook shows it: verdicts, steps, exchanges."""

    run: Run
    journal: Journal
    scenario: Scenario | None
    """None for a run that is not a registered scenario's (an import of captured traffic)."""

    @property
    def title(self) -> str:
        return self.scenario.title if self.scenario else self.report.scenario_title

    # -- reading ---------------------------------------------------------------------------
    def exchanges(self, step: str | None = None) -> list[Exchange]:
        """The journal exchanges that are the evidence of one step (or of every step)."""
        ids = [i for s in self.run.steps if step is None or s.step == step for i in s.evidence]
        return [self.journal.get(i) for i in dict.fromkeys(ids)]

    def failures(self) -> list[tuple[str, StepResult]]:
        """(requirement, failed step) pairs, in step order."""
        return [(req, s) for s in self.run.steps if s.outcome is Outcome.FAILED for req in s.requirements]

    # -- showing ---------------------------------------------------------------------------
    def verdict_table(self) -> Html:
        rows = []
        for verdict in requirement_verdicts(self.run):
            colour = _COLOURS.get(verdict.outcome, "#555")
            proofs = ", ".join(f"journal:{e}" for e in verdict.evidence[:6]) or "—"
            rows.append(f"<tr><td><b>{html.escape(verdict.requirement)}</b><br><small>"
                        f"{html.escape(_summary(verdict.requirement))}</small></td>"
                        f"<td style='color:{colour};font-weight:bold'>{html.escape(str(verdict.outcome))}</td>"
                        f"<td>{html.escape(', '.join(verdict.steps))}</td><td><small>{proofs}</small></td></tr>")
        return Html(_TABLE + "<table class='banc'><thead><tr><th>Exigence</th><th>Verdict</th><th>Étapes</th><th>Preuves</th>"
                    f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def step_table(self) -> Html:
        rows = []
        for result in self.run.steps:
            colour = _COLOURS.get(result.outcome, "#555")
            findings = "<br>".join(f"{html.escape(f.rule_id)} : {html.escape(f.message)}"
                                   for f in result.findings if f.is_error)
            rows.append(f"<tr><td>{html.escape(result.title)}<br><small>{html.escape(result.kind)}</small></td>"
                        f"<td style='color:{colour};font-weight:bold'>{html.escape(str(result.outcome))}</td>"
                        f"<td>{html.escape(', '.join(result.requirements) or '—')}</td>"
                        f"<td><small>{html.escape(result.reason)}{'<br>' if findings else ''}{findings}"
                        f"</small></td></tr>")
        return Html(_TABLE + "<table class='banc'><thead><tr><th>Étape</th><th>Résultat</th><th>Exigences</th><th>Détail</th>"
                    f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def step_exchanges(self, step: str) -> Html:
        """The exchanges a step observed: service, operation, DUI, summary, the mock's findings."""
        rows = [f"<tr><td>journal:{e.id}</td><td>{html.escape(e.service)}</td><td>{html.escape(e.operation)}</td>"
                f"<td><small>{html.escape(', '.join(f'{k}={v}' for k, v in e.summary.items()))}</small></td>"
                f"<td><small>{'<br>'.join(html.escape(f.message) for f in e.findings) or '—'}</small></td></tr>"
                for e in self.exchanges(step)]
        if not rows:
            return Html("<p><i>Aucun échange retenu comme preuve pour cette étape.</i></p>")
        return Html(_TABLE + "<table class='banc'><thead><tr><th>Échange</th><th>Service</th><th>Opération</th><th>Résumé</th>"
                    f"<th>Constats du simulateur</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")

    @cached_property
    def report(self) -> RunReport:
        """The run's report model: what `banc rapport` renders, and what the notebook shows."""
        return build(self.run, self.journal, RunStore(self.journal))

    def write_reports(self, folder: str | Path) -> dict[str, Path]:
        """Every report of the run in `folder/<run id>/`, as `banc jouer` writes them."""
        target = Path(folder) / self.run.id
        write_reports(self.report, target)
        return {name: (target / name).resolve() for name in REPORT_FILES}

    def diagram(self, step: str) -> Html:
        """The step's exchanges as a sequence diagram (inline SVG, kept by the HTML export)."""
        view = self._view(step)
        return Html(f"<style>{_SEQUENCE_STYLE}</style>"
                    + sequence_svg(view.arrows, view.evidence, lambda i: f"journal-{i}"))

    def step_detail(self, step: str, height: str = "32em") -> Html:
        """The report's section of the step (exchanges, messages, rendered documents, findings)
        in a frame, so its stylesheet does not touch the notebook's page."""
        page = (f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><style>{STYLE}</style></head>"
                f"<body>{step_section(self._view(step))}</body></html>")
        return Html(f"<iframe title='détail de l’étape' style='width:100%;height:{height};border:1px solid #ccc' "
                    f"srcdoc=\"{html.escape(page, quote=True)}\"></iframe>")

    def story(self) -> Html:
        """Each step as a trainer tells it: who acts, what the DUI had to do, what was observed."""
        parts = []
        for result in self.run.steps:
            step = self.scenario.step(result.step) if self.scenario else None
            colour = _COLOURS.get(result.outcome, "#555")
            said = fill(getattr(step, "instruction", ""), self.run.inputs) if step else ""
            parts.append(
                f"<h4>{result.position + 1}. {html.escape(result.title)} — "
                f"<span style='color:{colour}'>{html.escape(str(result.outcome))}</span></h4>"
                f"<p><i>{html.escape(kind_of(step) if step else result.kind)}</i> — exigences : "
                f"{html.escape(', '.join(result.requirements) or 'aucune (préparation)')}"
                + (f"<br>Consigne : {html.escape(str(said))}" if said else "")
                + (f"<br>{html.escape(result.reason)}" if result.reason else "") + "</p>"
                + str(self.diagram(result.step)))
        return Html("".join(parts))

    def _view(self, step: str) -> StepView:
        found = next((v for v in self.report.steps if v.result.step == step), None)
        if found is None:
            raise NotebookCheckFailed([f"étape « {step} » absente de l'exécution {self.run.id}"])
        return found

    # -- judging ---------------------------------------------------------------------------
    def require_conform(self) -> str:
        """The notebook's last cell: a French summary when every requirement passed (or awaits a
        manual proof), else `ScenarioFailed` naming each failed requirement and its step."""
        verdicts = requirement_verdicts(self.run)
        bad = [v for v in verdicts if v.outcome in (Outcome.FAILED, Outcome.NOT_EVALUATED, Outcome.SKIPPED)]
        if not bad:
            waiting = sum(v.outcome is Outcome.AWAITING_PROOF for v in verdicts)
            return (f"« {self.title} » : {len(verdicts)} exigence(s) jugée(s), aucune en échec"
                    + (f", {waiting} en attente de preuve manuelle." if waiting else "."))
        lines = [f"« {self.title} » (exécution {self.run.id}) : "
                 f"{len(bad)} exigence(s) non satisfaite(s)."]
        for verdict in bad:
            steps = [s for s in self.run.steps if s.step in verdict.steps and s.outcome is not Outcome.PASSED]
            why = "; ".join(dict.fromkeys(f"étape « {s.title} » ({s.outcome}) : {s.reason}" for s in steps)) \
                or str(verdict.outcome)  # a capture repeats an operation: each distinct failure once
            lines.append(f"- {describe(verdict.requirement)} — {why}")
        raise ScenarioFailed(lines)


def _summary(requirement: str) -> str:
    found = catalogue().get(requirement)
    return found.summary if found else "(exigence inconnue du catalogue)"


def exchange_table(exchanges: Iterable[Exchange]) -> Html:
    """One line per exchange: id, time, service, operation, DUI, run, patient, verdict."""
    rows = []
    for e in exchanges:
        errors = [f for f in e.findings if f.is_error]
        verdict = (f"<span style='color:#b3261e'>{len(errors)} erreur(s)</span>" if errors
                   else "<span style='color:#1b7f3b'>conforme</span>")
        rows.append(f"<tr><td>journal:{e.id}</td><td>{time.strftime('%H:%M:%S', time.localtime(e.started_at))}</td>"
                    f"<td>{html.escape(e.service)}</td><td>{html.escape(e.operation)}</td>"
                    f"<td>{html.escape(e.dui or 'DUI inconnu')}</td><td>{html.escape(e.run or '—')}</td>"
                    f"<td>{html.escape(str(e.summary.get('patient_ins', '—')))}</td><td>{verdict}</td></tr>")
    return Html(_TABLE + "<table class='banc'><thead><tr><th>Échange</th><th>Heure</th><th>Service</th><th>Opération</th><th>DUI</th>"
                f"<th>Exécution</th><th>INS</th><th>Verdict</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def raw_view(exchange: Exchange, limit: int = 20_000) -> Html:
    """The exchange as received and as answered, side by side, with the simulator's findings
    (messages split and pretty-printed as in the run report: MTOM, VIHF, XDS, mails, XDM)."""
    def block(title: str, parts: list) -> str:
        shown = "".join(
            f"<details{' open' if part.key else ''}><summary>{html.escape(part.title)}</summary>"
            f"<pre style='white-space:pre-wrap;font-size:80%;max-height:28em;overflow:auto;background:#f6f6f6;"
            f"padding:0.4em'>{html.escape(_cut(part.text, limit))}</pre></details>" for part in parts)
        return f"<div><b>{title}</b>{shown or '<p><i>vide</i></p>'}</div>"

    findings = "".join(f"<li><b>{html.escape(f.rule_id)}</b> ({html.escape(str(f.severity))}) "
                       f"{html.escape(', '.join(f.requirements))} : {html.escape(f.message)}"
                       f"{' — ' + html.escape(f.location) if f.location else ''}</li>" for f in exchange.findings)
    return Html(f"<h4>journal:{exchange.id} — {html.escape(exchange.service)} {html.escape(exchange.operation)}"
                f" — DUI {html.escape(exchange.dui or 'inconnu')}</h4>"
                f"<div style='display:grid;grid-template-columns:1fr 1fr;gap:0.6em'>"
                f"{block('Reçu par le simulateur', request_parts(exchange))}{block('Réponse', response_parts(exchange))}</div>"
                f"<p><b>Constats</b></p><ul>{findings or '<li>aucun</li>'}</ul>")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}\n… ({len(text) - limit} caractères de plus)"


class Html:
    """HTML shown by Jupyter (and kept as such by the static export)."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


@dataclass
class Workbench:
    """The bench a notebook uses: the one `banc demarrer` runs (its sheet), or its own."""

    journal: Journal
    sheet: BenchSheet
    running: RunningBench | None = None
    profiles: dict[str, DuiProfile] = field(default_factory=dict)

    @classmethod
    def open(cls, sheet: str | Path | None = None) -> Workbench:
        """Attach to the bench of `sheet` (or of the default sheet if its process is alive);
        else start one in this kernel, stopped when the kernel ends."""
        path = Path(sheet) if sheet else default_path()
        if path.exists():
            try:
                loaded = BenchSheet.load(path)
            except SheetError:
                loaded = None
            if loaded is not None and (sheet or loaded.alive()):
                print(f"Banc déjà démarré : fiche {path}")
                return cls(Journal(loaded.journal), loaded)
        print("Démarrage des simulateurs dans ce carnet…")
        running = start_bench(ports={}, label="carnet")
        print(f"Banc démarré ({len(running.mocks)} simulateurs) : fiche {running.sheet_files.get('json', '')}")
        bench = cls(running.journal, running.sheet, running)
        atexit.register(bench.stop)
        return bench

    def planes(self) -> dict:
        return self.running.planes() if self.running else {}

    def play(self, scenario: str, *, driver: str = "reference", faults: Iterable[str] = (),
             dui: DuiProfile | None = None, timeout_scale: float = 1.0) -> PlayedRun:
        """Play a registered scenario, printing each step as it goes (progress on long waits)."""
        from banc.cli.run import register_everywhere

        chosen = registered_scenarios()[scenario]
        faults = tuple(faults)
        made = make_driver(driver, **({"faults": faults} if faults else {}))
        try:
            profile = dui or made.default_profile(self.sheet)  # type: ignore[attr-defined]
            register_everywhere(profile, self.journal, self.sheet, self.planes())
            runner = Runner(self.journal, self.sheet, made, console=Console(), planes=self.planes(),
                            timeout_scale=timeout_scale)
            run = runner.play(chosen, profile)
        finally:
            made.close()
        return PlayedRun(RunStore(self.journal).get(run.id) or run, self.journal, chosen)

    def run(self, run_id: str | None = None) -> PlayedRun:
        """A stored run (the latest when no id is given), to look at after the fact."""
        store = RunStore(self.journal)
        found = store.get(run_id) if run_id else store.latest()
        if found is None:
            raise NotebookCheckFailed([f"exécution « {run_id} » introuvable dans le journal {self.journal.path}"
                                       if run_id else f"aucune exécution dans le journal {self.journal.path}"])
        scenario = registered_scenarios().get(found.scenario)
        if scenario is None and found.driver != "capture":
            raise NotebookCheckFailed([f"le scénario « {found.scenario} » de l'exécution n'est plus enregistré"])
        return PlayedRun(found, self.journal, scenario)

    # -- captures ------------------------------------------------------------------------
    def capture(self, scenario: str, folder: str | Path, *, faults: Iterable[str] = ()) -> list[Path]:
        """The reference DUI plays `scenario` through recorders in front of the INSi and DMP
        mocks (`banc.capture.rehearsal`): the capture files, as `banc capture` writes them."""
        from banc.capture.rehearsal import recorded
        from banc.cli.run import register_everywhere

        made = make_driver("reference", **({"faults": tuple(faults)} if faults else {}))
        try:
            with recorded(self.sheet, self.sheet.pki, Path(folder)) as (sheet, recorders):
                profile = made.default_profile(sheet)  # type: ignore[attr-defined]
                register_everywhere(profile, self.journal, sheet, self.planes())
                Runner(self.journal, sheet, made, console=Console(quiet=True), planes=self.planes()).play(
                    registered_scenarios()[scenario], profile)
        finally:
            made.close()
        return [r.capture_file for r in recorders.values()]

    def import_capture(self, files: Iterable[str | Path], dui: DuiProfile | str | Path) -> PlayedRun:
        """`banc capture importer`: every captured request replayed into its mock and journaled
        as the DUI's, recorded as an execution (reports and evidence pack as a scenario run's)."""
        from banc.capture.flows import read_captures
        from banc.capture.replay import ReplaySettings, import_capture
        from banc.capture.run import record_run

        paths = [Path(f) for f in files]
        if isinstance(dui, DuiProfile):
            profile = dui
        elif Path(dui).is_file():
            profile = DuiProfile.from_toml(dui)
        else:
            known = self.journal.dui(str(dui))
            if known is None:
                raise NotebookCheckFailed([f"DUI « {dui} » : ni un profil TOML, ni un DUI déclaré au journal "
                                           f"{self.journal.path} (banc dui liste)"])
            profile = known
        with ThreadPoolExecutor(1) as worker:  # the replay runs its own event loop; the kernel's is running here
            imported = worker.submit(import_capture, read_captures(paths), self.journal, profile,
                                     ReplaySettings(pki=self.sheet.pki)).result()
        run = record_run(imported, self.journal, profile, files=[p.name for p in paths])
        return PlayedRun(run, self.journal, None)

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None
