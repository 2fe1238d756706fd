"""Client errors get a precise tagged refusal and the session goes on (ISSUE 11 item 14):
before, APPEND without flags and COPY to a missing folder answered "Server error", a nested
SEARCH overflowed the recursion limit, a missing FETCH section dropped the connection and a
`{-5}` literal hung it."""

from __future__ import annotations

import base64
import imaplib
import socket
from collections.abc import Iterator

import pytest
from mss_samples import DUI, GP

from banc.mail.compose import HealthMessage
from simulators.mssante_mock.imap_rfc import MAX_SEARCH_DEPTH

pytestmark = pytest.mark.slow


def _xoauth2(mss, address: str = DUI) -> bytes:
    return f"user={address}\x01auth=Bearer {mss.token_for(address)}\x01\x01".encode()


@pytest.fixture
def imap(mss, pki) -> Iterator[imaplib.IMAP4_SSL]:
    mss.send_as(HealthMessage(sender=GP, recipients=[DUI], body="un texte simple\n"))
    client = imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(), timeout=10)
    client.authenticate("XOAUTH2", lambda _: _xoauth2(mss))
    client.select("INBOX")
    yield client
    client.logout()


def _last(imap: imaplib.IMAP4_SSL) -> str:
    return imap.select("INBOX")[1][0].decode()


def test_append_without_flags_or_date(imap) -> None:
    before = int(_last(imap))
    assert imap.append("INBOX", None, None, b"Subject: brouillon\r\n\r\ncorps\r\n")[0] == "OK"
    assert int(_last(imap)) == before + 1


def test_copy_to_a_missing_folder_says_trycreate(imap) -> None:
    typ, data = imap.copy("1", "Inexistant")
    assert typ == "NO" and b"[TRYCREATE]" in data[0]
    assert imap.uid("COPY", imap.fetch("1", "(UID)")[1][0].split()[-1].rstrip(b")"), "Trash")[0] == "OK"


def test_deeply_nested_search_is_refused_with_the_limit(imap) -> None:
    deep = "(" * (MAX_SEARCH_DEPTH + 1) + "ALL" + ")" * (MAX_SEARCH_DEPTH + 1)
    with pytest.raises(imaplib.IMAP4.error, match=f"au-dela de {MAX_SEARCH_DEPTH} niveaux"):
        imap.search(None, "(" * 2000 + "ALL" + ")" * 2000)
    with pytest.raises(imaplib.IMAP4.error, match="imbriquees"):
        imap.search(None, deep)
    assert imap.search(None, "((ALL))")[0] == "OK"


@pytest.mark.parametrize(("item", "answer"), [
    ("BODY[FOO]", "BAD"), ("BODY[1.HEADER.FIELDS]", "BAD"), ("BODY[99]", "NO"), ("BODY[1.2.3]", "NO"),
])
def test_bad_fetch_sections_are_refused_and_the_session_goes_on(imap, item: str, answer: str) -> None:
    last = _last(imap)
    if answer == "BAD":
        with pytest.raises(imaplib.IMAP4.error, match="attribut FETCH invalide"):
            imap.fetch(last, f"({item})")
    else:
        typ, data = imap.fetch(last, f"({item})")
        assert typ == "NO" and b"n'existe pas" in data[0]
    assert imap.noop()[0] == "OK"
    assert imap.fetch(last, "(BODY.PEEK[1])")[1][0][1] == b"un texte simple\r\n"


def test_partial_fetch_returns_the_requested_octets(imap) -> None:
    data = imap.fetch(_last(imap), "(BODY.PEEK[]<0.5>)")[1][0]
    assert data[0].endswith(b"BODY[]<0> {5}") and data[1] == b"From:"


def _raw_session(mss, pki) -> tuple[socket.socket, object]:
    sock = pki.client_context().wrap_socket(socket.create_connection(("127.0.0.1", mss.imap.port), timeout=10),
                                            server_hostname="localhost")
    stream = sock.makefile("rwb")
    assert b"SASL-IR" in stream.readline()
    stream.write(b"a AUTHENTICATE XOAUTH2 " + base64.b64encode(_xoauth2(mss)) + b"\r\n")  # RFC 4959
    stream.flush()
    assert stream.readline().startswith(b"a OK")
    return sock, stream


@pytest.mark.parametrize(("command", "answer"), [
    (b"b APPEND INBOX {-5}", b"b BAD Illegal syntax: taille de litteral negative : {-5}"),
    (b"c SELECT {-5}", b"c BAD Illegal syntax: taille de litteral negative : {-5}"),
    (b"d APPEND INBOX {999999999}", b"d NO [TOOBIG] litteral de 999999999 octets"),
])
def test_bad_literals_are_refused_at_once(mss, pki, command: bytes, answer: bytes) -> None:
    sock, stream = _raw_session(mss, pki)
    with sock:
        stream.write(command + b"\r\n")
        stream.flush()
        assert stream.readline().startswith(answer)  # no continuation, no hang
        stream.write(b"z NOOP\r\n")
        stream.flush()
        assert stream.readline().startswith(b"z OK")
