"""Pure rules and the identity store, without a server."""

from __future__ import annotations

from datetime import date

import pytest

from banc.cli.insi import build_traits_request, build_vitale_request
from banc.population import cnam_test_identities
from banc.soap import parse_envelope
from simulators.insi_mock import faults, rules
from simulators.insi_mock.models import IdentityStore, record_from_identity
from simulators.insi_mock.wire import load_schemas, read_request

TODAY = date(2026, 1, 1)
IDAMS = frozenset({"BANC-SEGUR-DUI"})


def request_of(data: bytes):
    return read_request(parse_envelope(data))


def rule_ids(findings) -> list[str]:
    return [f.rule_id for f in findings if f.is_error]


def test_clean_request_has_no_error(reference) -> None:
    request = request_of(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", "63220"))
    findings = rules.check_request(request, rules.Caller("INSI-AUTO"), load_schemas(), IDAMS, TODAY)
    assert rule_ids(findings) == []
    assert request.traits.first_names == ("ZOE",)
    assert request.summary()["lps"]["idam"] == "BANC-SEGUR-DUI"


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (rules.Caller("INSI-MANU"), []),
        (rules.Caller("DUI-SSIAD-TEST"), ["INSI.AUTH.CERTIFICAT"]),
        (rules.Caller(None), ["INSI.AUTH.ABSENTE"]),
        (rules.Caller(None, False, "signature invalide"), ["INSI.AUTH.ASSERTION"]),
        (rules.Caller(None, True, "CN=CPS"), []),
    ],
)
def test_caller(caller, expected) -> None:
    assert rule_ids(rules.check_caller(caller)) == expected


def test_demo_mode_is_a_warning_not_an_error() -> None:
    (finding,) = rules.check_caller(rules.Caller(None, insecure=True))
    assert finding.rule_id == "INSI.AUTH.DEMO" and not finding.is_error


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1975-12-31", True), ("1975-00-00", True), ("1975-12-00", True), ("1975-02-29", False),
     ("1976-02-29", True), ("31/12/1975", False), ("1975-13-01", False), ("1800-01-01", False),
     ("2027-01-01", False), ("", False), (None, False)],
)
def test_birth_date(value, ok) -> None:
    assert (rules.check_date(value, "x", TODAY) == []) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [("ADRUN", True), ("PATB-QUATRE", True), ("D'ARTAGNAN", True), ("LE GALL", True),
     ("JEAN--PIERRE", True), ("adrun", False), ("ÉLODIE", False), ("LE  GALL", False),
     (" ADRUN", False), ("ADRUN-", False), ("X2", False)],
)
def test_name_characters(name, ok) -> None:
    traits = request_of(build_traits_request(name, "ZOE", "F", "1975-12-31")).traits
    assert ("INSI.TRAITS.NOM" not in rule_ids(rules.check_traits(traits, TODAY))) is ok


def test_traits_sex_and_place() -> None:
    traits = request_of(build_traits_request("ADRUN", "ZOE", "X", "1975-12-31", "6322")).traits
    assert rule_ids(rules.check_traits(traits, TODAY)) == ["INSI.TRAITS.SEXE", "INSI.TRAITS.LIEU"]
    corsica = request_of(build_traits_request("CORSE", "ANTHONY", "M", "1980-03-02", "2B020")).traits
    assert rules.check_traits(corsica, TODAY) == []


