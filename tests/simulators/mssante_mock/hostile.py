"""Hostile messages, generated (no blobs): each one once cost the mock gigabytes, a recursion
error or tens of seconds (ISSUE 11 item 9)."""

from __future__ import annotations

HEAD = (b"From: {sender}\r\nTo: {to}\r\nMessage-ID: <hostile@ssiad.test>\r\n"
        b"Date: Thu, 03 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n")


def _head(sender: str, to: str) -> bytes:
    return HEAD.replace(b"{sender}", sender.encode()).replace(b"{to}", to.encode())


def encoded_words_subject(sender: str, to: str, words: int = 50_000) -> bytes:
    """A 0.85 MB Subject of RFC 2047 encoded words (grew the process from 1.8 to 21 GB)."""
    subject = b" ".join(b"=?utf-8?q?=C3=A9?=" for _ in range(words))
    return _head(sender, to) + b"Subject: " + subject + b"\r\n\r\ncorps\r\n"


def nested_multiparts(sender: str, to: str, depth: int = 3_000) -> bytes:
    """Multiparts nested `depth` deep (RecursionError in the stdlib parser, then 451)."""
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\r\n--n%d--" % i for i in reversed(range(depth)))
    return (_head(sender, to) + b"Subject: imbrication\r\n" + opening
            + b"Content-Type: text/plain\r\n\r\nfeuille" + closing + b"\r\n")


def many_parts(sender: str, to: str, parts: int = 50_000) -> bytes:
    """One multipart with `parts` tiny parts (21 s of parsing and checks)."""
    body = b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" * parts
    return (_head(sender, to) + b'Subject: parties\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n'
            + body + b"--p--\r\n")


def long_header_parameters(sender: str, to: str, params: int = 20_000) -> bytes:
    """A Content-Type with `params` RFC 2231 continuations (quadratic header parsing)."""
    value = b"; ".join(b"name*%d=x" % i for i in range(params))
    return (_head(sender, to) + b"Subject: parametres\r\nContent-Type: text/plain; " + value
            + b"\r\n\r\ncorps\r\n")


def bare_line_feeds(sender: str, to: str, lines: int = 2_000_000) -> bytes:
    """Two million bare LF (a split per line allocated one object each)."""
    return _head(sender, to) + b"Subject: lignes\r\n\r\n" + b"\n" * lines


ALL = {
    "50 000 mots encodés dans l'objet": encoded_words_subject,
    "3 000 multiparts imbriqués": nested_multiparts,
    "50 000 parties": many_parts,
    "20 000 paramètres RFC 2231": long_header_parameters,
    "2 millions de LF nus": bare_line_feeds,
}
