"""Every DSR requirement id cited anywhere in the code or rule sets exists in the catalogue
(`banc/data/requirements.tsv`): a typo in a citation would silently cover nothing."""

from __future__ import annotations

import re
from pathlib import Path

from banc.requirements import catalogue

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"\bSC\.[A-Z]{2,4}\.\d{2}\.MS\d\b")
SOURCES = ("banc", "simulators", "scenarios", "schematrons")


def _citations() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".sch", ".toml", ".xsl"} or not path.is_file():
                continue
            for match in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(match, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_cited_requirement_is_in_the_catalogue() -> None:
    cited = _citations()
    assert len(cited) >= 15  # the scan itself works
    unknown = {req: sorted(where) for req, where in cited.items() if req not in catalogue()}
    assert not unknown, f"exigences citées absentes du catalogue : {unknown}"
