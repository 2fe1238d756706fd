"""INS datamatrix payload (ins-datamatrix.md worked examples), symbol round trip, parsing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from banc.documents.datamatrix import (
    GS,
    datamatrix_image,
    decode_datamatrices,
    ins_payload,
    parse_payload,
    payload_from_fields,
)
from banc.identity import Identity, IdentityError, IdentityStatus


def _melon() -> Identity:
    return Identity("MELON", ("MATHIEU", "MICHEL"), "M", date(1966, 2, 10), matricule="1234567898765",
                    key="43", oid="1.2.250.1.213.1.4.8", status=IdentityStatus.QUALIFIEE)


def test_payload_matches_the_published_example() -> None:
    expected = ("IS010000000000000000000000S1123456789876543S21.2.250.1.213.1.4.8" + GS
                + "S3MATHIEU MICHEL" + GS + "S4MELON" + GS + "S5MS610-02-1966")
    assert ins_payload(_melon()) == expected


def test_twenty_character_oid_takes_no_separator() -> None:
    payload = ins_payload(replace(_melon(), oid="1.2.250.1.213.1.4.10", birth_place="17000"))
    assert "S21.2.250.1.213.1.4.10S3" in payload
    assert payload.endswith("S610-02-1966S717000")


def test_only_a_qualified_identity_gets_a_payload() -> None:
    with pytest.raises(IdentityError):
        ins_payload(replace(_melon(), status=IdentityStatus.VALIDEE))


def test_symbol_is_square_and_decodes_back() -> None:
    payload = ins_payload(_melon())
    image = datamatrix_image(payload)
    assert image.width == image.height
    assert decode_datamatrices(image) == [payload]
    content, problems = parse_payload(payload)
    assert problems == []
    assert (content.ins, content.given_names, content.birth_name, content.sex, content.birth_date) == (
        "123456789876543", "MATHIEU MICHEL", "MELON", "M", "10-02-1966")


def test_malformed_payloads_are_explained() -> None:
    _, problems = parse_payload("DC04" + "0" * 22)
    assert "en-tête" in problems[0]
    fields = [("S2", "1.2.250.1.213.1.4.8"), ("S5", "X"), ("S6", "1966-02-10"), ("S1", "1234")]
    content, problems = parse_payload(payload_from_fields(fields))
    text = " ".join(problems)
    assert "S1 de longueur 4" in text and "sexe S5" in text and "JJ-MM-AAAA" in text and "S3 absent" in text
    assert content is not None and content.ins == "1234"
    content, problems = parse_payload(payload_from_fields([("S5", "M")]))
    assert content is None and "bloc obligatoire S1 absent" in problems
    # literal <GS> text (pasted from a reader) is accepted
    content, problems = parse_payload(ins_payload(_melon()).replace(GS, "<GS>"))
    assert problems == [] and content.birth_name == "MELON"
