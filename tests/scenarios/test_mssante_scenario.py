"""The focused "mssante" scenario against the reference DUI: it passes on observed traffic, the
GP's simulated software answered the receipt the DUI asked for and the DUI read it back; a DUI
that asks no receipt fails SC.MSS.17 on its own message, and gets none back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import RunningBench, start_bench
from banc.scenario.model import Outcome
from scenarios import mssante
from scenarios.reference_dui.measure import play

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[RunningBench]:
    with start_bench(data_dir=tmp_path_factory.mktemp("mssante"), pki_dir=pki.directory, ports={},
                     label="mssante") as running:
        yield running


def test_the_receipt_asked_comes_back_and_is_matched(bench: RunningBench) -> None:
    (run,) = play(bench, (mssante.SCENARIO,))
    assert all(s.outcome is Outcome.PASSED for s in run.steps), [(s.step, s.reason) for s in run.steps]
    sent, receipt = (bench.journal.get(i) for i in run.result("envoi-medecin").evidence)
    assert b"Disposition-Notification-To" in sent.request
    assert receipt.operation == "mdn" and receipt.summary["mdn_original_message_id"] == sent.summary["message_id"]
    (read,) = (bench.journal.get(i) for i in run.result("releve-accuse").evidence)
    assert read.summary["message_id"] == receipt.summary["message_id"]


def test_a_dui_asking_no_receipt_fails_on_its_own_message(bench: RunningBench) -> None:
    (run,) = play(bench, (mssante.SCENARIO,), ("sans-demande-accuse",))
    sending = run.result("envoi-medecin")
    assert sending.outcome is Outcome.FAILED
    assert any("Disposition-Notification-To" in f.message for f in sending.findings)
    assert run.result("releve-accuse").outcome is Outcome.SKIPPED
