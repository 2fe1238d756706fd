"""Notebooks driven by papermill: a changed parameter changes the run, and a failing scenario
fails the notebook with a French message naming the requirement and the step (no ANSI codes)."""

from __future__ import annotations

import contextlib
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


def test_a_changed_parameter_is_visible_in_the_run(tmp_path: Path, reference: Path) -> None:
    notebook = _run("00_demarrage.ipynb", tmp_path, SCENARIO="ins", DELAIS=0.2)
    assert _error(notebook) is None
    shown = "".join(str(out.get("data", {}).get("text/html", "")) + str(out.get("text", ""))
                    for cell in notebook.cells for out in cell.get("outputs", []))
    assert "Qualification de l'INS par INSi" in shown
    assert "Tour des services simulés" not in shown
