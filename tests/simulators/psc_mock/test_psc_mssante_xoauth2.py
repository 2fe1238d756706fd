"""PSC tokens open MSSanté mailboxes: the MSSanté mock, configured with the PSC mock as issuer,
accepts a genuine token in SMTP AUTH XOAUTH2 and refuses a tampered or expired one."""

from __future__ import annotations

import base64
import json
import smtplib
from collections.abc import Iterator

import pytest

from banc.directory import default_directory
from simulators.mssante_mock.app import MssanteMock

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mssante(psc, psc_context) -> Iterator[MssanteMock]:
    mock = MssanteMock(journal=psc_context.journal, pki=psc_context.pki,
                       data_dir=psc_context.data_dir / "mssante", issuer=psc.issuer,
                       jwks_uri=psc.endpoints["psc.jwks_uri"])
    yield mock
    mock.stop()


def xoauth2(mssante: MssanteMock, tls, user: str, token: str) -> tuple[int, bytes]:
    """Reply to AUTH XOAUTH2 with an initial response (RFC 7628 style, as mail clients send)."""
    smtp = smtplib.SMTP("127.0.0.1", mssante.smtp.starttls_port, timeout=10)
    try:
        smtp.starttls(context=tls)
        smtp.ehlo()
        raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
        code, message = smtp.docmd("AUTH", "XOAUTH2 " + base64.b64encode(raw.encode()).decode())
        if code == 334:  # error details as a challenge (RFC 7628 §3.2.2): answer empty
            challenge = base64.b64decode(message)
            code, message = smtp.docmd("")
            message = challenge + b" " + message
        return code, message
    finally:
        smtp.close()


def forge(token: str, **changes: object) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{head}.{body}.{signature}"


def test_psc_token_opens_the_gp_mailbox_and_bad_ones_do_not(psc, mssante, tls) -> None:
    gp = default_directory().gp
    assert gp.mailbox is not None
    tokens = psc.tokens_for(gp)
    code, _ = xoauth2(mssante, tls, gp.mailbox.address, tokens["access_token"])
    assert code == 235
    other = default_directory().person("medecin_hospitalier")
    forged = forge(tokens["access_token"], SubjectNameID=other.national_id)
    expired = psc.tokens_for(gp, lifetime=-300)["access_token"]
    for bad, reason in ((forged, b"TOKEN.SIGNATURE"), (expired, b"TOKEN.EXPIRED")):
        code, message = xoauth2(mssante, tls, gp.mailbox.address, bad)
        assert code == 535 and reason in message, message
    # a genuine token of someone else does not open the GP's mailbox either
    code, message = xoauth2(mssante, tls, gp.mailbox.address, psc.tokens_for(other)["access_token"])
    assert code == 535 and b"NOT_AUTHORIZED" in message
