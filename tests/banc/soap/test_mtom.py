"""MTOM/XOP: byte-exact round trip, the official TD2.1 message, and every malformed case."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from banc.soap import mtom

ENVELOPE = (
    b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><d:Document '
    b'xmlns:d="urn:ihe:iti:xds-b:2007"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" '
    b'href="cid:doc1%40banc"/></d:Document></e:Body></e:Envelope>'
)


def test_round_trip_is_byte_exact() -> None:
    payload = b"\r\n--not-a-boundary\r\n\x00\xff binary \n\r\n"
    body, content_type = mtom.build(ENVELOPE, [mtom.Attachment("doc1@banc", payload)], action="urn:x")
    message = mtom.parse(body, content_type)
    assert message.root.data == ENVELOPE
    root = etree.fromstring(message.root.data)
    document = root.find(".//{urn:ihe:iti:xds-b:2007}Document")
    assert mtom.element_content(document, message) == payload
    assert mtom.referenced_ids(root) == ["doc1@banc"]


def test_inline_base64_content() -> None:
    element = etree.fromstring(b"<Document>aGVsbG8=</Document>")
    assert mtom.element_content(element, None) == b"hello"
    with pytest.raises(mtom.MtomError) as error:
        mtom.element_content(etree.fromstring(b"<Document>@@@</Document>"), None)
    assert error.value.code == "mtom-bad-inline"


def test_official_td21_request(reference: Path) -> None:
    data = (reference / "dmp" / "messages" / "TD2.1_-_Alimentation_requete.xml").read_bytes()
    boundary = data.split(b"\n", 1)[0][2:].decode()
    message = mtom.parse(data, f'multipart/related; type="application/xop+xml"; boundary="{boundary}"')
    assert set(message.parts) == {"WS_DMP_TD2.1-DocumentME2.xml", "WS_DMP_TD2.1-SignatureXades.xml"}
    assert message.parts["WS_DMP_TD2.1-DocumentME2.xml"].data.rstrip().endswith(b"</ClinicalDocument>")


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b, ct: (b, ct.replace("boundary=", "boundary=x")), "mtom-bad-boundary"),
        (lambda b, ct: (b, ct.split("; boundary")[0]), "mtom-no-boundary"),
        (lambda b, ct: (b.rsplit(b"--", 2)[0], ct), "mtom-unterminated"),
        (lambda b, ct: (b.replace(b"Content-ID: <doc1@banc>", b"Content-ID: <other@banc>"), ct),
         "mtom-missing-part"),
        (lambda b, ct: (b, "text/xml"), "mtom-not-multipart"),
        (lambda b, ct: (b + b"x" * 2048, ct), "mtom-too-large"),
    ],
)
def test_malformed_messages(mutate, code: str) -> None:
    body, content_type = mtom.build(ENVELOPE, [mtom.Attachment("doc1@banc", b"<doc/>")])
    body, content_type = mutate(body, content_type)
    with pytest.raises(mtom.MtomError) as error:
        message = mtom.parse(body, content_type, max_bytes=len(body) - 1 if code == "mtom-too-large" else mtom.DEFAULT_MAX_BYTES)
        root = etree.fromstring(message.root.data)
        mtom.element_content(root.find(".//{urn:ihe:iti:xds-b:2007}Document"), message)
    assert error.value.code == code
    assert error.value.message  # French, names the problem
