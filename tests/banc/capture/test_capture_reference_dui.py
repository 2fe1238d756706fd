"""The reference DUI plays the tour scenario through two recorders (mitmproxy, real sockets,
mutual TLS on both sides) in front of the bench's INSi and DMP mocks; the capture imported
offline gets, exchange for exchange, the verdicts the mocks gave live — and the scenario's own
expectations, judged on the imported exchanges, are met."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.bench import start_bench
from banc.capture.flows import read_captures
from banc.capture.rehearsal import CLIENT_CERTIFICATES, recorded
from banc.capture.replay import ReplaySettings, import_capture
from banc.cli.run import register_everywhere
from banc.journal import Journal
from banc.scenario.judge import observe
from banc.scenario.model import DuiActs, Outcome
from banc.scenario.runner import Console, RunContext, Runner
from banc.scenario.verdicts import registered_scenarios
from scenarios.reference_dui import ReferenceDriver

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory, pki, reference: Path) -> Iterator[tuple]:
    folder = tmp_path_factory.mktemp("capture-reference")
    with start_bench(data_dir=folder / "bench", pki_dir=pki.directory, ports={}, label="capture") as bench:
        driver = ReferenceDriver()
        since = bench.journal.last_id()
        try:
            with recorded(bench.sheet, bench.context.pki, folder) as (sheet, recorders):
                profile = driver.default_profile(sheet)
                register_everywhere(profile, bench.journal, sheet, bench.planes())
                run = Runner(bench.journal, sheet, driver, console=Console(quiet=True), planes=bench.planes(),
                             timeout_scale=0.2).play(registered_scenarios()["tour"], profile)
        finally:
            driver.close()
        live = [e for e in bench.journal.exchanges(since_id=since) if e.service in recorders]
        captures = [r.capture_file for r in recorders.values()]
        target = Journal(folder / "import.sqlite")
        imported = import_capture(read_captures(captures), target, profile, ReplaySettings(pki=bench.context.pki))
        assert all(r.lines[-1].endswith(str(r.capture_file)) for r in recorders.values())
        yield run, live, imported, target, profile, sheet


def test_tour_passes_through_the_recorders(played) -> None:
    run, live, imported, *_ = played
    assert [r.outcome for r in run.steps] == [Outcome.PASSED] * len(run.steps), \
        [(r.step, r.reason) for r in run.steps]
    operations = [e.operation for e in live]
    assert "TD2.1" in operations and "rechercherInsAvecTraitsIdentite" in operations
    assert all(i.judged and i.exchange.dui == "dui-reference" for i in imported)


def test_offline_verdicts_equal_live_verdicts(played) -> None:
    _, live, imported, *_ = played
    assert len(imported) == len(live)
    for seen, got in zip(live, imported, strict=True):
        exchange = got.exchange
        assert (exchange.service, exchange.operation) == (seen.service, seen.operation)
        assert exchange.findings == seen.findings, (seen.operation, seen.findings, exchange.findings)
        assert exchange.request == seen.request
        assert exchange.response == seen.response  # the upstream's real answer is what is kept
        assert exchange.status == seen.status
        for key in ("patient_ins", "document_unique_id", "vihf_certificate_sha256", "idam",
                    "client_certificate_sha256"):
            assert exchange.summary.get(key) == seen.summary.get(key), (key, seen.operation)
        assert exchange.summary["capture"]["statut_simulateur"] == int(seen.status)


def test_scenario_expectations_hold_on_the_import(played) -> None:
    run, _, _, target, profile, sheet = played
    context = RunContext(journal=target, sheet=sheet, dui=profile, run=run, driver=None,  # type: ignore[arg-type]
                         console=Console(quiet=True), values=run.inputs)
    steps = [s for s in registered_scenarios()["tour"].steps
             if isinstance(s, DuiActs) and s.expect and s.expect[0].service in CLIENT_CERTIFICATES]
    assert {s.id for s in steps} == {"insi-traits", "dmp-alimentation"}
    for step in steps:
        for expectation in step.expect:
            observation = observe(target, expectation, context, since_id=0)
            assert observation.satisfied, (step.id, expectation.operations)
            assert all(e.dui == profile.name and e.conform for e in observation.matched)
