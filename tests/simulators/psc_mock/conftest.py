"""One PSC mock per test module."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest

from banc.journal import Journal
from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.psc_mock import RunningPsc, launch

ADMIN_TOKEN = "jeton-test"


@pytest.fixture(scope="module")
def admin_token() -> str:
    return ADMIN_TOKEN


@pytest.fixture(scope="module")
def psc_journal(tmp_path_factory: pytest.TempPathFactory) -> Journal:
    return Journal(tmp_path_factory.mktemp("psc-journal") / "journal.sqlite")


@pytest.fixture(scope="module")
def psc_context(tmp_path_factory: pytest.TempPathFactory, pki: TestPki,
                psc_journal: Journal) -> MockContext:
    return MockContext(journal=psc_journal, pki=pki, data_dir=tmp_path_factory.mktemp("psc"),
                       admin_token=ADMIN_TOKEN)


@pytest.fixture(scope="module")
def psc(psc_context: MockContext) -> Iterator[RunningPsc]:
    mock = launch(psc_context)
    mock.automatic()
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def tls(pki: TestPki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_cert))
