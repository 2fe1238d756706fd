"""A PSC token revoked at the issuer no longer opens a mailbox: the MSSanté mock introspects
(RFC 7662) the tokens it accepts. The token comes from a real authorisation-code flow (Authlib);
replaying the code makes PSC revoke the session's tokens (RFC 6749 §4.1.2)."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from banc.directory import default_directory
from simulators.mssante_mock.app import MssanteMock
from simulators.psc_mock import RunningPsc
from simulators.psc_mock import launch as launch_psc

pytestmark = pytest.mark.slow
REDIRECT = "http://localhost:8765/callback"


@pytest.fixture(scope="module")
def psc(mock_context) -> Iterator[RunningPsc]:
    mock = launch_psc(mock_context("psc-revocation"))
    yield mock
    mock.stop()


@pytest.fixture(scope="module")
def mssante(psc, mock_context) -> Iterator[MssanteMock]:
    context = mock_context("mss-revocation")
    mock = MssanteMock(journal=context.journal, pki=context.pki, data_dir=context.data_dir,
                       issuer=psc.issuer)
    yield mock
    mock.stop()


def code_flow(psc: RunningPsc, tls: ssl.SSLContext, national_id: str) -> tuple[dict, dict]:
    """(tokens, the token request form): the DUI's login, as Authlib performs it."""
    config = httpx.get(psc.endpoints["psc.discovery"], verify=tls).json()
    psc.automatic(national_id)
    verifier = generate_token(48)
    with OAuth2Client("banc-dui", "banc-dui-secret", scope="openid scope_all", redirect_uri=REDIRECT,
                      code_challenge_method="S256", verify=tls) as oauth:
        uri, _state = oauth.create_authorization_url(
            config["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(16))
        callback = httpx.get(uri, verify=tls, follow_redirects=False).headers["location"]
        tokens = oauth.fetch_token(config["token_endpoint"], authorization_response=callback,
                                   code_verifier=verifier)
    form = {"grant_type": "authorization_code", "code": parse_qs(urlparse(callback).query)["code"][0],
            "redirect_uri": REDIRECT, "code_verifier": verifier}
    return dict(tokens), {"url": config["token_endpoint"], "form": form}


def smtp_auth(mssante: MssanteMock, tls: ssl.SSLContext, user: str, token: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", mssante.smtp.starttls_port, timeout=30) as smtp:
        smtp.starttls(context=tls)
        smtp.ehlo()
        try:
            code, reply = smtp.auth("XOAUTH2", lambda _=None: f"user={user}\x01auth=Bearer {token}\x01\x01")
        except smtplib.SMTPAuthenticationError as refused:
            return refused.smtp_code, refused.smtp_error
        return code, reply


def test_token_revoked_by_code_replay_is_refused_over_smtp_and_imap(psc, mssante, pki) -> None:
    tls = pki.client_context()
    gp = default_directory().gp
    assert gp.mailbox is not None
    tokens, exchange = code_flow(psc, tls, gp.national_id)
    assert smtp_auth(mssante, tls, gp.mailbox.address, tokens["access_token"])[0] == 235

    replay = httpx.post(exchange["url"], data=exchange["form"], verify=tls,
                        auth=("banc-dui", "banc-dui-secret"))
    assert replay.status_code == 400  # the code was used: PSC revokes the session's tokens

    since = mssante.journal.last_id()
    code, reply = smtp_auth(mssante, tls, gp.mailbox.address, tokens["access_token"])
    assert code == 535 and b"TOKEN.REVOKED" in reply, reply
    with (imaplib.IMAP4_SSL("127.0.0.1", mssante.imap.port, ssl_context=tls, timeout=30) as imap,
          pytest.raises(imaplib.IMAP4.error, match=r"TOKEN\.REVOKED")):
        imap.authenticate("XOAUTH2", lambda _: (f"user={gp.mailbox.address}\x01auth=Bearer "
                                                f"{tokens['access_token']}\x01\x01").encode())
    refused = [f for e in mssante.journal.exchanges(since_id=since) for f in e.findings
               if f.rule_id == "TOKEN.REVOKED"]
    assert refused and all(f.requirements for f in refused)
