"""Which rules apply is decided from the document; our rule sets are data (ruleset.toml)."""

from __future__ import annotations

from pathlib import Path

from banc.cda.compiler import body_reach, header_only
from banc.cda.rulesets import Header, choose_volet, own_rulesets, volet_table

ALL = {row.schematron for row in volet_table()}


def _header(tids: set[str], code: str) -> Header:
    return Header(frozenset(tids), code, structured=True, non_xml_body=False)


def test_template_id_wins_over_code() -> None:
    choice = choose_volet(_header({"1.2.250.1.213.1.1.1.51"}, "74207-2"), ALL)
    assert choice.schematron == "CI-SIS_IPS-FR_2024.01" and "templateId" in choice.reason


def test_code_leads_to_the_claimed_volet_when_template_id_is_missing() -> None:
    choice = choose_volet(_header({"1.2.250.1.213.1.1.1.1"}, "18748-4"), ALL)
    assert choice.schematron == "CI-SIS_IMG-CR-IMG_2024.01" and "absent" in choice.reason


def test_shared_code_is_ambiguous_and_unknown_is_none() -> None:
    assert choose_volet(_header(set(), "74207-2"), ALL).schematron is None
    assert "plusieurs" in choose_volet(_header(set(), "74207-2"), ALL).reason
    assert "aucun volet" in choose_volet(_header(set(), "99999-9"), ALL).reason


def test_own_rulesets_are_declared_by_a_file(tmp_path: Path) -> None:
    (tmp_path / "tous").mkdir()
    (tmp_path / "tous" / "ruleset.toml").write_text('schematron = "a.sch"\n', encoding="utf-8")
    (tmp_path / "tddui").mkdir()
    (tmp_path / "tddui" / "ruleset.toml").write_text(
        'schematron = "t.sch"\n[applies]\ntemplate_ids = ["1.2.250.1.213.1.1.1.58"]\ncodes = ["EXPORT_DUI"]\n',
        encoding="utf-8",
    )
    found = {r.name: r for r in own_rulesets(tmp_path)}
    assert found["tous"].applies(_header(set(), "X"))
    assert found["tddui"].applies(_header(set(), "EXPORT_DUI"))
    assert found["tddui"].applies(_header({"1.2.250.1.213.1.1.1.58"}, "X"))
    assert not found["tddui"].applies(_header(set(), "11490-0"))


def test_repository_dsr_ruleset_applies_to_every_document() -> None:
    dsr = {r.name: r for r in own_rulesets()}["dsr"]
    assert dsr.schematron.exists() and dsr.applies(_header(set(), ""))


def test_header_only_contexts_are_recognised_conservatively() -> None:
    assert header_only("//hl7:ClinicalDocument[hl7:typeId]/hl7:recordTarget/hl7:patientRole/hl7:id")
    assert header_only("//hl7:ClinicalDocument/hl7:component")
    assert header_only("//hl7:ClinicalDocument/*[not(self::hl7:a | self::hl7:b)]")
    assert not header_only("//hl7:ClinicalDocument/hl7:component/hl7:structuredBody")
    assert not header_only("//hl7:ClinicalDocument//hl7:id")
    assert not header_only("cda:section[cda:templateId/@root='1.2']")
    assert not header_only("//hl7:ClinicalDocument/hl7:author | cda:entry")
    assert body_reach("//hl7:ClinicalDocument/hl7:component/*[not(self::hl7:structuredBody)]") == 2
    assert body_reach("//hl7:ClinicalDocument/hl7:recordTarget/hl7:patientRole") == 0
    assert body_reach("cda:observation") is None
