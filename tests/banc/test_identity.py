from datetime import date

import pytest

from banc import identity as ins


@pytest.mark.parametrize(
    ("matricule", "key"),
    [
        ("297022A020778", "78"),  # ADRTROIS DOMINIQUE, Corse-du-Sud
        ("160012B020777", "13"),  # ADRTROIS TOUSSAINT, Haute-Corse
        ("2751263220749", "74"),
        ("1090763220834", "89"),
        ("1090763220888", "35"),  # NIA case
    ],
)
def test_nir_key_matches_cnam_test_identities(matricule: str, key: str) -> None:
    assert ins.nir_key(matricule) == key
    assert ins.ins_key_is_valid(matricule + key)


def test_wrong_key_and_unknown_oid_are_reported() -> None:
    problems = ins.check_ins("297022A02077879", "1.2.3")
    assert any("clé INS 79 incorrecte" in p for p in problems)
    assert any("n'est pas un OID d'INS" in p for p in problems)
    assert ins.check_ins("297022A02077878", ins.OID_INS_NIR_TEST) == []


def test_malformed_matricule_is_refused() -> None:
    with pytest.raises(ins.IdentityError):
        ins.nir_key("29702XA020778")


def test_formats_for_each_channel() -> None:
    assert ins.xds_patient_id("297022A02077878", ins.OID_INS_NIR_TEST) == (
        "297022A02077878^^^&1.2.250.1.213.1.4.10&ISO^NH"
    )
    assert ins.parse_xds_patient_id("297022A02077878^^^&1.2.250.1.213.1.4.10&ISO^NH") == (
        "297022A02077878",
        "1.2.250.1.213.1.4.10",
    )
    assert ins.cda_id("297022A020778 78", ins.OID_INS_NIR) == {
        "root": ins.OID_INS_NIR,
        "extension": "297022A02077878",
    }


def test_only_a_qualified_identity_carries_the_ins() -> None:
    person = ins.Identity(
        "ADRTROIS", ("DOMINIQUE",), "F", date(1997, 2, 26), "2A020", "297022A020778", "78"
    )
    with pytest.raises(ins.IdentityError, match="qualifiée"):
        ins.patient_mail_address(person)
    qualified = ins.Identity(**{**person.__dict__, "status": ins.IdentityStatus.QUALIFIEE})
    assert ins.patient_mail_address(qualified) == "297022A02077878@patient.mssante.fr"


def test_name_normalisation_for_insi() -> None:
    assert ins.normalise_name("  Hélène-Marie d'Arc ") == "HELENE-MARIE D'ARC"


@pytest.mark.parametrize(
    ("key", "expected"),
    [("74", None), ("00", "clé '00' incorrecte"), ("99", "clé '99' incorrecte"),
     ("7A", "clé '7A' incorrecte"), (None, "clé absente"), ("", "clé absente"),
     ("\uff17\uff14", "incorrecte")],
)
def test_key_problem_names_what_is_wrong(key, expected) -> None:
    problem = ins.key_problem("2751263220749", key)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem and "clé attendue 74" in problem


def test_key_problem_of_a_malformed_nir() -> None:
    assert "mal formé" in ins.key_problem("27512632207", "74")
