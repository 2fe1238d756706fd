"""Routes of the Pro Santé Connect mock (Starlette), under the Keycloak realm path
`/auth/realms/esante-wallet` like the real service. Each request: wire → rules → state; the
route annotates the journal exchange (`note`: operation, `client_id`, findings) that
`banc.recording.JournalMiddleware` records, refused ones too.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from banc.directory import Directory, Professional
from banc.recording import note
from banc.verdict import Finding, Severity
from simulators.psc_mock import faults, rules, wire
from simulators.psc_mock.models import PscStore

SERVICE = "psc"
JWT_MEDIA = "application/jwt"


@dataclass
class Provider:
    """The identity provider's behaviour: who logs in, which tokens it signs."""

    directory: Directory
    store: PscStore
    issuer: str = ""  # set once the server listens
    access_lifetime: int = 300
    refresh_lifetime: int = 1800
    automatic_user: str | None = None  # national id logged in without the page (None: page)
    pending: dict[str, dict] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keys(self) -> KeySet:
        return KeySet([self.store.key])

    def _sign(self, claims: dict, typ: str = "JWT") -> str:
        header = {"alg": "RS256", "kid": self.store.kid, "typ": typ}
        return jwt.encode(header, claims, self.store.key)

    def professional(self, national_id: str) -> Professional | None:
        return self.directory.professional(national_id.strip())

    def issue(self, prof: Professional, client_id: str, *, scope: str = "openid scope_all",
              nonce: str = "", sid: str | None = None, acr: str = wire.ACR,
              lifetime: int | None = None, now: float | None = None) -> dict:
        """Access, ID and refresh tokens for `prof` (also the scenario shortcut, no browser)."""
        now = time.time() if now is None else now
        sid = sid or self.store.open_session(prof.national_id, client_id, acr)
        session = self.store.session(sid) or {"auth_time": now}
        lifetime = self.access_lifetime if lifetime is None else lifetime
        common = {"iss": self.issuer, "sub": wire.subject(prof.national_id), "azp": client_id,
                  "iat": int(now), "exp": int(now + lifetime), "auth_time": int(session["auth_time"]),
                  "session_state": sid, "sid": sid, "acr": acr}
        access_jti = str(uuid.uuid4())
        access = self._sign({**common, "jti": access_jti, "typ": "Bearer", "aud": client_id,
                             "scope": scope, "nonce": nonce, **wire.identity_claims(prof)})
        id_claims = {**common, "jti": str(uuid.uuid4()), "typ": "ID", "aud": client_id,
                     "at_hash": wire.at_hash(access), **wire.identity_claims(prof)}
        if nonce:
            id_claims["nonce"] = nonce
        refresh_jti = str(uuid.uuid4())
        refresh = self._sign({"iss": self.issuer, "sub": common["sub"], "azp": client_id,
                              "iat": int(now), "exp": int(now + self.refresh_lifetime),
                              "jti": refresh_jti, "typ": "Refresh", "sid": sid, "scope": scope})
        self.store.remember_token(access_jti, sid, "Bearer", client_id, prof.national_id, scope,
                                  now + lifetime)
        self.store.remember_token(refresh_jti, sid, "Refresh", client_id, prof.national_id,
                                  scope, now + self.refresh_lifetime)
        return {"access_token": access, "expires_in": lifetime,
                "refresh_expires_in": self.refresh_lifetime, "refresh_token": refresh,
                "token_type": "Bearer", "id_token": self._sign(id_claims),
                "not-before-policy": 0, "session_state": sid, "scope": scope}

    def bearer(self, token: str) -> tuple[dict, list[Finding]]:
        claims, found = rules.decode_token(token, self.keys, self.issuer)
        if claims and not found:
            found = rules.check_token_state(self.store.token(str(claims.get("jti", ""))))
        return claims, found


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return unquote(client_id), unquote(secret)
        except (ValueError, UnicodeDecodeError):
            return "", None
    return form.get("client_id", ""), form.get("client_secret")


