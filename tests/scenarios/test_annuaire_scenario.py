"""The focused "annuaire" scenario against the reference DUI: it passes on observed traffic; the
professional published for the run is in the extraction the DUI downloaded (and only because
the mock publishes control-plane additions in its next extractions); with the fault
`sans-extraction-annuaire` the DUI proposes nobody and the step says why."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome
from scenarios import annuaire
from scenarios.reference_dui.measure import play

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("annuaire"), pki_dir=pki.directory, ports={},
                     label="annuaire") as running:
        yield running


def test_the_scenario_passes_and_the_extraction_holds_the_run_professional(bench: RunningBench) -> None:
    (run,) = play(bench, (annuaire.SCENARIO,))
    assert [(s.step, s.outcome) for s in run.steps] == [
        ("nouveau-professionnel", Outcome.PASSED), ("import-extraction", Outcome.PASSED),
        ("professionnel-propose", Outcome.PASSED), ("adresse-mssante", Outcome.PASSED)], [s.reason for s in run.steps]
    (download,) = [bench.journal.get(i) for i in run.result("import-extraction").evidence]
    archive = zipfile.ZipFile(io.BytesIO(download.response))
    (text,) = [archive.read(n).decode() for n in archive.namelist()]
    assert f"|{run.inputs['pro_identifiant']}|" in text and run.inputs["pro_nom"] in text


def test_a_dui_without_todays_extraction_proposes_nobody(bench: RunningBench) -> None:
    (run,) = play(bench, (annuaire.SCENARIO,), ("sans-extraction-annuaire",))
    outcomes = {s.step: s.outcome for s in run.steps}
    assert outcomes["import-extraction"] is Outcome.FAILED and outcomes["professionnel-propose"] is Outcome.SKIPPED
    assert outcomes["adresse-mssante"] is Outcome.PASSED
    assert run.result("import-extraction").reason.startswith("rien reçu")
