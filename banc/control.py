"""The control plane: the same administration surface for every mock (model: moto's `moto_api`).

A notebook, a scenario or a second process drives the mocks through it: reset, seed, read the
state, register a DUI's parts, and make the simulated actors act (the hospital sends a discharge
letter, the GP sends a request, a sender replaces or deletes its document…). Each mock implements
`ControlPlane` once (its "backend"); this module exposes it

- from Python: the mock object's `control` attribute (in-process), or `ControlClient` over HTTPS
  (another process, from the URL and admin token of the configuration sheet) — same methods;
- over HTTPS under `/_banc/` on the mock's own port (`with_control`), or on a port of its own
  for mocks that speak no HTTP (`serve_control`, MSSanté), always behind the admin token
  (`Authorization: Bearer <jeton>`), never open.

Routes (JSON in, JSON out; errors `{"erreur": "…"}` in French with 400/401/404/422):

    GET  /_banc/etat                    state()
    POST /_banc/reinitialiser           reset()
    POST /_banc/semer         {…}       seed(**params)
    POST /_banc/dui           profile   register_dui(DuiProfile)
    GET  /_banc/actions                 {name: description}
    POST /_banc/actions/NAME  {…}       act(NAME, **params)
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from banc.dui import DuiProfile, ProfileError
from banc.recording import note

CONTROL_PREFIX = "/_banc"
MAX_CONTROL_BODY = 4 * 1024 * 1024
TOKEN_FILE = "jeton-admin.txt"


class ControlError(Exception):
    """An action that cannot be done as asked: French message, HTTP status for the wire."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Action:
    """A named thing a simulated actor can do, with a French description for listings."""

    description: str
    run: Callable[..., dict]


class ControlPlane(Protocol):
    """What every mock offers its operators (implemented in `simulators/<mock>/control.py`)."""

    service: str

    def state(self) -> dict: ...

    def reset(self) -> None: ...

    def seed(self, **params: Any) -> dict: ...

    def register_dui(self, profile: DuiProfile) -> dict: ...

    def actions(self) -> dict[str, Action]: ...


def act(plane: ControlPlane, name: str, **params: Any) -> dict:
    """Run one named action of a plane, with a clear error for an unknown one or bad params."""
    actions = plane.actions()
    if name not in actions:
        known = ", ".join(sorted(actions)) or "aucune"
        raise ControlError(f"action « {name} » inconnue du simulateur {plane.service} (connues : {known})", 404)
    try:
        return actions[name].run(**params)
    except TypeError as exc:
        raise ControlError(f"paramètres invalides pour l'action « {name} » : {exc}", 422) from None


