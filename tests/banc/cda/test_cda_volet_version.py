"""The engine applies the volet version a document declares (shared examples, version changed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from banc.cda.engine import Engine

pytestmark = [pytest.mark.slow, pytest.mark.reference]

EXAMPLE = "eP-MED-DM_2024.01_PosoStruct.xml"
DECLARED = b'<templateId root="1.2.250.1.213.1.1.1.39" extension="2024.01"/>'


def _declaring(example_files: dict[str, Path], version: str | None) -> bytes:
    data = example_files[EXAMPLE].read_bytes()
    assert DECLARED in data
    replacement = f'<templateId root="1.2.250.1.213.1.1.1.39" extension="{version}"/>' if version else (
        '<templateId root="1.2.250.1.213.1.1.1.39"/>')
    return data.replace(DECLARED, replacement.encode())


def test_declared_older_version_is_the_one_run(cda_engine: Engine, example_files: dict) -> None:
    verdict = cda_engine.validate(_declaring(example_files, "2023.01"), subject=EXAMPLE)
    assert verdict.details["volet"] == "CI-SIS_EP-MED-DM_2023.01"
    assert "CI-SIS_EP-MED-DM_2023.01" in verdict.details["rulesets"]
    assert "CI-SIS_EP-MED-DM_2024.01" not in verdict.details["rulesets"]
    assert "version 2023.01 déclarée" in verdict.details["volet_reason"]


def test_absent_and_undeclared_versions_are_said_and_forced_volet_wins(cda_engine: Engine, example_files: dict) -> None:
    absent = cda_engine.validate(_declaring(example_files, "2019.01"), subject=EXAMPLE)
    assert absent.details["volet"] == "CI-SIS_EP-MED-DM_2024.01"
    assert "2019.01 déclarée absente du paquet ANS" in absent.details["volet_reason"]
    silent = cda_engine.validate(_declaring(example_files, None), subject=EXAMPLE)
    assert "version non déclarée : volet le plus récent appliqué" in silent.details["volet_reason"]
    forced = cda_engine.validate(
        _declaring(example_files, "2023.01"), subject=EXAMPLE, volet="CI-SIS_EP-MED-DM_2024.01"
    )
    assert forced.details["volet"] == "CI-SIS_EP-MED-DM_2024.01"
    assert forced.details["volet_reason"] == "volet imposé (--volet) ; le document déclare la version 2023.01"
