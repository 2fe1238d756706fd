"""Hostile input classes against the PSC mock (ISSUE 11, item 14): malformed PKCE values
(non-ASCII `code_verifier` used to be a 500), redirect URIs smuggling control characters,
unforeseen errors. Each gets an OAuth error naming the rule, and is journaled."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge

pytestmark = pytest.mark.slow
REDIRECT = "http://localhost:8765/callback"
SECRET = ("banc-dui", "banc-dui-secret")


def code_for(psc, tls, verifier: str) -> str:
    """An authorization code bound to S256(`verifier`), obtained with Authlib as a DUI would."""
    with OAuth2Client("banc-dui", "banc-dui-secret", scope="openid scope_all",
                      redirect_uri=REDIRECT, code_challenge_method="S256", verify=tls) as oauth:
        uri, _ = oauth.create_authorization_url(psc.endpoints["psc.authorization"],
                                                code_verifier=verifier, nonce=generate_token(16))
    response = httpx.get(uri, verify=tls, follow_redirects=False)
    assert response.status_code == 302, response.text
    return parse_qs(urlparse(response.headers["location"]).query)["code"][0]


@pytest.mark.parametrize(
    "verifier",
    ["\u00e9" * 50, "a" * 42, "a" * 129, "a" * 42 + " ", "a" * 42 + "\x00", "a" * 42 + "+",
     "\u0661" * 50],
    ids=["non-ascii", "too-short", "too-long", "space", "nul", "plus", "arabic-indic"],
)
def test_malformed_code_verifier_is_invalid_grant(psc, tls, psc_journal, verifier) -> None:
    code = code_for(psc, tls, generate_token(48))
    since = psc_journal.last_id()
    response = httpx.post(psc.endpoints["psc.token"], verify=tls, auth=SECRET, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["rule"] == "PSC.TOKEN.PKCE"
    assert "RFC 7636" in response.json()["error_description"]
    # the 302 of the authorization may be journaled just after its client saw it (empty body)
    (exchange,) = [e for e in psc_journal.exchanges(service="psc", since_id=since)
                   if e.operation == "token"]
    assert exchange.status == "400" and exchange.findings[0].rule_id == "PSC.TOKEN.PKCE"


def test_authlib_verifier_of_every_allowed_length_is_accepted(psc, tls) -> None:
    for length in (43, 128):
        verifier = generate_token(length)
        code = code_for(psc, tls, verifier)
        response = httpx.post(psc.endpoints["psc.token"], verify=tls, auth=SECRET, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier})
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    "challenge",
    ["\u00e9" * 43, "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "/",
     create_s256_code_challenge("x" * 50) + "="],
    ids=["non-ascii", "too-short", "too-long", "padding", "slash", "padded-real"],
)
def test_malformed_code_challenge_is_reported_to_the_client(psc, tls, challenge) -> None:
    response = httpx.get(psc.endpoints["psc.authorization"], verify=tls, params={
        "client_id": "banc-dui", "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid scope_all", "state": "s", "nonce": "n", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert response.status_code == 302
    query = parse_qs(urlparse(response.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s"]
    assert "code_challenge" in query["error_description"][0]


@pytest.mark.parametrize(
    "redirect",
    ["http://localhost:1/c\x00b", "http://localhost:1/c\r\nSet-Cookie: a=b",
     "http://localhost:1/c b", "http://localhost:1/cb#fragment", "http://localhost:1/c\tb",
     "http://localhost:1/c\x7fb", "http://localhost:123456/cb"],
    ids=["nul", "crlf", "space", "fragment", "tab", "del", "long-port"],
)
def test_redirect_uri_with_control_characters_is_not_followed(psc, tls, redirect) -> None:
    """Nothing the client put in redirect_uri may ride into the Location header."""
    response = httpx.get(psc.endpoints["psc.authorization"], verify=tls, params={
        "client_id": "banc-dui", "redirect_uri": redirect, "response_type": "code",
        "scope": "openid scope_all", "state": "s", "nonce": "n"})
    assert response.status_code == 400, response.headers
    assert "location" not in response.headers
    assert "non enregistrée" in response.text


def test_an_unforeseen_error_is_a_journaled_server_error(psc, tls, psc_journal,
                                                         monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("clé illisible")

    monkeypatch.setattr(psc.store, "jwks", broken)
    since = psc_journal.last_id()
    response = httpx.get(psc.endpoints["psc.jwks_uri"], verify=tls)
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "clé illisible" in response.json()["error_description"]
    (exchange,) = psc_journal.exchanges(service="psc", since_id=since)
    assert exchange.status == "500" and exchange.findings[0].rule_id == "PSC.INTERNAL"
