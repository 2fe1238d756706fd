"""Parties: directory professionals become CDA authors with the right specialty code."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import banc.cda
from banc.directory import default_directory
from banc.documents import factory, parties
from banc.xml import parse_untrusted


def _professional(profession: str, specialty: str) -> SimpleNamespace:
    """A `banc.directory.Professional` look-alike (from_directory only reads attributes)."""
    return SimpleNamespace(national_id="810001111111", family="TEST", given="Alix",
                           profession=profession, specialty=specialty, mailbox=None,
                           civility="MME", practice_civility="DR")


def _organisation() -> SimpleNamespace:
    return SimpleNamespace(national_id="3123456789", name="Cabinet test",
                           address=SimpleNamespace(line="1 rue A", postal_code="63000", city="Clermont"))


@pytest.mark.parametrize(("profession", "specialty", "expected"), [
    ("10", "SM54", ("G15_10/SM54", "Médecin - Médecine Générale (SM)")),
    ("10", "SM53", ("G15_10/SM53", "Médecin - Spécialiste en Médecine Générale (SM)")),
    ("10", "SM26", ("G15_10/SM26", "Médecin - Qualifié en Médecine Générale (SM)")),
    ("10", "SM18", ("G15_10", "Médecin")),  # geriatrics: a physician, not general practice
    ("60", "", ("G15_60", "Infirmier")),
    ("60", "SM54", ("G15_60", "Infirmier")),  # a savoir-faire code never turns a nurse into a GP
])
def test_author_specialty_from_directory(profession: str, specialty: str, expected: tuple) -> None:
    author = parties.from_directory(_professional(profession, specialty), _organisation())
    assert (author.specialty.code, author.specialty.display) == expected


def test_general_practice_codes_are_those_of_the_ci_sis_value_set(reference: Path) -> None:
    jdv = reference / "ans-testcontenucda-3.0" / "jeuxDeValeurs" / "JDV_J01_XdsAuthorSpecialty_CISIS.xml"
    concepts = {c.get("code"): (c.get("codeSystem"), c.get("displayName"))
                for c in parse_untrusted(jdv.read_bytes()).iter("{urn:ihe:iti:svs:2008}Concept")}
    for savoir_faire, code in parties.GENERAL_PRACTICE_SPECIALTIES.items():
        assert code.code == f"G15_10/{savoir_faire}"
        assert concepts[code.code] == (code.scheme, code.display)


@pytest.mark.slow
def test_directory_gp_authors_a_valid_synthesis_as_a_general_practitioner(identity, context) -> None:
    directory = default_directory()
    assert directory.gp.specialty == "SM54"  # "Médecine générale" (TRE_R38)
    gp = parties.from_directory(directory.gp, directory.structure("cabinet_medecin_traitant"))
    doc = factory.generate("VSM", context(identity, author=gp))
    code = doc.root.find("{urn:hl7-org:v3}author/{urn:hl7-org:v3}assignedAuthor/{urn:hl7-org:v3}code")
    assert code.get("code") == "G15_10/SM54"
    verdict = banc.cda.validate(doc.xml, subject="VSM du médecin traitant")
    assert [(f.ruleset, f.rule_id, f.message) for f in verdict.errors] == []
    assert [n for n in verdict.not_evaluated if n.ruleset != "volet"] == []
