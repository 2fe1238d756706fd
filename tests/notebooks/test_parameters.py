"""Notebooks driven by papermill: a changed parameter changes the run, and a failing scenario
fails the notebook with a French message naming the requirement and the step (no ANSI codes)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import nbformat
import pytest

papermill = pytest.importorskip("papermill", reason="papermill absent (extras dev)")

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _run(notebook: str, tmp_path: Path, **parameters: object) -> nbformat.NotebookNode:
    output = tmp_path / notebook
    # papermill writes the executed notebook even when a cell fails: the tests read that cell there
    with contextlib.suppress(papermill.PapermillExecutionError):
        papermill.execute_notebook(str(NOTEBOOKS / notebook), str(output), parameters=parameters,
                                   cwd=str(tmp_path), progress_bar=False, kernel_name="python3")
    return nbformat.read(output, as_version=4)


def _error(notebook: nbformat.NotebookNode) -> dict | None:
    return next((out for cell in notebook.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []) if out.get("output_type") == "error"), None)


def test_a_fault_profile_fails_the_getting_started_notebook_for_the_right_requirement(
        tmp_path: Path, reference: Path) -> None:
    notebook = _run("00_demarrage.ipynb", tmp_path, DEFAUTS=["sans-xdm"], DELAIS=0.2)
    error = _error(notebook)
    assert error is not None, "le carnet joué avec un défaut aurait dû échouer"
    assert error["ename"] == "ScenarioFailed"
    text = "\n".join(error["traceback"])
    assert "SC.MSS.17.MS1" in text and "étape « Envoi MSSanté au médecin traitant »" in text
    assert "\x1b[" not in text and "Traceback" not in text
    last = [c for c in notebook.cells if c.cell_type == "code"][-1]
    assert any(out.get("output_type") == "error" for out in last.outputs), "c'est la dernière cellule qui échoue"


def test_the_capture_notebook_judges_a_faulty_dui_from_its_captured_traffic(tmp_path: Path, reference: Path) -> None:
    """The reference DUI recorded with an expired VIHF: the offline import fails the notebook on
    the captured feed, for the DMP requirements, with the DMP's reason."""
    notebook = _run("60_capturer_et_juger.ipynb", tmp_path, DEFAUTS=["vihf-expire"])
    error = _error(notebook)
    assert error is not None and error["ename"] == "ScenarioFailed", error
    text = "\n".join(error["traceback"])
    assert "SC.DMP.04.MS1" in text and "DMP — alimentation, ITI-41 (TD2.1)" in text and "expiré" in text
    assert "\x1b[" not in text


def test_a_changed_parameter_is_visible_in_the_run(tmp_path: Path, reference: Path) -> None:
    notebook = _run("00_demarrage.ipynb", tmp_path, SCENARIO="ins", DELAIS=0.2)
    assert _error(notebook) is None
    shown = "".join(str(out.get("data", {}).get("text/html", "")) + str(out.get("text", ""))
                    for cell in notebook.cells for out in cell.get("outputs", []))
    assert "Qualification de l'INS par INSi" in shown
    assert "Tour des services simulés" not in shown


def test_the_validator_notebook_fails_naming_the_rule_when_the_verdict_is_not_the_expected_one(
        tmp_path: Path, reference: Path) -> None:
    from lxml import etree

    example = reference / "ans-testcontenucda-3.0" / "ExemplesCDA" / "LDL-SES_2022.01.xml"
    tree = etree.parse(str(example))
    ns = {"c": "urn:hl7-org:v3"}
    for ins in tree.xpath("c:recordTarget/c:patientRole/c:id[starts-with(@root,'1.2.250.1.213.1.4.')]",
                          namespaces=ns):
        ins.getparent().remove(ins)
    mutated = tmp_path / "sans-ins.xml"
    tree.write(str(mutated), xml_declaration=True, encoding="UTF-8")
    notebook = _run("40_valider_un_document.ipynb", tmp_path, FICHIER=str(mutated), ATTENDU="conforme")
    error = _error(notebook)
    assert error is not None and error["ename"] == "ValidationUnexpected"
    text = "\n".join(error["traceback"])
    assert "sans-ins.xml : non conforme, alors que « conforme » était attendu" in text
    assert "dsr-ins-present" in text and "SC.DOC.03.MS1" in text
    assert "\x1b[" not in text
    assert _error(_run("40_valider_un_document.ipynb", tmp_path, FICHIER=str(mutated), ATTENDU="non conforme")) is None


def test_a_scenario_notebook_reads_well_as_static_html(tmp_path: Path, reference: Path, browser) -> None:
    """The trainer's notebook exported to HTML (what `jupyter nbconvert --to html` writes) keeps
    the sequence diagrams and the verdict table; a screenshot goes to out/."""
    from nbconvert import HTMLExporter

    notebook = _run("10_retour_domicile.ipynb", tmp_path, DELAIS=0.2)
    assert _error(notebook) is None
    page, _ = HTMLExporter().from_notebook_node(notebook)
    assert len(re.findall(r'<svg[^>]*class="sequence"', page)) >= 10  # the export reorders attributes
    assert "<th>Exigence</th><th>Verdict</th>" in page and "SC.MSS.26.MS1" in page
    exported = tmp_path / "10_retour_domicile.html"
    exported.write_text(page, encoding="utf-8")
    shots = Path(__file__).resolve().parents[2] / "out"
    shots.mkdir(exist_ok=True)
    view = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        view.goto(exported.as_uri())
        assert view.locator("svg.sequence").count() >= 10
        assert view.locator("text=Verdict par exigence").count() >= 1
        view.screenshot(path=str(shots / "carnet-10-retour-domicile.png"), full_page=False)
    finally:
        view.close()
