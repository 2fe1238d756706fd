"""SEARCH that matches nothing answers `* SEARCH` before the tagged OK (RFC 3501 §7.2.5):
Twisted sent no untagged response, so imaplib's `search()` returned `[None]` and a DUI doing
`data[0].split()` crashed on an empty inbox."""

from __future__ import annotations

import base64
import imaplib
import socket

import pytest
from mss_samples import DUI, GP

from banc.mail.compose import HealthMessage
from simulators.mssante_mock.imap_rfc import SEARCH_CHUNK

pytestmark = pytest.mark.slow


def _xoauth2(mss) -> bytes:
    return f"user={DUI}\x01auth=Bearer {mss.token_for(DUI)}\x01\x01".encode()


def test_imaplib_search_without_match_is_an_empty_list(mss, pki) -> None:
    mss.send_as(HealthMessage(sender=GP, recipients=[DUI], subject="Compte rendu", body="corps\n"))
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(), timeout=10) as imap:
        imap.authenticate("XOAUTH2", lambda _: _xoauth2(mss))
        imap.select("INBOX")
        assert imap.search(None, "SUBJECT", "introuvable") == ("OK", [b""])
        assert imap.uid("SEARCH", None, "SUBJECT", "introuvable") == ("OK", [b""])
        assert imap.search(None, "SUBJECT", "Compte")[1][0].split(), "a match is still listed"


def test_search_without_match_on_the_wire(mss, pki) -> None:
    """Exactly `* SEARCH` (no trailing space: `*(SP nz-number)`), then the tagged OK."""
    sock = pki.client_context().wrap_socket(socket.create_connection(("127.0.0.1", mss.imap.port), timeout=10),
                                            server_hostname="localhost")
    with sock, sock.makefile("rwb") as stream:
        stream.readline()
        for command in (b"a AUTHENTICATE XOAUTH2 " + base64.b64encode(_xoauth2(mss)), b"b SELECT INBOX"):
            stream.write(command + b"\r\n")
            stream.flush()
            while not (line := stream.readline()).startswith(command[:2]):
                pass
            assert b" OK" in line
        stream.write(b'c SEARCH SUBJECT "introuvable"\r\n')
        stream.flush()
        assert stream.readline() == b"* SEARCH\r\n"
        assert stream.readline().startswith(b"c OK")


def test_search_across_more_messages_than_one_turn(mss, pki) -> None:
    """A mailbox larger than one filtering turn still gets every match, in one answer."""
    for n in range(SEARCH_CHUNK + 5):
        mss.send_as(HealthMessage(sender=GP, recipients=[DUI], subject=f"Lot {n}", body="corps\n"))
    with imaplib.IMAP4_SSL("127.0.0.1", mss.imap.port, ssl_context=pki.client_context(), timeout=10) as imap:
        imap.authenticate("XOAUTH2", lambda _: _xoauth2(mss))
        imap.select("INBOX")
        typ, data = imap.search(None, "SUBJECT", "Lot")
        assert typ == "OK" and len(data) == 1 and len(data[0].split()) == SEARCH_CHUNK + 5
        typ, data = imap.search(None, "SUBJECT", "Lot 54")
        assert typ == "OK" and len(data[0].split()) == 1
