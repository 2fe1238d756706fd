"""The tour of the simulated services: every mock answers a conforming client as expected, and
the tour's verdicts come from the journal (a service that misbehaves makes its step fail)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from banc.cli.up import start_services
from banc.mocks import MockContext, RunningMock
from scenarios import tour

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def running(
    mock_context: Callable[[str], MockContext], reference: Path
) -> Iterator[tuple[MockContext, dict[str, RunningMock]]]:
    context = mock_context("tour")
    mocks = start_services(None, context)
    yield context, {mock.name: mock for mock in mocks}
    for mock in reversed(mocks):
        mock.stop()


def test_every_step_is_conform_and_backed_by_observed_exchanges(running) -> None:
    context, mocks = running
    verdicts = tour.run(context, mocks)
    assert len(verdicts) == len(tour.STEPS)
    for verdict in verdicts:
        assert verdict.conform, (verdict.subject, [f.message for f in verdict.errors])
        assert verdict.details["échanges"], verdict.subject
    services = {e.service for e in context.journal.exchanges()}
    assert {"psc", "annuaire", "insi", "dmp", "mssante"} <= services


def test_a_misbehaving_service_fails_its_step(running, monkeypatch: pytest.MonkeyPatch) -> None:
    context, mocks = running
    usager = tour._usager()
    mocks["insi"].identities.remove(usager.ins)  # INSi now answers "no identity found" (CR 01)
    monkeypatch.setattr(tour, "STEPS", tuple(s for s in tour.STEPS if s.service == "insi"))
    (verdict,) = tour.run(context, mocks)
    assert not verdict.conform
    assert [f.rule_id for f in verdict.errors] == ["TOUR.INSI.INS"]
    assert verdict.errors[0].requirements == ("SC.INS.26.MS1",)


def test_a_missing_service_is_reported_not_skipped(running) -> None:
    context, mocks = running
    verdicts = tour.run(context, {k: v for k, v in mocks.items() if k != "dmp"})
    dmp = next(v for v in verdicts if "DMP" in v.subject)
    assert [f.rule_id for f in dmp.errors] == ["TOUR.SERVICE"]
