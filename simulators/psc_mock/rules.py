"""Checks of what a relying party (the DUI) sends to Pro Santé Connect: pure functions from the
request parameters (and the records they name) to findings. Warnings flag what PSC tolerates
but a careful client should not do (no state, no nonce, no PKCE, another acr).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from banc.verdict import Finding, RuleSet, Severity
from simulators.psc_mock.models import Client, Code
from simulators.psc_mock.wire import ACR

RULES = RuleSet("pro-sante-connect", "PSC")
"""Rule ids `PSC.…`. No requirement of the DSR catalogue concerns Pro Santé Connect itself (the
login serves the other exchanges): findings cite none."""
CODE_LIFETIME = 60.0
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def check_client_and_redirect(params: dict[str, str], client: Client | None) -> list[Finding]:
    """Defects that forbid redirecting back to the client (answered by an error page)."""
    if client is None:
        return [RULES.finding("AUTHZ.CLIENT", f"client_id {params.get('client_id', '')!r} inconnu de "
                         "Pro Santé Connect (client non enregistré)", location="client_id")]
    uri = params.get("redirect_uri", "")
    if not uri:
        return [RULES.finding("AUTHZ.REDIRECT_URI", "redirect_uri absent de la demande d'autorisation",
                         location="redirect_uri")]
    if not client.accepts_redirect(uri):
        return [RULES.finding("AUTHZ.REDIRECT_URI", f"redirect_uri {uri!r} non enregistrée pour le "
                         f"client {client.client_id}", location="redirect_uri")]
    return []


def check_authorization(params: dict[str, str], client: Client) -> list[Finding]:
    """Defects reported to the client through its redirect_uri (and warnings)."""
    found: list[Finding] = []
    if params.get("response_type") != "code":
        found.append(RULES.finding("AUTHZ.RESPONSE_TYPE", f"response_type {params.get('response_type')!r}"
                              " non pris en charge : seul le flux code d'autorisation (code) est "
                              "proposé", location="response_type"))
    scopes = params.get("scope", "").split()
    if "openid" not in scopes:
        found.append(RULES.finding("AUTHZ.SCOPE", "la portée openid est obligatoire (scope=openid "
                              "scope_all)", location="scope"))
    elif "scope_all" not in scopes:
        found.append(RULES.finding("AUTHZ.SCOPE_ALL", "scope_all absent : SubjectRefPro et les "
                              "activités ne seront pas fournis par PSC", location="scope", severity=Severity.WARNING))
    method = params.get("code_challenge_method", "")
    challenge = params.get("code_challenge", "")
    if challenge and method != "S256":
        found.append(RULES.finding("AUTHZ.PKCE_METHOD", f"code_challenge_method {method or 'plain'!r} "
                              "refusé : S256 obligatoire", location="code_challenge_method"))
    elif challenge and not _CHALLENGE.fullmatch(challenge):
        found.append(RULES.finding("AUTHZ.PKCE_CHALLENGE", "code_challenge mal formé : le SHA-256 du "
                              "code_verifier en base64url sans remplissage (43 caractères "
                              "A-Z a-z 0-9 - _) attendu (RFC 7636 §4.2)", location="code_challenge"))
    if not challenge and client.secret is None:
        found.append(RULES.finding("AUTHZ.PKCE_REQUIRED", "client public sans PKCE : code_challenge "
                              "(S256) obligatoire", location="code_challenge"))
    elif not challenge:
        found.append(RULES.finding("AUTHZ.PKCE", "PKCE (code_challenge S256) recommandé",
                              location="code_challenge", severity=Severity.WARNING))
    if not params.get("state"):
        found.append(RULES.finding("AUTHZ.STATE", "state absent : la réponse ne peut pas être liée à "
                              "la demande (protection CSRF)", location="state", severity=Severity.WARNING))
    if not params.get("nonce"):
        found.append(RULES.finding("AUTHZ.NONCE", "nonce absent : rejeu de l'ID token non détectable",
                              location="nonce", severity=Severity.WARNING))
    if params.get("acr_values", ACR) != ACR:
        found.append(RULES.finding("AUTHZ.ACR", f"acr_values {params.get('acr_values')!r} : PSC "
                              f"authentifie au niveau {ACR}", location="acr_values", severity=Severity.WARNING))
    return found


def check_client_secret(client: Client | None, client_id: str, secret: str | None) -> list[Finding]:
    if client is None:
        return [RULES.finding("TOKEN.CLIENT", f"client {client_id!r} inconnu", location="client_id")]
    if client.secret is None:
        return [] if not secret else [RULES.finding(
            "TOKEN.CLIENT", "client public : aucun secret attendu", location="client_secret")]
    if secret is None or not hmac.compare_digest(secret, client.secret):
        return [RULES.finding("TOKEN.CLIENT", f"authentification du client {client_id} refusée "
                         "(secret absent ou incorrect)", location="client_secret")]
    return []


def pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_code_exchange(params: dict[str, str], code: Code | None, client_id: str,
                        now: float | None = None) -> list[Finding]:
    now = time.time() if now is None else now
    if code is None:
        return [RULES.finding("TOKEN.CODE", "code d'autorisation inconnu", location="code")]
    if code.used:
        return [RULES.finding("TOKEN.CODE_REUSED", "code d'autorisation déjà échangé : un code ne sert "
                         "qu'une fois (jetons de la session révoqués)", location="code")]
    if now - code.created > CODE_LIFETIME:
        return [RULES.finding("TOKEN.CODE_EXPIRED", f"code d'autorisation expiré (validité "
                         f"{int(CODE_LIFETIME)} s)", location="code")]
    if code.client_id != client_id:
        return [RULES.finding("TOKEN.CODE", "code émis pour un autre client", location="code")]
    found = []
    if params.get("redirect_uri", "") != code.redirect_uri:
        found.append(RULES.finding("TOKEN.REDIRECT_URI", "redirect_uri différente de celle de la "
                              "demande d'autorisation", location="redirect_uri"))
    verifier = params.get("code_verifier", "")
    if code.challenge and not verifier:
        found.append(RULES.finding("TOKEN.PKCE", "code_verifier absent alors qu'un code_challenge a "
                              "été envoyé", location="code_verifier"))
    elif code.challenge and not _VERIFIER.fullmatch(verifier):
        found.append(RULES.finding("TOKEN.PKCE", f"code_verifier mal formé ({len(verifier)} "
                              "caractères) : de 43 à 128 caractères A-Z a-z 0-9 - . _ ~ attendus "
                              "(RFC 7636 §4.1)", location="code_verifier"))
    elif code.challenge and not hmac.compare_digest(pkce_s256(verifier), code.challenge):
        found.append(RULES.finding("TOKEN.PKCE", "code_verifier ne correspond pas au code_challenge "
                              "(S256)", location="code_verifier"))
    return found


def decode_token(token: str, keys: KeySet, issuer: str, now: float | None = None,
                 kind: str = "Bearer") -> tuple[dict, list[Finding]]:
    """(claims, findings) for a token this issuer signed: signature, typ, iss, exp."""
    now = time.time() if now is None else now
    if not token:
        return {}, [RULES.finding("BEARER.MISSING", "jeton d'accès absent (en-tête Authorization: "
                             "Bearer …)", location="Authorization")]
    try:
        claims = dict(jwt.decode(token, keys, algorithms=["RS256"]).claims)
    except (JoseError, ValueError) as exc:
        return {}, [RULES.finding("BEARER.INVALID", f"jeton illisible ou signature invalide "
                             f"({type(exc).__name__})", location="Authorization")]
    found = []
    if claims.get("iss") != issuer:
        found.append(RULES.finding("BEARER.ISSUER", f"émetteur {claims.get('iss')!r} inattendu",
                              location="iss"))
    if claims.get("typ") != kind:
        found.append(RULES.finding("BEARER.TYPE", f"jeton de type {claims.get('typ')!r} présenté à la "
                              f"place d'un jeton {kind}", location="typ"))
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < now:
        found.append(RULES.finding("BEARER.EXPIRED", "jeton expiré", location="exp"))
    return claims, found


def check_token_state(record: dict | None) -> list[Finding]:
    """The server-side state of a signed token: known, not revoked, session still open."""
    if record is None:
        return [RULES.finding("BEARER.UNKNOWN", "jeton non émis par ce serveur", location="jti")]
    if record["revoked"] or record["session_ended"]:
        return [RULES.finding("BEARER.REVOKED", "jeton révoqué (déconnexion ou révocation)", location="jti")]
    return []
