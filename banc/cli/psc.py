"""`banc psc …`: a reference Pro Santé Connect client (authorization code + PKCE).

- `banc psc decouverte`: fetch the OpenID configuration (wallet path, then standard path);
- `banc psc connexion [IDENTIFIANT]`: log a professional in (automatic mode, or by filling the
  login page like a browser would), exchange the code, print the tokens and the userinfo
  summary — the access token opens the professional's MSSanté mailbox (SASL XOAUTH2).
Works against the bench's PSC mock by default, or any provider with `--url` (its issuer).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import ssl
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from banc.cli import UsageError
from banc.cli.vocabulary import option
from banc.mocks import DEFAULT_PORTS
from banc.pki import TestPki

DEFAULT_ISSUER = f"https://localhost:{DEFAULT_PORTS['psc']}/auth/realms/esante-wallet"
REDIRECT = "http://localhost:8765/callback"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("psc", help="Pro Santé Connect : découverte, connexion")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    discover = actions.add_parser("decouverte", help="afficher la configuration OpenID")
    _connection(discover)
    discover.set_defaults(handler=_discover)
    login = actions.add_parser("connexion", help="connecter un professionnel et afficher ses jetons")
    login.add_argument("identifiant", nargs="?", default="",
                       help="identifiant national (8 + RPPS) ; défaut : mode automatique du simulateur")
    login.add_argument("--client", default="banc-dui", help="client_id (défaut : banc-dui)")
    login.add_argument("--secret", default="banc-dui-secret", help="secret du client")
    option(login, "--json", help="afficher les jetons et userinfo au format JSON")
    _connection(login)
    login.set_defaults(handler=_login)


def _connection(parser: argparse.ArgumentParser) -> None:
    option(parser, "--url", default=DEFAULT_ISSUER,
           help=f"émetteur OpenID, l'adresse du fournisseur (défaut : {DEFAULT_ISSUER})")
    parser.add_argument("--ca", metavar="FICHIER", help="AC de confiance (défaut : AC de la PKI de test du banc)")


def _client(args: argparse.Namespace) -> httpx.Client:
    ca = Path(args.ca) if args.ca else TestPki.ensure().ca_cert
    return httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=30,
                        follow_redirects=False)


def _configuration(client: httpx.Client, issuer: str) -> dict:
    for path in ("/.well-known/wallet-openid-configuration", "/.well-known/openid-configuration"):
        try:
            response = client.get(issuer.rstrip("/") + path)
        except httpx.HTTPError as exc:
            raise UsageError(f"Pro Santé Connect injoignable ({exc}) : lancez `banc demarrer` ou "
                             "indiquez --url") from exc
        if response.status_code == 200:
            return response.json()
    raise UsageError(f"aucune configuration OpenID publiée par {issuer}")


def _discover(args: argparse.Namespace) -> int:
    with _client(args) as client:
        config = _configuration(client, args.url)
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint",
                "introspection_endpoint", "end_session_endpoint", "jwks_uri"):
        print(f"{key:<24} {config.get(key, '(absent)')}")
    return 0


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _login(args: argparse.Namespace) -> int:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    with _client(args) as client:
        config = _configuration(client, args.url)
        params = {"response_type": "code", "client_id": args.client, "redirect_uri": REDIRECT,
                  "scope": "openid scope_all", "acr_values": "eidas1", "state": state,
                  "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
        if args.identifiant:
            params["login_hint"] = args.identifiant
        response = client.get(config["authorization_endpoint"], params=params)
        if response.status_code == 200 and 'name="request"' in response.text:
            if not args.identifiant:
                raise UsageError("le simulateur affiche sa page de connexion : indiquez "
                                 "l'identifiant national du professionnel")
            request_id = response.text.split('name="request" value="')[1].split('"')[0]
            response = client.post(config["authorization_endpoint"], data={
                "request": request_id, "action": "login", "identifiant": args.identifiant})
        if response.status_code != 302:
            raise UsageError(f"autorisation refusée (HTTP {response.status_code})")
        query = parse_qs(urlparse(response.headers["location"]).query)
        if "error" in query:
            raise UsageError(f"autorisation refusée : {query['error'][0]} — "
                             f"{query.get('error_description', [''])[0]}")
        if query.get("state") != [state]:
            raise UsageError("state de la réponse différent de celui envoyé")
        token = client.post(config["token_endpoint"], auth=(args.client, args.secret), data={
            "grant_type": "authorization_code", "code": query["code"][0],
            "redirect_uri": REDIRECT, "code_verifier": verifier})
        if token.status_code != 200:
            raise UsageError(f"échange du code refusé : {token.text[:300]}")
        tokens = token.json()
        info = client.get(config["userinfo_endpoint"],
                          headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    if args.json:
        print(json.dumps({"tokens": tokens, "userinfo": info}, ensure_ascii=False, indent=2))
        return 0
    id_claims = _claims(tokens["id_token"])
    if id_claims.get("nonce") != nonce:
        raise UsageError("nonce de l'ID token différent de celui envoyé")
    print(f"connecté : {info.get('given_name')} {info.get('family_name')} "
          f"({info.get('SubjectNameID')}), acr {id_claims.get('acr')}")
    for exercice in info.get("SubjectRefPro", {}).get("exercices", []):
        for activity in exercice.get("activities", []):
            print(f"  activité : {activity.get('raisonSocialeSite')} "
                  f"[{activity.get('identifiantTechniqueDeLaStructure')}]")
    print(f"jeton d'accès (XOAUTH2 MSSanté, expire dans {tokens.get('expires_in')} s) :")
    print(tokens["access_token"])
    return 0
