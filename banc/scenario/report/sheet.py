"""The referencing sheet: one row per proof of each requirement, the columns the referencing
platform's export uses (profile, requirement, our summary, scenario, proof number and
description, result, evidence file), as `.xlsx` (openpyxl) and CSV.

A proof is an exchange the verdict rests on (its file in the evidence pack) or a manual proof
attached by the operator; a requirement no step verifies gets one row "non couvert" without
proof, so the sheet lists the whole catalogue.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from banc.evidence import evidence_file
from banc.scenario.report.model import RunReport, StepView

COLUMNS = ("Profil", "ID exigence", "Exigence (résumé du banc)", "Scénario", "N° preuve",
           "Description de la preuve", "Résultat", "Fichier de preuve")

_DESCRIPTIONS = {
    "dmp": "Message SOAP au DMP contenant le jeton VIHF",
    "insi": "Message SOAP au téléservice INSi",
    "mssante": "Message MSSanté soumis par le DUI",
    "psc": "Échange OpenID Connect avec Pro Santé Connect",
    "annuaire": "Requête FHIR à l'Annuaire Santé",
}


@dataclass(frozen=True)
class SheetRow:
    profile: str
    requirement: str
    summary: str
    scenario: str
    number: str
    description: str
    result: str
    file: str

    def cells(self) -> tuple[str, ...]:
        return (self.profile, self.requirement, self.summary, self.scenario, self.number,
                self.description, self.result, self.file)


def rows(report: RunReport) -> list[SheetRow]:
    profile = report.scenario_profile + (
        f" — {report.profile.structure_type}" if report.profile is not None else "")
    steps = {s.result.step: s for s in report.steps}
    out = []
    for requirement in report.requirements:
        proofs = [p for step_id in requirement.steps if (step := steps.get(step_id)) for p in _proofs(step)]
        if not proofs:
            proofs = [("", "aucune preuve : aucune étape de cette exécution ne vérifie l'exigence", "")]
        for number, (step_title, description, file) in enumerate(proofs, 1):
            out.append(SheetRow(profile, requirement.requirement, requirement.summary,
                                _scenario(report, step_title),
                                f"{requirement.requirement}-P{number}" if step_title else "",
                                description, requirement.shown, file))
    return out


def _scenario(report: RunReport, step_title: str) -> str:
    return f"{report.scenario_title} — {step_title}" if step_title else report.scenario_title


def _proofs(step: StepView) -> list[tuple[str, str, str]]:
    """(step title, description, pack file) of each proof of a step."""
    found = []
    for arrow in step.arrows:
        exchange = arrow.exchange
        if exchange.id in step.evidence:
            what = _DESCRIPTIONS.get(exchange.service, f"Échange {exchange.service}")
            found.append((step.result.title,
                          f"{what} : {exchange.operation} (journal:{exchange.id}, statut {exchange.status})",
                          evidence_file(exchange)))
    for proof in step.proofs:
        found.append((step.result.title, f"Preuve manuelle jointe par l'opérateur : {proof['name']}"
                      + (f" — {proof['note']}" if proof["note"] else ""),
                      proof_file(step.result.step, proof["name"])))
    if not found:
        found.append((step.result.title, f"{step.result.kind} : {step.result.outcome}"
                      + (f" — {step.result.reason}" if step.result.reason else ""), ""))
    return found


def proof_file(step: str, name: str) -> str:
    """Where a manual proof is in the evidence pack."""
    return f"preuves-manuelles/{step}/{name}"


def to_csv(report: RunReport) -> str:
    """CSV as spreadsheet software in France opens it: `;` separator, UTF-8 with BOM."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(row.cells() for row in rows(report))
    return "\ufeff" + out.getvalue()


def to_xlsx(report: RunReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Preuves"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows(report):
        sheet.append(row.cells())
    for column, width in zip("ABCDEFGH", (28, 16, 60, 40, 20, 60, 24, 50), strict=True):
        sheet.column_dimensions[column].width = width
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    about = book.create_sheet("Exécution")
    for key, value in (("Exécution", report.run.id), ("Scénario", report.scenario_title),
                       ("DUI", report.run.dui), ("Version du banc", report.bench_version),
                       ("Paquet ANS", report.ans_version), ("Statut", report.run.status)):
        about.append((key, value))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
