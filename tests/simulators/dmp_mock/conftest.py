"""Fixtures of the DMP mock tests: a running mock (ephemeral port, temporary data) and clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from dmp_helpers import DOCTOR, NURSE

from banc.mocks import MockContext
from banc.pki import TestPki
from simulators.dmp_mock import DmpMock, launch
from simulators.dmp_mock.app import DmpSettings
from simulators.dmp_mock.client import DmpClient


@pytest.fixture(scope="module")
def dmp(mock_context: Callable[[str], MockContext]) -> Iterator[DmpMock]:
    mock = launch(mock_context("dmp"),
                  settings=DmpSettings(validate_cda=False), documents_per_patient=1)
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def nurse(dmp: DmpMock, pki: TestPki) -> Iterator[DmpClient]:
    client = DmpClient(dmp.url, pki, author=NURSE)
    yield client
    client.close()


@pytest.fixture(scope="module")
def doctor(dmp: DmpMock, pki: TestPki) -> Iterator[DmpClient]:
    client = DmpClient(dmp.url, pki, author=DOCTOR)
    yield client
    client.close()

