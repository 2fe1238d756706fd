"""Constants and helpers shared by the DMP mock tests (a module name unique in the test tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.dmp_mock.client import Author

PATIENT = "275126322074974"  # ADRUN ZOE, public CNAM test identity (seeded)
NURSE = Author()
DOCTOR = Author(rpps="810000000777", family="MEDECIN", given="PAUL", profession="10",
                structure_id="340000000000009", structure_name="CABINET DU BANC", facility="SA07")


def reference_file(reference: Path, *parts: str) -> Path:
    path = reference.joinpath("dmp", *parts)
    if not path.exists():
        pytest.skip(f"fichier de référence absent : {path}")
    return path