def build_app(provider: Provider) -> Starlette:
    realm = wire.REALM_PATH
    oidc = realm + wire.OIDC

    def reply(request: Request, operation: str, findings: list[Finding], summary: dict,
              response: Response) -> Response:
        """Annotate the journal exchange (the middleware records the bytes) and answer."""
        exchange = note(request.scope)
        exchange.operation = operation
        exchange.summary.update(summary)
        exchange.findings.extend(findings)
        return response

    async def discovery(request: Request) -> Response:
        response = JSONResponse(wire.discovery(provider.issuer))
        return reply(request, "discovery", [], {}, response)

    async def certs(request: Request) -> Response:
        return reply(request, "jwks", [], {}, JSONResponse(provider.store.jwks()))

    def login_redirect(params: dict[str, str], prof: Professional) -> str:
        sid = provider.store.open_session(prof.national_id, params["client_id"], wire.ACR)
        code = provider.store.new_code(
            client_id=params["client_id"], redirect_uri=params["redirect_uri"],
            subject=prof.national_id, scope=params.get("scope", ""),
            nonce=params.get("nonce", ""), challenge=params.get("code_challenge", ""),
            acr=wire.ACR, sid=sid)
        query = {"code": code, "session_state": sid}
        if params.get("state"):
            query["state"] = params["state"]
        uri = params["redirect_uri"]
        return uri + ("&" if "?" in uri else "?") + urlencode(query)

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        summary = {"client_id": params.get("client_id", ""), "scope": params.get("scope", "")}
        client = provider.store.clients.get(params.get("client_id", ""))
        findings = rules.check_client_and_redirect(params, client)
        if findings:
            return reply(request, "authorize", findings, summary,
                         HTMLResponse(wire.error_page(findings[0].message), status_code=400))
        assert client is not None
        findings = rules.check_authorization(params, client)
        if faults.errors(findings):
            target = faults.redirect_error(params["redirect_uri"], findings, params.get("state", ""))
            return reply(request, "authorize", findings, summary,
                         RedirectResponse(target, status_code=302))
        chosen = params.get("login_hint") or provider.automatic_user
        if provider.automatic_user is not None and chosen:
            prof = provider.professional(chosen)
            if prof is not None:
                summary["subject"] = prof.national_id
                return reply(request, "authorize", findings, summary,
                             RedirectResponse(login_redirect(params, prof), 302))
        request_id = secrets.token_urlsafe(16)
        now = time.time()
        with provider._lock:
            for stale in [k for k, v in provider.pending.items() if now - v["created"] > 600]:
                del provider.pending[stale]  # abandoned login pages (10 min, like the check)
            provider.pending[request_id] = {"params": params, "findings": findings,
                                            "created": now}
        html = wire.login_page(oidc + "/auth", request_id, _choices(provider.directory),
                               client.client_id)
        return reply(request, "authorize", findings, summary, HTMLResponse(html))

    async def login(request: Request) -> Response:
        body = await request.body()
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        with provider._lock:
            pending = provider.pending.get(form.get("request", ""))
        if pending is None or time.time() - pending["created"] > 600:
            finding = rules.RULES.finding("LOGIN.REQUEST", "demande d'authentification inconnue ou "
                                     "expirée : relancez la connexion depuis le logiciel")
            return reply(request, "login", [finding], {},
                         HTMLResponse(wire.error_page(finding.message), status_code=400))
        params = pending["params"]
        if form.get("action") == "cancel":
            with provider._lock:
                provider.pending.pop(form["request"], None)
            finding = rules.RULES.finding("LOGIN.CANCELLED", "authentification annulée par "
                                     "l'utilisateur", severity=Severity.WARNING)
            query = {"error": "access_denied", "error_description": finding.message}
            if params.get("state"):
                query["state"] = params["state"]
            return reply(request, "login", [finding], {"client_id": params.get("client_id", "")},
                         RedirectResponse(params["redirect_uri"] + "?" + urlencode(query), 302))
        chosen = (form.get("identifiant") or form.get("professionnel") or "").strip()
        prof = provider.professional(chosen) if chosen else None
        if prof is None:
            client_id = params.get("client_id", "")
            html = wire.login_page(oidc + "/auth", form["request"], _choices(provider.directory),
                                   client_id, error=f"identifiant {chosen!r} inconnu de "
                                   "l'annuaire du banc" if chosen else "choisissez un professionnel")
            return reply(request, "login", [], {"subject": chosen, "client_id": client_id},
                         HTMLResponse(html, status_code=200))
        with provider._lock:
            provider.pending.pop(form["request"], None)
        return reply(request, "login", pending["findings"],
                     {"subject": prof.national_id, "client_id": params.get("client_id", "")},
                     RedirectResponse(login_redirect(params, prof), status_code=302))

    async def token(request: Request) -> Response:
        body = await request.body()
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        client_id, secret = _client_credentials(request, form)
        client = provider.store.clients.get(client_id)
        summary = {"client_id": client_id, "grant_type": form.get("grant_type", "")}
        findings = rules.check_client_secret(client, client_id, secret)
        tokens: dict | None = None
        if not findings:
            grant = form.get("grant_type")
            if grant == "authorization_code":
                code = provider.store.take_code(form.get("code", ""))
                findings = rules.check_code_exchange(form, code, client_id)
                if code is not None and code.used:
                    provider.store.revoke_session(code.sid)  # RFC 6749 §4.1.2: code replay
                if not findings and code is not None:
                    prof = provider.professional(code.subject)
                    assert prof is not None
                    summary["subject"] = prof.national_id
                    tokens = provider.issue(prof, client_id, scope=code.scope, nonce=code.nonce,
                                            sid=code.sid, acr=code.acr)
            elif grant == "refresh_token":
                claims, findings = rules.decode_token(form.get("refresh_token", ""),
                                                      provider.keys, provider.issuer,
                                                      kind="Refresh")
                if claims and not findings:
                    state = provider.store.token(str(claims.get("jti", "")))
                    findings = rules.check_token_state(state)
                    if not findings and state and state["client_id"] != client_id:
                        findings = [rules.RULES.finding("TOKEN.REFRESH", "jeton de rafraîchissement "
                                                   "émis pour un autre client")]
                    if not findings and state:
                        provider.store.revoke(state["jti"])
                        prof = provider.professional(state["subject"])
                        assert prof is not None
                        tokens = provider.issue(prof, client_id, scope=state["scope"],
                                                sid=state["sid"])
                findings = [rules.RULES.finding("TOKEN.REFRESH", f.message) for f in findings]
            else:
                findings = [rules.RULES.finding("TOKEN.GRANT_TYPE", f"grant_type {grant!r} non pris "
                                           "en charge (authorization_code, refresh_token)")]
        if faults.errors(findings) or tokens is None:
            status, payload = faults.token_error(findings)
            response = Response(payload, status, media_type="application/json",
                                headers={"Cache-Control": "no-store"})
        else:
            response = JSONResponse(tokens, headers={"Cache-Control": "no-store",
                                                     "Pragma": "no-cache"})
        return reply(request, "token", findings, summary, response)

    async def userinfo(request: Request) -> Response:
        body = await request.body()
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not bearer and request.method == "POST":
            bearer = dict(parse_qsl(body.decode("utf-8", "replace"))).get("access_token", "")
        claims, findings = provider.bearer(bearer)
        summary = {"subject": claims.get("SubjectNameID", ""), "client_id": claims.get("azp", "")}
        if findings:
            status, payload, headers = faults.bearer_error(findings)
            return reply(request, "userinfo", findings, summary,
                         Response(payload, status, headers=headers, media_type="application/json"))
        prof = provider.professional(str(claims["SubjectNameID"]))
        assert prof is not None
        document = wire.userinfo_claims(provider.directory, prof)
        if JWT_MEDIA in request.headers.get("accept", ""):
            signed = provider._sign({**document, "iss": provider.issuer, "aud": claims["azp"],
                                     "iat": int(time.time())})
            summary["format"] = "jwt"
            return reply(request, "userinfo", [], summary,
                         Response(signed, media_type=JWT_MEDIA))
        summary["format"] = "json"
        return reply(request, "userinfo", [], summary, JSONResponse(document))

    async def introspect(request: Request) -> Response:
        body = await request.body()
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        client_id, secret = _client_credentials(request, form)
        client = provider.store.clients.get(client_id)
        findings = rules.check_client_secret(client, client_id, secret)
        if client is not None and client.secret is None:
            findings = [rules.RULES.finding("TOKEN.CLIENT", "l'introspection exige un client "
                                       "confidentiel (secret)")]
        summary = {"client_id": client_id}
        if findings:
            status, payload = faults.token_error(findings)
            return reply(request, "introspect", findings, summary,
                         Response(payload, status, media_type="application/json"))
        raw = form.get("token", "")
        claims, problems = provider.bearer(raw)
        if problems and claims and problems[0].rule_id == "PSC.BEARER.TYPE":
            claims, problems = rules.decode_token(raw, provider.keys, provider.issuer,
                                                  kind=str(claims.get("typ")))
            if not problems:
                problems = rules.check_token_state(provider.store.token(str(claims["jti"])))
        summary["active"] = not problems
        if problems:
            return reply(request, "introspect", [], summary,
                         JSONResponse({"active": False}))
        result = {**claims, "active": True, "client_id": claims.get("azp"),
                  "username": claims.get("preferred_username"),
                  "token_type": claims.get("typ")}
        return reply(request, "introspect", [], summary, JSONResponse(result))

    async def logout(request: Request) -> Response:
        body = await request.body()
        params = dict(request.query_params)
        if request.method == "POST":
            params.update(parse_qsl(body.decode("utf-8", "replace")))
        hint = params.get("id_token_hint", "")
        findings: list[Finding] = []
        sid = ""
        client_id = params.get("client_id", "")
        if hint:
            claims, problems = rules.decode_token(hint, provider.keys, provider.issuer, kind="ID",
                                                  now=0)
            problems = [p for p in problems if p.rule_id != "PSC.BEARER.EXPIRED"]
            if problems:
                findings = [rules.RULES.finding("LOGOUT.HINT", "id_token_hint invalide : "
                                           + problems[0].message)]
            else:
                sid, client_id = str(claims.get("sid", "")), str(claims.get("aud", client_id))
        if sid:
            provider.store.end_session(sid)
            provider.store.revoke_session(sid)
        summary = {"session": sid, "client_id": client_id}
        target = params.get("post_logout_redirect_uri", "")
        client = provider.store.clients.get(client_id)
        if target and not findings and client is not None and client.accepts_logout_redirect(target):
            if params.get("state"):
                target += ("&" if "?" in target else "?") + urlencode({"state": params["state"]})
            return reply(request, "logout", findings, summary,
                         RedirectResponse(target, status_code=302))
        if target and not findings:
            findings = [rules.RULES.finding("LOGOUT.REDIRECT", f"post_logout_redirect_uri {target!r} "
                                       "non enregistrée : pas de redirection")]
        status = 400 if findings else 200
        html = wire.error_page(findings[0].message) if findings else wire.logout_page()
        return reply(request, "logout", findings, summary,
                     HTMLResponse(html, status_code=status))

    async def internal_error(request: Request, exc: Exception) -> Response:
        """Last resort: an unforeseen error still gets an OAuth `server_error` answer and a
        journal entry (each known hostile input has its own refusal before reaching this)."""
        finding = rules.RULES.finding("INTERNAL", "erreur interne du simulateur Pro Santé Connect "
                                 f"({type(exc).__name__} : {exc})")
        payload = {"error": "server_error", "error_description": finding.message,
                   "rule": finding.rule_id}
        return reply(request, "erreur interne", [finding], {},
                     JSONResponse(payload, status_code=500))

    return Starlette(exception_handlers={Exception: internal_error}, routes=[
        Route(realm + "/.well-known/openid-configuration", discovery),
        Route(realm + "/.well-known/wallet-openid-configuration", discovery),
        Route(oidc + "/auth", authorize, methods=["GET"]),
        Route(oidc + "/auth", login, methods=["POST"]),
        Route(oidc + "/token", token, methods=["POST"]),
        Route(oidc + "/userinfo", userinfo, methods=["GET", "POST"]),
        Route(oidc + "/certs", certs),
        Route(oidc + "/token/introspect", introspect, methods=["POST"]),
        Route(oidc + "/logout", logout, methods=["GET", "POST"]),
    ])


def _choices(directory: Directory) -> list[Professional]:
    """The login page lists the named professionals; anyone else by national id."""
    return [p for p in directory.named.values() if isinstance(p, Professional)]

