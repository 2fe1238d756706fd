"""Fixtures of the CDA engine tests: one warm engine per session (compiled forms cached on disk)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from banc.cda.engine import Engine
from banc.cda.package import AnsPackage, find_package


@pytest.fixture(scope="session")
def ans_package(reference: Path) -> AnsPackage:
    return find_package(reference / "ans-testcontenucda-3.0")


@pytest.fixture(scope="session")
def cda_engine(ans_package: AnsPackage) -> Engine:
    return Engine(ans_package).warm()


@pytest.fixture(scope="session")
def oracle(reference: Path) -> dict:
    return json.loads((reference / "official-verdicts.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def example_files(reference: Path) -> dict[str, Path]:
    files = sorted((reference / "ans-testcontenucda-3.0" / "ExemplesCDA").glob("*.xml"))
    files += sorted((reference / "tddui").glob("*.xml"))
    return {f.name: f for f in files}
