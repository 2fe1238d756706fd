"""One Annuaire mock per test module (startup builds and validates ~1 300 resources)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from banc.journal import Journal
from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.annuaire_mock import DEFAULT_API_KEY, RunningAnnuaire, launch

ADMIN_TOKEN = "jeton-test"


@pytest.fixture(scope="module")
def admin_token() -> str:
    return ADMIN_TOKEN


@pytest.fixture(scope="module")
def annuaire_journal(tmp_path_factory: pytest.TempPathFactory) -> Journal:
    return Journal(tmp_path_factory.mktemp("annuaire-journal") / "journal.sqlite")


@pytest.fixture(scope="module")
def annuaire(tmp_path_factory: pytest.TempPathFactory, pki: TestPki,
             annuaire_journal: Journal) -> Iterator[RunningAnnuaire]:
    data: Path = tmp_path_factory.mktemp("annuaire-data")
    mock = launch(MockContext(journal=annuaire_journal, pki=pki, data_dir=data,
                              admin_token=ADMIN_TOKEN))
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def annuaire_tls(pki: TestPki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_cert))


@pytest.fixture(scope="module")
def fhir(annuaire: RunningAnnuaire, annuaire_tls: ssl.SSLContext) -> Iterator[httpx.Client]:
    """An httpx client as a DUI would configure it: base URL, API key, the bench CA."""
    with httpx.Client(base_url=annuaire.base_url, verify=annuaire_tls,
                      headers={"ESANTE-API-KEY": DEFAULT_API_KEY}, timeout=10) as client:
        yield client
