"""A headless Chromium for the report tests: Debian's /usr/bin/chromium driven by Playwright
(Playwright's own browser download is not needed); tests using it skip, saying why, without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
