"""banc.population: public CNAM identities, deterministic generated identities, fixtures."""

from __future__ import annotations

from collections import Counter

from banc.identity import OID_INS_NIA, OID_INS_NIR, IdentityStatus, check_ins, nir_key
from banc.population import (
    cnam_test_cases,
    cnam_test_identities,
    dump_identities,
    generated_identities,
    load_identities,
    population,
    with_status,
)


def test_cnam_identities_have_the_documented_ins() -> None:
    by_name = {(i.birth_name, i.first_name): i for i in cnam_test_identities()}
    assert by_name["ADRTROIS", "DOMINIQUE"].ins == "297022A02077878"
    assert by_name["ADRTROIS", "DOMINIQUE"].birth_place == "2A020"
    assert by_name["ADRUN", "ZOE"].ins == "275126322074974"
    assert by_name["CORSE", "ANTHONY"].ins == "180032B02040123"
    assert by_name["PROVISOIRE", "MATRICULE"].oid == OID_INS_NIA
    assert by_name["ECETINSI", "PIERRE-ALAIN"].first_names == ("PIERRE-ALAIN", "MURIEL", "FLORIANT")
    assert [h[0] for h in by_name["ECETINSI", "PIERRE-ALAIN"].history] == [
        "2090763220834", "2090663220123",
    ]
    for identity in cnam_test_identities():
        assert check_ins(identity.ins, identity.oid) == [], identity
        assert identity.carries_ins
    assert all(i.oid in (OID_INS_NIR, OID_INS_NIA) for i in cnam_test_identities())


def test_cnam_cases_cover_the_no_match_answers() -> None:
    cases = {c.label: c for c in cnam_test_cases()}
    assert cases["TCHITCHI OLA (prénom inconnu)"].expected_cr == "01"
    assert all(c.expected_cr == "01" for label, c in cases.items() if "HOUILLES" in label)
    found = [c for c in cases.values() if c.expected_cr == "00"]
    assert all(c.expected_ins and check_ins(c.expected_ins) == [] for c in found)
    assert len(found) >= 10


def test_generated_identities_are_deterministic_and_valid() -> None:
    first = generated_identities(60, seed=7)
    assert first == generated_identities(60, seed=7)
    assert first != generated_identities(60, seed=8)
    assert len({i.ins for i in first}) == 60
    for identity in first:
        assert nir_key(identity.matricule) == identity.key
        assert identity.matricule[5:10] == identity.birth_place  # NIR repeats the birthplace
        assert identity.birth_name == identity.birth_name.upper()
        assert all(c.isalpha() or c in "-' " for c in identity.birth_name + "".join(identity.first_names))
        assert identity.status is IdentityStatus.QUALIFIEE


def test_generated_identities_include_corsica_and_homonyms() -> None:
    people = generated_identities(70)
    corsicans = [i for i in people if i.birth_place[:2] in ("2A", "2B", "20")]
    assert any(i.matricule[5:7] in ("2A", "2B") for i in corsicans)
    traits = Counter((i.birth_name, i.first_names, i.sex, i.birth_date) for i in people)
    homonyms = [t for t, n in traits.items() if n > 1]
    assert len(homonyms) >= 6
    for trait in homonyms:
        places = {i.birth_place for i in people if (i.birth_name, i.first_names, i.sex, i.birth_date) == trait}
        assert len(places) > 1  # the birthplace tells them apart


def test_fixture_round_trip(tmp_path) -> None:
    people = population(5)
    path = tmp_path / "identities.json"
    dump_identities(people, path)
    assert load_identities(path) == people


def test_fixture_computes_missing_key(tmp_path) -> None:
    path = tmp_path / "one.json"
    path.write_text(
        '[{"birth_name": "X", "first_names": "A B", "sex": "F", "birth_date": "1990-01-02",'
        ' "matricule": "290012A123456"}]', encoding="utf-8",
    )
    (person,) = load_identities(path)
    assert person.first_names == ("A", "B")
    assert person.key == nir_key("290012A123456")


def test_with_status_keeps_the_person() -> None:
    person = cnam_test_identities()[0]
    provisional = with_status(person, IdentityStatus.PROVISOIRE)
    assert provisional.ins == person.ins and not provisional.carries_ins