def admin_token(folder: Path) -> str:
    """The bench's admin token, made once per data folder and kept in `jeton-admin.txt`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    path.write_text(token + "\n", encoding="ascii")
    path.chmod(0o600)
    return token


# -- HTTPS surface ------------------------------------------------------------------------------
class _ControlApp:
    """ASGI app answering the control routes of one plane (mounted under CONTROL_PREFIX)."""

    def __init__(self, plane: ControlPlane, token: str) -> None:
        self.plane = plane
        self.token = token

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_CONTROL_BODY:
                await _json(send, 413, {"erreur": "requête de contrôle trop volumineuse (4 Mo au plus)"})
                return
        path = scope["path"][len(CONTROL_PREFIX):] or "/"
        exchange = note(scope)
        exchange.operation = f"controle {scope['method']} {path}"
        exchange.summary["controle"] = True
        status, payload = self._dispatch(scope, path, body)
        await _json(send, status, payload)

    def _authorised(self, scope: dict) -> bool:
        for name, value in scope.get("headers", ()):
            if name.lower() == b"authorization":
                given = value.decode("latin-1")
                return (bool(self.token) and given.startswith("Bearer ")  # no token: closed
                        and hmac.compare_digest(given[7:].strip(), self.token))
        return False

    def _dispatch(self, scope: dict, path: str, body: bytes) -> tuple[int, dict]:
        if not self._authorised(scope):
            return 401, {"erreur": "plan de contrôle : jeton d'administration absent ou invalide "
                                   "(en-tête Authorization: Bearer <jeton> de la fiche de configuration)"}
        method = scope["method"]
        try:
            params = json.loads(body) if body.strip() else {}
        except (ValueError, RecursionError):
            return 400, {"erreur": "corps JSON illisible"}
        if not isinstance(params, dict):
            return 400, {"erreur": "le corps doit être un objet JSON"}
        try:
            if (method, path) == ("GET", "/etat"):
                return 200, self.plane.state()
            if (method, path) == ("POST", "/reinitialiser"):
                self.plane.reset()
                return 200, {"reinitialise": self.plane.service}
            if (method, path) == ("POST", "/semer"):
                return 200, self.plane.seed(**params)
            if (method, path) == ("POST", "/dui"):
                return 200, self.plane.register_dui(DuiProfile.from_dict(params))
            if (method, path) == ("GET", "/actions"):
                return 200, {name: a.description for name, a in self.plane.actions().items()}
            if method == "POST" and path.startswith("/actions/"):
                return 200, act(self.plane, path.removeprefix("/actions/"), **params)
        except ControlError as exc:
            return exc.status, {"erreur": exc.message}
        except (ProfileError, TypeError, KeyError, ValueError) as exc:
            return 422, {"erreur": f"requête de contrôle invalide : {exc}"}
        return 404, {"erreur": f"route de contrôle inconnue : {method} {CONTROL_PREFIX}{path}"}


async def _json(send: Any, status: int, payload: dict) -> None:
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def with_control(app: Any, plane: ControlPlane, token: str) -> Any:
    """`app` with the control routes answered under CONTROL_PREFIX (before the mock sees them)."""
    control = _ControlApp(plane, token)

    async def dispatch(scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")):
            await control(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch


def control_app(plane: ControlPlane, token: str) -> Any:
    """The control routes alone (for `serve_control`): anything else is 404."""

    async def missing(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await _json(send, 404, {"erreur": f"seules les routes {CONTROL_PREFIX}/… existent ici"})

    return with_control(missing, plane, token)


# -- Python client of a remote plane -----------------------------------------------------------
@dataclass
class ControlClient:
    """The control plane of a mock running elsewhere, with the same methods as a local plane.

    `url` is the mock's control base (`…/_banc`, from the configuration sheet), `token` the
    admin token; `verify` the CA file of the bench (or an `ssl.SSLContext`)."""

    service: str
    url: str
    token: str
    verify: Any = True
    timeout: float = 60.0
    _client: httpx.Client | None = field(default=None, repr=False)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(verify=self.verify, timeout=self.timeout, trust_env=False,
                                        headers={"Authorization": f"Bearer {self.token}"})
        return self._client

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        response = self._http().request(method, self.url.rstrip("/") + path, json=payload)
        try:
            data = response.json()
        except ValueError:
            data = {"erreur": response.text[:200]}
        if response.status_code != 200:
            raise ControlError(f"{self.service} : {data.get('erreur', response.status_code)}",
                               response.status_code)
        return data

    def state(self) -> dict:
        return self._call("GET", "/etat")

    def reset(self) -> None:
        self._call("POST", "/reinitialiser")

    def seed(self, **params: Any) -> dict:
        return self._call("POST", "/semer", params)

    def register_dui(self, profile: DuiProfile) -> dict:
        return self._call("POST", "/dui", profile.to_dict())

    def actions(self) -> dict[str, Action]:
        listed = self._call("GET", "/actions")
        return {name: Action(text, lambda _n=name, **p: self._call("POST", f"/actions/{_n}", p))
                for name, text in listed.items()}

    def act(self, name: str, **params: Any) -> dict:
        return self._call("POST", f"/actions/{name}", params)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def serve_control(context: Any, plane: ControlPlane, *, name: str) -> Any:
    """The control plane of a mock with no HTTP server of its own (MSSanté), on its own HTTPS
    port `<service>.controle`, journaled like any exchange. Returns the started `ServedApp`."""
    from banc.recording import JournalMiddleware

    app = JournalMiddleware(control_app(plane, context.admin_token), context.journal, plane.service)
    return context.serve(app, name=name, port_name=f"{plane.service}.controle", client_cert="none")
