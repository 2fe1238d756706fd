"""Which rules apply is decided from the document; our rule sets are data (ruleset.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from banc.cda.compiler import body_reach, header_only
from banc.cda.rulesets import HL7, Header, choose_volet, family, own_rulesets, versions, volet_table

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


# --- the volet version the document declares -----------------------------------------------------

@pytest.fixture(scope="module")
def package_volets(ans_package) -> set[str]:
    """The volet schematrons of the ANS package (3.0: eight families with several versions)."""
    return {p.stem for p in ans_package.schematrons.glob("CI-SIS_*.sch")}


@pytest.mark.reference
def test_families_group_the_versions_of_a_volet(package_volets: set[str]) -> None:
    assert family("CI-SIS_VSM_1.4_2022.01") == ("CI-SIS_VSM", "2022.01")
    assert family("CI-SIS_CSE-CS24_2025.01") == ("CI-SIS_CSE-CS24", "2025.01")
    assert versions("CI-SIS_EP-MED-DM_2024.01", package_volets) == {
        "2022.01": "CI-SIS_EP-MED-DM_2022.01", "2023.01": "CI-SIS_EP-MED-DM_2023.01",
        "2024.01": "CI-SIS_EP-MED-DM_2024.01",
    }
    assert set(versions("CI-SIS_CSE-CS8_2025.01", package_volets)) == {"2022.01", "2024.01", "2025.01"}


def _declaring(example: Path, template: str, version: str | None) -> Header:
    """The header of a shared example whose volet templateId is `template`, declaring `version`."""
    root = etree.parse(str(example)).getroot()
    for node in root.findall(f"{{{HL7}}}templateId"):
        if node.get("root", "").startswith("1.2.250.1.213.1.1.1.") and node.get("root") != "1.2.250.1.213.1.1.1.1":
            root.remove(node)
    added = etree.SubElement(root, f"{{{HL7}}}templateId", root=template)
    if version:
        added.set("extension", version)
    return Header.of(root)


@pytest.mark.reference
def test_every_multi_version_family_follows_the_declared_version(example_files: dict, package_volets: set[str]) -> None:
    """A shared example rewritten to declare each version of each family with several versions."""
    example = example_files["LDL-SES_2022.01.xml"]
    rows = {row.schematron: row for row in volet_table()}
    families = {family(stem)[0] for stem in package_volets if len(versions(stem, package_volets)) > 1}
    assert families == {"CI-SIS_BIO-CR-BIO", "CI-SIS_CSE-CS8", "CI-SIS_CSE-CS9", "CI-SIS_CSE-CS24",
                        "CI-SIS_EP-MED-DM", "CI-SIS_OPH-BRE", "CI-SIS_SDM-MR", "CI-SIS_VSM"}
    for row_name in sorted(n for n in rows if family(n)[0] in families):
        template = sorted(rows[row_name].template_ids)[0]
        for version, stem in versions(row_name, package_volets).items():
            choice = choose_volet(_declaring(example, template, version), package_volets)
            assert (choice.schematron, choice.declared) == (stem, version), (row_name, version, choice)
            assert f"version {version} déclarée" in choice.reason


@pytest.mark.reference
def test_absent_or_undeclared_version_is_said(example_files: dict, package_volets: set[str]) -> None:
    example = example_files["eP-MED-DM_2024.01_PosoStruct.xml"]
    absent = choose_volet(_declaring(example, "1.2.250.1.213.1.1.1.39", "2019.01"), package_volets)
    assert absent.schematron == "CI-SIS_EP-MED-DM_2024.01" and absent.declared == "2019.01"
    assert "2019.01 déclarée absente du paquet ANS" in absent.reason and "appliqué à la place" in absent.reason
    assert "2022.01, 2023.01, 2024.01" in absent.reason
    silent = choose_volet(_declaring(example, "1.2.250.1.213.1.1.1.39", None), package_volets)
    assert silent.schematron == "CI-SIS_EP-MED-DM_2024.01" and silent.declared is None
    assert "version non déclarée : volet le plus récent appliqué" in silent.reason
    vsm = choose_volet(Header.of(etree.parse(str(example_files["VSM_1.4_2022.01.xml"])).getroot()), package_volets)
    assert vsm.schematron == "CI-SIS_VSM_1.4_2022.01" and "« 201310 » au format inconnu" in vsm.reason