def test_contexte_lps_fields() -> None:
    request = request_of(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", idam=""))
    ids = rule_ids(rules.check_contexte_lps(request, IDAMS))
    assert ids == ["INSI.LPS.CHAMP"]
    unknown = request_of(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", idam="AUTRE"))
    assert rule_ids(rules.check_contexte_lps(unknown, IDAMS)) == ["INSI.LPS.IDAM"]


def test_vitale_rules() -> None:
    request = request_of(build_vitale_request("27512632207", None, "1975-12-31"))
    assert rule_ids(rules.check_vitale(request.vitale, TODAY)) == ["INSI.VITALE.MATRICULE"]


@pytest.mark.parametrize(
    "born",
    ["\u0661\u0669\u0667\u0665-\u0661\u0662-\u0663\u0661",  # Arabic-Indic digits
     "\uff11\uff19\uff17\uff15-12-31",  # fullwidth digits
     "1975-12-31\n", "1975-\u00b9\u00b2-31"],
    ids=["arabic-indic", "fullwidth", "trailing-newline", "superscript"],
)
def test_dates_are_ascii_digits_only(born) -> None:
    """int() reads every Unicode digit and `$` tolerates a final newline: the rule must not."""
    assert rule_ids(rules.check_date(born, "DateNaissance", TODAY)) == ["INSI.TRAITS.DATE"]


@pytest.mark.parametrize("name", ["ADRUN\n", "\uff21DRUN", "ADRUN\x00"],
                         ids=["trailing-newline", "fullwidth", "nul"])
def test_names_are_refused_with_a_trailing_newline_or_foreign_letters(name) -> None:
    request = request_of(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", "63220"))
    traits = request.traits.__class__(**{**request.traits.__dict__, "birth_name": name})
    assert rule_ids(rules.check_traits(traits, TODAY)) == ["INSI.TRAITS.NOM"]


def test_birth_place_with_foreign_digits_is_refused() -> None:
    request = request_of(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31", "63220"))
    traits = request.traits.__class__(**{**request.traits.__dict__, "birth_place": "\u0666\u0663220"})
    assert rule_ids(rules.check_traits(traits, TODAY)) == ["INSI.TRAITS.LIEU"]


@pytest.mark.parametrize(
    ("rule", "code"),
    [("INSI.AUTH.CERTIFICAT", "desir_560"), ("INSI.LPS.IDAM", "desir_550"),
     ("INSI.LPS.CHAMP", "desir_520"), ("INSI.SOAP.MALFORMED", "desir_510"),
     ("INSI.TRAITS.DATE", "insi_101"), ("inconnu", "desir_900")],
)
def test_fault_codes(rule, code) -> None:
    assert faults.siram_code(rule)[0] == code


def test_fault_severities_are_those_of_the_schema() -> None:
    assert {severity for _, severity in faults.FAULT_CODES.values()} <= {
        "information", "avertissement", "erreur", "fatale",
    }


@pytest.fixture
def store(tmp_path) -> IdentityStore:
    store = IdentityStore(tmp_path / "ids.sqlite")
    store.put_many([record_from_identity(i) for i in cnam_test_identities()])
    return store


def test_store_matching_semantics(store) -> None:
    assert [r.ins for r in store.search_traits("ECETINSI", ("MURIEL",), "M", "2009-07-14")] == [
        "109076322083489"
    ]
    assert store.search_traits("ECETINSI", ("PIERRE-ALAIN", "MURIEL", "FLORIANT"), "M", "2009-07-14")
    assert not store.search_traits("ECETINSI", ("PIERRE-ALAIN", "FLORIANT"), "M", "2009-07-14")
    assert not store.search_traits("ECETINSI", ("PIERRE",), "M", "2009-07-14")
    assert store.search_traits("ADRUN", ("ZOE",), "F", "1975-12-00")
    assert not store.search_traits("ADRUN", ("ZOE",), "F", "1975-12-31", "63221")
    assert not store.search_traits("ADRUN", ("ZOE",), "M", "1975-12-31")


def test_store_vitale_finds_history(store) -> None:
    (found,) = store.search_vitale("2090763220834", None, "2009-07-14")
    assert found.identity.birth_name == "ECETINSI"
    assert store.search_vitale("2751263220749", None, "1975-12-30") == []


def test_store_software_cache(store) -> None:
    assert store.known_idams() == frozenset()
    store.register_software("A", "a")
    assert store.known_idams() == {"A"}


def test_content_type_warning() -> None:
    data = build_traits_request("ADRUN", "ZOE", "F", "1975-12-31")
    plain = read_request(parse_envelope(data), "text/xml; charset=utf-8")
    (warning,) = [f for f in rules.check_addressing(plain) if f.rule_id == "INSI.HTTP.CONTENT-TYPE"]
    assert not warning.is_error
    soap = read_request(parse_envelope(data), 'application/soap+xml; charset=utf-8; action="x"')
    assert soap.content_type_action == "x"
    assert not [f for f in rules.check_addressing(soap) if f.rule_id == "INSI.HTTP.CONTENT-TYPE"]


def test_missing_schemas_are_said_not_silently_passed() -> None:
    request = request_of(build_traits_request("ADRUN", "ZOE", "F", "1975-12-31"))
    findings = rules.check_request(request, rules.Caller("INSI-AUTO"), None, IDAMS, TODAY)
    assert "INSI.XSD.INDISPONIBLE" in [f.rule_id for f in findings]
    assert rule_ids(findings) == []


def test_idam_reference_attribute() -> None:
    data = build_traits_request("ADRUN", "ZOE", "F", "1975-12-31").replace(b'R="4"', b'R="3"')
    (finding,) = rules.check_contexte_lps(request_of(data), IDAMS)
    assert finding.rule_id == "INSI.LPS.CHAMP" and "R de l'IDAM « 3 »" in finding.message


def test_soap_processing_attributes_do_not_break_xsd(reference) -> None:
    data = build_traits_request("ADRUN", "ZOE", "F", "1975-12-31").replace(
        b'<ctxlps:ContexteLPS ', b'<ctxlps:ContexteLPS soap:mustUnderstand="true" '
    )
    request = request_of(data)
    assert request.lps.get("{http://www.w3.org/2003/05/soap-envelope}mustUnderstand") == "true"
    assert rules.check_schema(request, load_schemas()) == []


def test_old_ws_addressing_namespace_is_named() -> None:
    data = build_traits_request("ADRUN", "ZOE", "F", "1975-12-31").replace(
        b"http://www.w3.org/2005/08/addressing", b"http://schemas.xmlsoap.org/ws/2004/08/addressing"
    )
    findings = rules.check_addressing(request_of(data))
    assert "2004/08/addressing" in findings[0].message
