"""The mock's answers match the public captures element for element (where they are real
exchanges) and the ANS example request, replayed as is, gets the ANS example response."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from banc.identity import check_ins
from banc.xml import parse_trusted_file
from simulators.insi_mock.wire import RESULTAT_NS

pytestmark = pytest.mark.slow


def shape(element: etree._Element, *, ordered: bool = True) -> tuple:
    """(qualified tag, stripped text, children shapes): comments and prefixes do not count."""
    children = [shape(c, ordered=ordered) for c in element if isinstance(c.tag, str)]
    if not ordered:
        children.sort()
    return (element.tag, (element.text or "").strip(), tuple(children))


def result_of(data: bytes | Path) -> etree._Element:
    tree = (
        parse_trusted_file(str(data)).getroot() if isinstance(data, Path)
        else etree.fromstring(data)
    )
    result = tree.find(f".//{{{RESULTAT_NS}}}RESULTAT")
    assert result is not None
    return result


CAPTURES = [
    # capture, traits sent, element order significant
    ("REP_CR01.xml", ("HOUILLES", "PIERRE", "M", "1955-05-05", None), True),
    ("TEST_2.05.xml", ("PROVISOIRE", "MATRICULE", "M", "2009-07-01", "63220"), True),
    ("TEST_2.08_cas1.xml", ("CORSE", "ANTHONY", "M", "1980-03-02", "2B020"), True),
    # TEST_2.04_cas2 puts DateDeb/DateFin before IdIndividu, which the result XSD forbids: a
    # hand-edited file, so only the content is compared, not the order.
    ("TEST_2.04_cas2.xml", ("ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14", "63220"), False),
]


@pytest.mark.parametrize(("capture", "traits", "ordered"), CAPTURES, ids=[c[0] for c in CAPTURES])
def test_capture_reproduced(reference, post, capture, traits, ordered) -> None:
    from banc.cli.insi import build_traits_request

    response = post(build_traits_request(*traits))
    assert response.status_code == 200
    expected = result_of(reference / "insi" / "fixtures" / capture)
    assert shape(result_of(response.content), ordered=ordered) == shape(expected, ordered=ordered)


def test_synthetic_capture_has_invalid_keys(reference) -> None:
    """TEST_2.08_cas2 is not reproduced: its INS keys are wrong, no real service sends that."""
    result = result_of(reference / "insi" / "fixtures" / "TEST_2.08_cas2.xml")
    ids = result.findall(f".//{{{RESULTAT_NS}}}IdIndividu")
    problems = [
        check_ins(i.findtext(f"{{{RESULTAT_NS}}}NumIdentifiant") + i.findtext(f"{{{RESULTAT_NS}}}Cle"))
        for i in ids
    ]
    assert all(p and "clé INS" in p[0] for p in problems)


def test_ans_example_pair_replayed(reference, post, insi_mock) -> None:
    messages = reference / "dmp" / "messages"
    request = (messages / "WS_INS2_rechercherInsAvecTraitsIdentite_requete.xml").read_bytes()
    since = insi_mock.journal.last_id()
    response = post(request)
    assert response.status_code == 200, response.text
    expected = result_of(messages / "WS_INS2_rechercherInsAvecTraitsIdentite_reponse.xml")
    assert shape(result_of(response.content)) == shape(expected)
    (exchange,) = insi_mock.exchanges(since_id=since)
    assert exchange.summary["lps"]["idam"] == "NumAutorisation"
    assert exchange.request == request
