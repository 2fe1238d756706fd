"""A zeep client built from the shared WSDL, unchanged, over mutual TLS: every public test
identity gives the documented answer, and every answer validates against the result XSD."""

from __future__ import annotations

from collections import Counter

import pytest
from lxml import etree

from banc.population import cnam_test_cases, generated_identities
from banc.soap import WSA_NS
from simulators.insi_mock.wire import RESULTAT_NS, load_schemas

pytestmark = pytest.mark.slow


def _last_result(zeep_insi) -> tuple[etree._Element, etree._Element]:
    envelope = zeep_insi.history.last_received["envelope"]
    return envelope, envelope.find(f".//{{{RESULTAT_NS}}}RESULTAT")


@pytest.mark.parametrize("case", cnam_test_cases(), ids=lambda c: c.label)
def test_public_test_identity_answer(zeep_insi, case) -> None:
    answer = zeep_insi.traits(
        case.birth_name, case.first_name, case.sex, case.birth_date, case.birth_place
    )
    assert answer.CR.CodeCR == case.expected_cr
    if case.expected_ins:
        active = answer.INDIVIDU.INSACTIF
        assert active.IdIndividu.NumIdentifiant + active.IdIndividu.Cle == case.expected_ins
        oid = active.OID
        assert oid == case.expected_oid
    else:
        assert answer.INDIVIDU is None
    _, result = _last_result(zeep_insi)
    schemas = load_schemas()
    assert schemas.result.validate(result), schemas.result.error_log


def test_history_and_nia(zeep_insi) -> None:
    answer = zeep_insi.traits("ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14", "63220")
    assert [h.IdIndividu.NumIdentifiant for h in answer.INDIVIDU.INSHISTO] == [
        "2090763220834", "2090663220123",
    ]
    nia = zeep_insi.traits("PROVISOIRE", "MATRICULE", "M", "2009-07-01")
    assert nia.INDIVIDU.INSACTIF.OID == "1.2.250.1.213.1.4.9"


def test_response_addressing(zeep_insi) -> None:
    zeep_insi.traits("ADRUN", "ZOE", "F", "1975-12-31")
    sent = zeep_insi.history.last_sent["envelope"]
    received, _ = _last_result(zeep_insi)
    assert received.findtext(f".//{{{WSA_NS}}}Action") == (
        "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentiteResponse"
    )
    assert received.findtext(f".//{{{WSA_NS}}}RelatesTo") == sent.findtext(f".//{{{WSA_NS}}}MessageID")


def test_homonyms_give_cr_02_unless_birthplace(zeep_insi) -> None:
    people = generated_identities(40, 20240101)
    traits = Counter((i.birth_name, i.first_names, i.sex, i.birth_date) for i in people)
    name, first_names, sex, born = next(t for t, n in traits.items() if n > 1)
    ambiguous = zeep_insi.traits(name, first_names[0], sex, born.isoformat())
    assert ambiguous.CR.CodeCR == "02" and ambiguous.INDIVIDU is None
    twin = next(i for i in people if i.birth_name == name and i.birth_date == born)
    exact = zeep_insi.traits(name, first_names[0], sex, born.isoformat(), twin.birth_place)
    assert exact.CR.CodeCR == "00"
    assert exact.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant == twin.matricule


def test_corsican_generated_identity(zeep_insi) -> None:
    corsican = next(i for i in generated_identities(40, 20240101) if i.matricule[5:7] in ("2A", "2B"))
    answer = zeep_insi.traits(
        corsican.birth_name, " ".join(corsican.first_names), corsican.sex,
        corsican.birth_date.isoformat(),
    )
    assert answer.CR.CodeCR in ("00", "02")
    if answer.CR.CodeCR == "00":
        assert answer.INDIVIDU.INSACTIF.IdIndividu.Cle == corsican.key


def test_carte_vitale_search(zeep_insi) -> None:
    answer = zeep_insi.service.rechercherInsAvecCarteVitale(
        MatriculeIndividu={"NumIdentifiant": "2751263220749", "Cle": "74"},
        DateNaissance="1975-12-31", _soapheaders=zeep_insi.headers(),
    )
    assert answer.CR.CodeCR == "00"
    assert answer.INDIVIDU.TIQ.NomNaissance == "ADRUN"
    received, _ = _last_result(zeep_insi)
    assert received.findtext(f".//{{{WSA_NS}}}Action").endswith("rechercherInsAvecCarteVitaleResponse")


def test_every_exchange_is_journaled(insi_mock, zeep_insi) -> None:
    since = insi_mock.journal.last_id()
    zeep_insi.traits("NESSI", "NATHALIE", "F", "1977-07-14")
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.operation == "rechercherInsAvecTraitsIdentite"
    assert exchange.summary["cr"] == "00" and exchange.summary["patient_ins"] == "277076322082910"
    assert exchange.summary["traits"]["NomNaissance"] == "NESSI"
    assert exchange.summary["auth"] == "certificat INSI-AUTO"
    assert "CN=INSI-AUTO" in exchange.peer_certificate
    assert b"RECSANSVITALE" in exchange.request and b"RESULTAT" in exchange.response
    assert exchange.conform and exchange.duration_ms > 0
