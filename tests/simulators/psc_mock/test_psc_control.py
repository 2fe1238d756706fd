"""The PSC mock's control plane: closed without the admin token, registers the DUI's client,
chooses who logs in, revokes tokens, resets; exchanges carry the `client_id` attribution key."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from banc.control import ControlClient, ControlError
from banc.directory import default_directory
from banc.dui import DuiProfile

pytestmark = pytest.mark.slow
DUI_REDIRECT = "https://dui.exemple.test/psc/retour"

ROUTES = [
    ("GET", "/etat", None), ("POST", "/reinitialiser", None), ("POST", "/semer", b"{}"),
    ("POST", "/dui", json.dumps({"name": "pirate", "psc_client_id": "pirate",
                                 "psc_redirect_uris": ["https://evil.test/cb"]}).encode()),
    ("GET", "/actions", None),
    ("POST", "/actions/connecter", b'{"professionnel": "899900000011"}'),
    ("POST", "/actions/page_de_connexion", b"{}"),
    ("POST", "/actions/revoquer", b"{}"),
    ("POST", "/actions/enregistrer_client", b'{"client_id": "pirate"}'),
]


@pytest.mark.parametrize(("method", "route", "body"), ROUTES, ids=[f"{m} {r}" for m, r, _ in ROUTES])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer faux"}], ids=["none", "wrong"])
def test_control_routes_refuse_callers_without_the_admin_token(psc, tls, method, route, body,
                                                              headers) -> None:
    before = (dict(psc.store.clients), psc.provider.automatic_user)
    response = httpx.request(method, psc.endpoints["psc.controle"] + route, content=body,
                             headers=headers, verify=tls)
    assert response.status_code == 401 and "jeton" in response.json()["erreur"]
    assert (dict(psc.store.clients), psc.provider.automatic_user) == before


def authorize(psc, tls, client_id: str, secret: str | None, redirect: str) -> httpx.Response:
    with OAuth2Client(client_id, secret, scope="openid scope_all", redirect_uri=redirect,
                      code_challenge_method="S256", verify=tls) as oauth:
        uri, _ = oauth.create_authorization_url(psc.endpoints["psc.authorization"],
                                                code_verifier=generate_token(48),
                                                nonce=generate_token(16))
    return httpx.get(uri, verify=tls, follow_redirects=False)


def test_register_dui_client_then_its_exchanges_are_attributed(psc, tls, psc_journal,
                                                               admin_token) -> None:
    control = ControlClient("psc", psc.endpoints["psc.controle"], admin_token, verify=tls)
    profile = DuiProfile("dui-psc", psc_client_id="dui-psc", psc_secret="s3cret",
                         psc_redirect_uris=(DUI_REDIRECT,))
    registered = control.register_dui(profile)
    assert registered == {"client": {"client_id": "dui-psc", "confidentiel": True,
                                     "redirections": [DUI_REDIRECT], "redirections_deconnexion": []}}
    assert "s3cret" not in json.dumps(control.state())
    psc_journal.register_dui(profile)
    since = psc_journal.last_id()
    answer = authorize(psc, tls, "dui-psc", "s3cret", DUI_REDIRECT)
    assert answer.status_code == 302 and answer.headers["location"].startswith(DUI_REDIRECT)
    assert authorize(psc, tls, "dui-psc", "s3cret", "http://localhost:1/cb").status_code == 400
    recorded = [e for e in psc_journal.exchanges(service="psc", since_id=since)
                if e.operation == "authorize"]
    assert recorded and all(e.summary["client_id"] == "dui-psc" for e in recorded)
    assert {e.dui for e in recorded} == {"dui-psc"}
    assert control.register_dui(DuiProfile("sans-psc"))["client"] is None
    control.close()


def test_connect_chooses_the_professional_and_revoke_ends_the_tokens(psc, tls, psc_journal) -> None:
    nurse = default_directory().person("infirmiere_liberale")
    assert psc.control.log_in(nurse.rpps)["connexion_automatique"] == nurse.national_id
    answer = authorize(psc, tls, "banc-dui", "banc-dui-secret", "http://localhost:8765/cb")
    code = parse_qs(urlparse(answer.headers["location"]).query)["code"]
    assert code
    tokens = psc.tokens_for(nurse)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(psc.endpoints["psc.userinfo"], headers=bearer, verify=tls).status_code == 200
    assert psc.control.revoke(professionnel=nurse.national_id)["revoques"] >= 2
    refused = httpx.get(psc.endpoints["psc.userinfo"], headers=bearer, verify=tls)
    assert refused.status_code == 401 and refused.json()["rule"] == "PSC.BEARER.REVOKED"
    with pytest.raises(ControlError, match="absent de l'annuaire"):
        psc.control.log_in("00000000000")
    psc.control.interactive()
    page = authorize(psc, tls, "banc-dui", "banc-dui-secret", "http://localhost:8765/cb")
    assert page.status_code == 200 and "<form" in page.text
    request_id = re.search(r'name="request"\s+value="([^"]+)"', page.text).group(1)
    since = psc_journal.last_id()
    login = httpx.post(psc.endpoints["psc.authorization"], verify=tls,
                       data={"request": request_id, "identifiant": nurse.national_id})
    assert login.status_code == 302 and "code=" in login.headers["location"]
    (exchange,) = [e for e in psc_journal.exchanges(service="psc", since_id=since)
                   if e.operation == "login"]
    assert exchange.summary["client_id"] == "banc-dui"  # the browser's POST, attributed too
    assert exchange.summary["subject"] == nurse.national_id
    psc.automatic()


def test_reset_forgets_clients_sessions_and_automatic_login(psc, tls) -> None:
    psc.register_client("temporaire", None, ("http://localhost:9/cb",))
    gp = default_directory().gp
    tokens = psc.tokens_for(gp)
    psc.control.reset()
    assert "temporaire" not in psc.store.clients and "banc-dui" in psc.store.clients
    assert psc.provider.automatic_user is None
    refused = httpx.get(psc.endpoints["psc.userinfo"], verify=tls,
                        headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert refused.status_code == 401 and refused.json()["rule"] == "PSC.BEARER.UNKNOWN"
    with pytest.raises(ControlError, match="pas de données"):
        psc.control.seed(clients=[])
    psc.automatic()


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"client_id": ""}, "client_id"), ({"client_id": "x", "secret": 5}, "secret"),
     ({"client_id": "x", "redirections": "http://localhost/cb"}, "liste")],
)
def test_register_client_names_the_bad_parameter(psc, params, expected) -> None:
    with pytest.raises(ControlError, match=expected):
        psc.control.register_client(**params)
