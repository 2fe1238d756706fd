"""A running MSSanté mock shared by the module's tests (ephemeral ports, seeded directory)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from banc.journal import Journal
from banc.pki import TestPki
from simulators.mssante_mock.app import MssanteMock

# `mss_samples` (test data builders) is imported by the test modules; keep it importable under
# pytest's `importlib` import mode too, which does not put test folders on sys.path.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def mss(tmp_path_factory: pytest.TempPathFactory, pki: TestPki) -> Iterator[MssanteMock]:
    base: Path = tmp_path_factory.mktemp("mss")
    mock = MssanteMock(journal=Journal(base / "journal.sqlite"), pki=pki, data_dir=base / "data")
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture(scope="session")
def pdfa_bytes() -> bytes:
    from mss_samples import pdfa

    return pdfa()
