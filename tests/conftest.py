"""Shared fixtures: the reference artefacts, a session-wide test PKI, a fresh journal, mock contexts,
and a headless Chromium (Debian's /usr/bin/chromium driven by Playwright; tests using it skip,
saying why, without it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from banc.journal import Journal
from banc.mocks import MockContext
from banc.paths import reference_dir
from banc.pki import TestPki


@pytest.fixture(scope="session")
def reference() -> Path:
    """`../shared/reference` (or BANC_REFERENCE); tests needing it skip, saying why."""
    found = reference_dir()
    if found is None:
        pytest.skip(
            "artefacts de référence ANS absents : placez-les dans ../shared/reference "
            "ou indiquez leur dossier dans BANC_REFERENCE"
        )
    return found


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.ensure(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite")


@pytest.fixture(scope="session")
def mock_context(
    tmp_path_factory: pytest.TempPathFactory, pki: TestPki
) -> Callable[[str], MockContext]:
    """`mock_context("dmp")`: a context for `launch` with its own folder and journal."""

    def make(name: str) -> MockContext:
        folder = tmp_path_factory.mktemp(name)
        return MockContext(journal=Journal(folder / "journal.sqlite"), pki=pki, data_dir=folder)

    return make


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright absent (pip install playwright)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()
