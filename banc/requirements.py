"""The DSR requirement catalogue: data, not code.

`banc/data/requirements.tsv` holds our own one-line French summaries of the requirement ids
the bench cites. New ids (vague 2 "DUI domicile", bench-specific ones) are added to that file,
or to a file named by `BANC_REQUIREMENTS`, without touching code.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).parent / "data" / "requirements.tsv"


@dataclass(frozen=True)
class Requirement:
    id: str
    source: str
    level: str
    summary: str


def _read(path: Path) -> dict[str, Requirement]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {row["id"]: Requirement(**row) for row in rows}


@cache
def catalogue() -> dict[str, Requirement]:
    """All known requirements, ours first, then any extra file (which may override)."""
    known = _read(CATALOGUE)
    extra = os.environ.get("BANC_REQUIREMENTS")
    if extra:
        known.update(_read(Path(extra)))
    return known


def describe(requirement_id: str) -> str:
    """`ID — summary` for reports; an unknown id is shown as such rather than dropped."""
    req = catalogue().get(requirement_id)
    return f"{requirement_id} — {req.summary}" if req else f"{requirement_id} — (exigence inconnue du catalogue)"
