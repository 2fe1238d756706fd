"""Reports of a run, all read from one model (`model.build`): the HTML report, JSON (schema in
`docs/schemas/execution.schema.json`), JUnit, the referencing sheet (xlsx, CSV) and the
evidence pack (`banc.evidence`)."""

from __future__ import annotations

from pathlib import Path

from banc.journal import Journal
from banc.scenario.report import data, html, sheet
from banc.scenario.report.model import RunReport, build
from banc.scenario.runs import Run, RunStore

__all__ = ["REPORT_FILES", "RunReport", "build", "evidence_pack", "render", "write_reports"]

REPORT_FILES = {
    "rapport.html": lambda r: html.to_html(r).encode(),
    "rapport.json": lambda r: data.to_json(r).encode(),
    "rapport.junit.xml": lambda r: data.to_junit(r).encode(),
    "fiche-referencement.xlsx": sheet.to_xlsx,
    "fiche-referencement.csv": lambda r: sheet.to_csv(r).encode(),
}
"""File name → renderer, for `banc jouer`, `banc demo` and the evidence pack."""

FORMATS = {"html": "rapport.html", "json": "rapport.json", "junit": "rapport.junit.xml",
           "xlsx": "fiche-referencement.xlsx", "csv": "fiche-referencement.csv"}
"""`banc rapport --format` → the file it renders."""


def render(report: RunReport) -> dict[str, bytes]:
    return {name: renderer(report) for name, renderer in REPORT_FILES.items()}


def write_reports(report: RunReport, folder: Path) -> Path:
    """Every report of the run into `folder`; returns the HTML report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in render(report).items():
        (folder / name).write_bytes(content)
    return folder / "rapport.html"


def evidence_pack(run: Run, journal: Journal, store: RunStore, *, redact: bool = False) -> bytes:
    from banc.evidence import PackFile, SvrlReports, build_pack

    report = build(run, journal, store)
    proofs = [PackFile(sheet.proof_file(step, name), content, f"preuve manuelle de l'étape {step}")
              for step, name, content in store.proof_contents(run.id)]
    return build_pack(report, journal, render(report), proofs, redact=redact, svrl=SvrlReports())
