"""The engine finds exactly what the official pipeline finds on every official example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from banc.cda.engine import Engine
from banc.cda.rulesets import PROFILES
from banc.paths import reference_path

pytestmark = [pytest.mark.slow, pytest.mark.reference]

OFFICIAL = {*PROFILES, "volet"}


def _expected(entry: dict) -> set[tuple[str, str, str]]:
    volet = (entry["volet"] or "").removesuffix(".sch")
    return {
        (volet if ruleset == "volet" else ruleset, item["location"], item["text"][:200])
        for ruleset, items in entry["errors"].items()
        for item in items
    }


def test_oracle_covers_every_example(oracle: dict, example_files: dict[str, Path]) -> None:
    assert set(oracle) == set(example_files)
    assert sum(len(i) for e in oracle.values() for i in e["errors"].values()) > 0


_ORACLE = reference_path("official-verdicts.json")


@pytest.mark.parametrize("name", sorted(json.loads(_ORACLE.read_text(encoding="utf-8"))) if _ORACLE else [])
def test_exact_official_findings(name: str, cda_engine: Engine, oracle: dict, example_files: dict) -> None:
    entry = oracle[name]
    verdict = cda_engine.validate(example_files[name], subject=name)
    volet = (entry["volet"] or "").removesuffix(".sch") or None
    assert verdict.details["volet"] == volet
    official_names = set(PROFILES) | ({volet} if volet else set())
    found = {
        (f.ruleset, f.location, f.message[:200])
        for f in verdict.errors
        if f.ruleset in official_names
    }
    assert found == _expected(entry)
    xsd_errors = [f for f in verdict.findings if f.ruleset == "xsd"]
    assert (not xsd_errors) == entry["xsd_ok"]
    assert set(verdict.details["rulesets"]) >= {"xsd", *official_names}


def test_skipping_patterns_changes_no_result(cda_engine: Engine, example_files: dict) -> None:
    """The per-document pattern skipping is an optimisation only: same SVRL without it."""
    from lxml import etree

    from banc.cda.compiler import SKIP_PARAM

    processor = cda_engine._processor
    for name in ("VSM_1.4_2022.01.xml", "CDA_TDDUI_Exemple_v1.0.1.xml", "IPS-FR_2024.01.xml"):
        root = etree.fromstring(example_files[name].read_bytes())
        roots = set(root.xpath("//*[local-name()='templateId']/@root"))
        node = processor.parse_xml(xml_text=etree.tostring(root, encoding="unicode"))
        for profile in PROFILES:
            compiled = cda_engine.profile(profile)
            if not compiled.meta.gates:
                continue
            outputs = []
            for skip in ("", " " + " ".join(compiled.meta.skipped(roots)) + " "):
                compiled.executable.set_parameter(SKIP_PARAM, processor.make_string_value(skip))
                svrl = etree.fromstring(compiled.executable.transform_to_string(xdm_node=node).encode())
                outputs.append(sorted(
                    (e.get("location"), " ".join("".join(e.itertext()).split()))
                    for e in svrl
                    if etree.QName(e).localname in ("failed-assert", "successful-report")
                ))
            assert outputs[0] == outputs[1], (name, profile)
