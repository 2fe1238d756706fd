"""Resources conform to the FHIR model; the open-data extraction matches the directory."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from banc.directory import default_directory
from simulators.annuaire_mock import rules, seed, wire


def test_every_resource_of_the_default_directory_parses_as_fhir_r4() -> None:
    resources = list(seed.resources(default_directory()))
    kinds = {r["resourceType"] for r in resources}
    assert kinds == {"Practitioner", "PractitionerRole", "Organization", "HealthcareService"}
    for resource in resources:
        seed.validate(resource)


def test_a_broken_resource_is_refused_by_the_model() -> None:
    resource = seed.practitioner(default_directory().gp)
    resource["active"] = "peut-être"
    with pytest.raises(ValueError):
        seed.validate(resource)


def test_rules_name_each_defect() -> None:
    assert rules.check_search("Practitioner", [("family:contains", "vid"), ("_count", "10")]) == []
    found = rules.check_search("Organization", [("family", "x"), ("_include", "Organization:partof")])
    assert [f.rule_id for f in found] == ["ANNUAIRE.PARAM.UNKNOWN"]
    assert rules.check_search("Practitioner", [("_revinclude", "PractitionerRole:practitioner")]) == []
    assert rules.check_search("Practitioner", [("_revinclude", "PractitionerRole:organization")])
    assert rules.check_api_key(None, frozenset({"k"}))[0].rule_id == "ANNUAIRE.AUTH.MISSING_KEY"
    assert rules.check_api_key("k", frozenset({"k"})) == []


def _rows(text: str) -> list[dict[str, str]]:
    """Read the extraction like a DUI should: by header name, tolerating the trailing '|'."""
    lines = text.splitlines()
    header = lines[0].removesuffix("|").split("|")
    return [dict(zip(header, line.removesuffix("|").split("|"), strict=True)) for line in lines[1:]]


def test_extraction_lines_follow_the_open_data_format() -> None:
    directory = default_directory()
    lines = wire.personne_activite_lines(directory)
    assert all(line.endswith("|") for line in lines)
    assert len({line.count("|") for line in lines}) == 1
    rows = _rows("\n".join(lines))
    expected = sum(len(p.activities) for p in directory.professionals if p.active)
    assert len(rows) == expected
    gp = next(r for r in rows if r["Identifiant PP"] == directory.gp.rpps)
    assert gp["Identification nationale PP"] == "8" + directory.gp.rpps
    assert (gp["Code profession"], gp["Code savoir-faire"]) == ("10", "SM54")
    ssiad_rows = [r for r in rows if r["Numéro FINESS site"] == directory.ssiad.finess]
    assert {r["Nom d'exercice"] for r in ssiad_rows} >= {"FAURE", "BERNARD"}


@pytest.mark.slow
def test_extraction_is_downloadable_as_the_real_zip(annuaire, annuaire_tls) -> None:
    response = httpx.get(annuaire.endpoints["annuaire.extraction"], verify=annuaire_tls)
    assert response.status_code == 200
    name = response.headers["content-disposition"].split('filename="')[1].rstrip('"')
    assert name.startswith("PS_LibreAcces_") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        [member] = archive.namelist()
        assert member.startswith("PS_LibreAcces_Personne_activite_") and member.endswith(".txt")
        rows = _rows(archive.read(member).decode("utf-8"))
    assert len(rows) > 500


def test_mailbox_telecoms_follow_the_ig_structure_definitions(reference) -> None:
    """Checked against the IG's own StructureDefinitions (as-mailbox-mss and its metadata)."""
    import json

    folder = reference / "annuaire" / "ig-fhir-annuaire-package" / "structure-definitions"
    metadata = json.loads((folder / "StructureDefinition-as-ext-mailbox-mss-metadata.json")
                          .read_text(encoding="utf-8"))
    mailbox = json.loads((folder / "StructureDefinition-as-mailbox-mss.json")
                         .read_text(encoding="utf-8"))
    allowed = {e["fixedUri"] for e in metadata["differential"]["element"]
               if e["id"].startswith("Extension.extension:") and e["id"].endswith(".url")}
    pattern = next(e["patternCoding"] for e in mailbox["differential"]["element"]
                   if e["id"] == "ContactPoint.extension:emailType.value[x]")
    system = next(e["patternCode"] for e in mailbox["differential"]["element"]
                  if e["id"] == "ContactPoint.system")
    for box in default_directory().mailboxes():
        telecom = seed.mailbox_telecom(box)
        assert telecom["system"] == system
        by_url = {e["url"]: e for e in telecom["extension"]}
        assert by_url[seed.EXT_EMAIL_TYPE]["valueCoding"] == pattern
        meta = by_url[metadata["url"]]["extension"]
        assert {e["url"] for e in meta} <= allowed
        kind = next(e for e in meta if e["url"] == "type")["valueCodeableConcept"]["coding"][0]
        assert kind["code"] in {"PER", "ORG", "APP", "CAB"}
