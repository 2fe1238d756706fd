"""An off-the-shelf OIDC client (Authlib) against the PSC mock, and what it must refuse."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from banc.access_tokens import verify_access_token
from banc.directory import default_directory

pytestmark = pytest.mark.slow
REDIRECT = "http://localhost:8765/callback"


def tamper(token: str, **changes: object) -> str:
    """The same token with other claims and the original signature."""
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{head}.{body}.{signature}"


def discover(psc, tls) -> dict:
    response = httpx.get(psc.endpoints["psc.discovery"], verify=tls)
    assert response.status_code == 200
    return response.json()


def client(tls, **options) -> OAuth2Client:
    options.setdefault("client_secret", "banc-dui-secret")
    return OAuth2Client(options.pop("client_id", "banc-dui"), scope="openid scope_all",
                        redirect_uri=REDIRECT, code_challenge_method="S256", verify=tls,
                        **options)


def authorize(oauth: OAuth2Client, config: dict, tls, **extra) -> tuple[str, str, str]:
    """(callback URL with the code, code_verifier, nonce), following the provider's redirect."""
    verifier, nonce = generate_token(48), generate_token(16)
    uri, _state = oauth.create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, nonce=nonce,
        acr_values="eidas1", **extra)
    response = httpx.get(uri, verify=tls, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"], verifier, nonce


def test_discovery_at_both_paths(psc, tls) -> None:
    wallet = discover(psc, tls)
    standard = httpx.get(psc.issuer + "/.well-known/openid-configuration", verify=tls).json()
    assert wallet == standard
    assert wallet["issuer"] == psc.issuer and wallet["jwks_uri"] == psc.endpoints["psc.jwks_uri"]
    assert "S256" in wallet["code_challenge_methods_supported"]
    keys = httpx.get(wallet["jwks_uri"], verify=tls).json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_authlib_code_flow_with_pkce_reads_the_claims(psc, tls) -> None:
    config = discover(psc, tls)
    gp = default_directory().gp
    with client(tls) as oauth:
        callback, verifier, nonce = authorize(oauth, config, tls)
        token = oauth.fetch_token(config["token_endpoint"], authorization_response=callback,
                                  code_verifier=verifier)
        keys = KeySet.import_key_set(httpx.get(config["jwks_uri"], verify=tls).json())
        id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": psc.issuer},
                              aud={"essential": True, "value": "banc-dui"},
                              nonce={"essential": True, "value": nonce},
                              acr={"essential": True, "value": "eidas1"}).validate(id_token.claims)
        assert id_token.claims["SubjectNameID"] == gp.national_id
        info = oauth.get(config["userinfo_endpoint"]).json()
        signed = oauth.get(config["userinfo_endpoint"], headers={"Accept": "application/jwt"})
    assert info["SubjectNameID"] == gp.national_id == "8" + gp.rpps
    assert (info["given_name"], info["family_name"]) == (gp.given, gp.family)
    exercice = info["SubjectRefPro"]["exercices"][0]
    assert (exercice["codeProfession"], exercice["codeSavoirFaire"]) == ("10", "SM54")
    activity = exercice["activities"][0]
    assert activity["raisonSocialeSite"] == "CABINET MEDICAL DES DOMES"
    assert activity["identifiantTechniqueDeLaStructure"] == info["SubjectOrganizationID"]
    assert all(isinstance(v, str) for v in activity.values())
    assert info["SubjectRole"] == ["10^1.2.250.1.213.1.1.5.5"]
    assert info["Secteur_Activite"] == "SA08^1.2.250.1.71.4.2.4"
    assert signed.headers["content-type"].startswith("application/jwt")
    decoded = jwt.decode(signed.text, keys, algorithms=["RS256"]).claims
    assert decoded["SubjectRefPro"] == info["SubjectRefPro"] and decoded["iss"] == psc.issuer


def test_public_client_and_login_hint(psc, tls) -> None:
    config = discover(psc, tls)
    nurse = default_directory().person("infirmiere_liberale")
    with client(tls, client_id="banc-dui-public", client_secret=None,
                token_endpoint_auth_method="none") as oauth:
        callback, verifier, _ = authorize(oauth, config, tls, login_hint=nurse.national_id)
        oauth.fetch_token(config["token_endpoint"], authorization_response=callback,
                          code_verifier=verifier)
        info = oauth.get(config["userinfo_endpoint"]).json()
    assert info["SubjectNameID"] == nurse.national_id
    structures = {a["numeroFinessSite"] for a in info["SubjectRefPro"]["exercices"][0]["activities"]}
    assert default_directory().ssiad.finess in structures


def test_tampered_and_expired_tokens_are_refused_by_userinfo_and_the_mssante_verifier(psc, tls) -> None:
    config = discover(psc, tls)
    jwks = httpx.get(config["jwks_uri"], verify=tls).json()
    gp = default_directory().gp
    good = psc.tokens_for(gp.national_id)["access_token"]
    assert verify_access_token(good, jwks, issuer=psc.issuer).ok
    forged = tamper(good, SubjectNameID=default_directory().person("medecin_hospitalier").national_id)
    expired = psc.tokens_for(gp, lifetime=-120)["access_token"]
    for bad, rule in ((forged, "PSC.BEARER.INVALID"), (expired, "PSC.BEARER.EXPIRED")):
        response = httpx.get(config["userinfo_endpoint"], verify=tls,
                             headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert response.json()["rule"] == rule
        assert not verify_access_token(bad, jwks, issuer=psc.issuer).ok
    missing = httpx.get(config["userinfo_endpoint"], verify=tls)
    assert missing.status_code == 401 and missing.json()["rule"] == "PSC.BEARER.MISSING"


def test_authorization_errors(psc, tls) -> None:
    endpoint = discover(psc, tls)["authorization_endpoint"]
    base = {"response_type": "code", "client_id": "banc-dui", "redirect_uri": REDIRECT,
            "scope": "openid scope_all", "state": "s1", "nonce": "n1",
            "code_challenge": "x" * 43, "code_challenge_method": "S256"}

    def go(**changes) -> httpx.Response:
        return httpx.get(endpoint, params={**base, **changes}, verify=tls)

    unknown = go(client_id="intrus")
    assert unknown.status_code == 400 and "inconnu" in unknown.text
    assert go(redirect_uri="https://evil.example/cb").status_code == 400
    for changes, error in (({"scope": "profile"}, "invalid_scope"),
                           ({"response_type": "token"}, "unsupported_response_type"),
                           ({"code_challenge_method": "plain"}, "invalid_request")):
        response = go(**changes)
        assert response.status_code == 302
        query = parse_qs(urlparse(response.headers["location"]).query)
        assert query["error"] == [error] and query["state"] == ["s1"]
        assert query["error_description"][0]


def test_token_endpoint_errors_and_code_replay(psc, tls) -> None:
    config = discover(psc, tls)
    with client(tls) as oauth:
        callback, verifier, _ = authorize(oauth, config, tls)
    code = parse_qs(urlparse(callback).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    wrong_secret = httpx.post(config["token_endpoint"], data=form, verify=tls,
                              auth=("banc-dui", "faux"))
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    bad_verifier = httpx.post(config["token_endpoint"], verify=tls, auth=("banc-dui", "banc-dui-secret"),
                              data={**form, "code_verifier": "y" * 50})
    assert bad_verifier.status_code == 400 and bad_verifier.json()["error"] == "invalid_grant"
    replay = httpx.post(config["token_endpoint"], data=form, verify=tls,
                        auth=("banc-dui", "banc-dui-secret"))
    assert replay.json()["rule"] == "PSC.TOKEN.CODE_REUSED"
    unsupported = httpx.post(config["token_endpoint"], verify=tls, auth=("banc-dui", "banc-dui-secret"),
                             data={"grant_type": "password", "username": "x", "password": "y"})
    assert unsupported.json()["error"] == "unsupported_grant_type"


def test_introspection_refresh_and_logout(psc, tls) -> None:
    config = discover(psc, tls)
    tokens = psc.tokens_for(default_directory().gp)
    secret = ("banc-dui", "banc-dui-secret")
    active = httpx.post(config["introspection_endpoint"], data={"token": tokens["access_token"]},
                        auth=secret, verify=tls).json()
    assert active["active"] is True and active["username"] == default_directory().gp.national_id
    assert active["client_id"] == "banc-dui" and active["acr"] == "eidas1"
    refreshed = httpx.post(config["token_endpoint"], auth=secret, verify=tls, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    again = httpx.post(config["token_endpoint"], auth=secret, verify=tls, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400  # a refresh token is used once
    new_access = refreshed.json()["access_token"]
    logout = httpx.get(config["end_session_endpoint"], verify=tls, params={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "http://localhost:8765/",
        "state": "bye"})
    assert logout.status_code == 302 and logout.headers["location"].endswith("state=bye")
    for token in (tokens["access_token"], new_access):
        assert httpx.post(config["introspection_endpoint"], data={"token": token}, auth=secret,
                          verify=tls).json() == {"active": False}
        revoked = httpx.get(config["userinfo_endpoint"], verify=tls,
                            headers={"Authorization": f"Bearer {token}"})
        assert revoked.status_code == 401 and revoked.json()["rule"] == "PSC.BEARER.REVOKED"
    public = httpx.post(config["introspection_endpoint"], data={"token": new_access,
                        "client_id": "banc-dui-public"}, verify=tls)
    assert public.status_code == 401


def test_login_page_for_a_trainer(psc, tls) -> None:
    config = discover(psc, tls)
    psc.interactive()
    try:
        with client(tls) as oauth:
            verifier = generate_token(48)
            uri, state = oauth.create_authorization_url(config["authorization_endpoint"],
                                                        code_verifier=verifier, nonce="n")
        page = httpx.get(uri, verify=tls)
        assert page.status_code == 200 and 'lang="fr"' in page.text
        assert "Se connecter avec e-CPS" in page.text and "VIDAL" in page.text
        request_id = page.text.split('name="request" value="')[1].split('"')[0]
        action = config["authorization_endpoint"]
        unknown = httpx.post(action, verify=tls, data={"request": request_id, "action": "login",
                                                       "identifiant": "812345678901"})
        assert unknown.status_code == 200 and "inconnu" in unknown.text
        idec = default_directory().person("infirmiere_coordinatrice")
        chosen = httpx.post(action, verify=tls, data={"request": request_id, "action": "login",
                                                      "professionnel": idec.national_id})
        assert chosen.status_code == 302
        query = parse_qs(urlparse(chosen.headers["location"]).query)
        assert query["state"] == [state] and query["code"]
        stale = httpx.post(action, verify=tls, data={"request": request_id, "action": "login"})
        assert stale.status_code == 400
    finally:
        psc.automatic()


def test_every_exchange_is_journaled(psc, tls, psc_journal) -> None:
    since = psc_journal.last_id()
    config = discover(psc, tls)
    httpx.get(config["userinfo_endpoint"], verify=tls, headers={"Authorization": "Bearer abc"})
    exchanges = psc_journal.exchanges(service="psc", since_id=since)
    assert [e.operation for e in exchanges] == ["discovery", "userinfo"]
    assert exchanges[1].status == "401" and not exchanges[1].conform
    assert exchanges[1].findings[0].rule_id == "PSC.BEARER.INVALID"
    assert time.time() - exchanges[1].started_at < 60
