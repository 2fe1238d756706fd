"""The reference DUI's automation endpoint: the protocol of `banc.scenario.protocol` over HTTPS.

Each accepted action runs in a thread on the run's `ReferenceDui` (one per execution id, so two
runs never share a logged-in user or an usager); `GET /actions/{id}` reports its state. Bad
requests get the protocol's JSON errors (422 for parameters, 404 for unknown routes or ids,
501 for an action the reference DUI does not implement), never a stack trace.
"""

from __future__ import annotations

import inspect
import json
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from banc.documents.base import GeneratedDocument
from banc.scenario.protocol import ACTIONS, BY_NAME, VERSION, openapi
from banc.sheet import BenchSheet
from scenarios.reference_dui.actions import ReferenceDui
from scenarios.reference_dui.base import ActionImpossible
from scenarios.reference_dui.store import ReferenceStore

MAX_BODY = 256 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"erreur": message}, status_code=status)


class AutomationServer:
    """State of the protocol server: actions launched and their outcome."""

    def __init__(self, sheet: BenchSheet, store: ReferenceStore, *, faults: frozenset[str] = frozenset()) -> None:
        self.sheet = sheet
        self.store = store
        self.faults = faults
        self._made: dict[str, GeneratedDocument] = {}
        self._duis: dict[str, ReferenceDui] = {}
        self._actions: dict[str, dict] = {}
        self._lock = threading.Lock()

    def dui(self, execution: str) -> ReferenceDui:
        with self._lock:
            if execution not in self._duis:
                self._duis[execution] = ReferenceDui(self.sheet, self.store, faults=self.faults, made=self._made)
            return self._duis[execution]

    def implemented(self) -> list[str]:
        return [a.name for a in ACTIONS if callable(getattr(ReferenceDui, a.name, None))]

    def launch(self, name: str, work: Callable[[], dict]) -> dict:
        action_id = uuid.uuid4().hex
        state = {"id": action_id, "action": name, "statut": "en_cours", "message": "", "resultat": {}}
        with self._lock:
            self._actions[action_id] = state

        def run() -> None:
            try:
                state["resultat"] = work()
                state["statut"] = "termine"
            except ActionImpossible as refused:  # what a conforming DUI refuses to do
                state.update(statut="impossible", message=str(refused))
            except Exception as exc:  # the DUI's failure, reported through the protocol
                state.update(statut="erreur", message=f"{type(exc).__name__} : {exc}")

        threading.Thread(target=run, name=f"action-{name}", daemon=True).start()
        return dict(state)

    def status(self, action_id: str) -> dict | None:
        with self._lock:
            found = self._actions.get(action_id)
            return dict(found) if found else None


def _valid_parameters(name: str, parameters: Any) -> str | None:
    """Why these parameters do not fit the action's schema (None when they do)."""
    action = BY_NAME[name]
    if not isinstance(parameters, dict):
        return "« parametres » doit être un objet"
    unknown = sorted(set(parameters) - set(action.parameters))
    if unknown:
        return f"paramètre(s) inconnu(s) : {', '.join(unknown)}"
    missing = [p for p in action.required if p not in parameters]
    if missing:
        return f"paramètre(s) obligatoire(s) absent(s) : {', '.join(missing)}"
    for key, value in parameters.items():
        problem = _valid_value(key, value, action.parameters[key])
        if problem:
            return problem
    return None


_TYPES = {"string": str, "boolean": bool, "array": list}


def _valid_value(key: str, value: Any, schema: dict) -> str | None:
    kind = schema.get("type", "string")
    if not isinstance(value, _TYPES[kind]) or (kind == "array" and not all(isinstance(v, str) for v in value)):
        return f"paramètre « {key} » : type {kind} attendu" + (" (de chaînes)" if kind == "array" else "")
    allowed = schema.get("enum")
    if allowed and value not in allowed:
        return f"paramètre « {key} » : valeur parmi {', '.join(allowed)} attendue"
    pattern = schema.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"paramètre « {key} » : {schema.get('description', 'format')} attendu"
    return None


def build_app(server: AutomationServer) -> Starlette:
    async def version(request: Request) -> JSONResponse:
        return JSONResponse({"protocole": VERSION, "logiciel": "DUI de référence du Banc Ségur",
                             "actions": server.implemented()})

    async def document(request: Request) -> JSONResponse:
        return JSONResponse(openapi())

    async def start(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        if name not in BY_NAME:
            return _error(404, f"action « {name} » inconnue du protocole de pilotage {VERSION}")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, "requête trop volumineuse")
        try:
            payload = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            return _error(422, "corps JSON illisible")
        if not isinstance(payload, dict):
            return _error(422, "le corps doit être un objet JSON")
        parameters = payload.get("parametres", {})
        problem = _valid_parameters(name, parameters)
        if problem:
            return _error(422, problem)
        execution = payload.get("execution")
        if any(payload.get(key) is not None and not isinstance(payload.get(key), str)
               for key in ("execution", "etape")):
            return _error(422, "« execution » et « etape » doivent être des chaînes")
        method = getattr(server.dui(execution or "sans-execution"), name, None)
        if method is None or not inspect.ismethod(method):
            return _error(501, f"action « {name} » non prise en charge par le DUI de référence")
        return JSONResponse(server.launch(name, lambda: method(**parameters)), status_code=202)

    async def follow(request: Request) -> JSONResponse:
        found = server.status(request.path_params["action_id"])
        if found is None:
            return _error(404, "action inconnue")
        return JSONResponse(found)

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return _error(404, f"route inconnue : {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> JSONResponse:
        return _error(405, f"méthode {request.method} non permise sur {request.url.path}")

    return Starlette(routes=[
        Route("/banc/v1/version", version, methods=["GET"]),
        Route("/banc/v1/openapi.json", document, methods=["GET"]),
        Route("/banc/v1/actions/{action_id}", follow, methods=["GET"]),
        Route("/banc/v1/actions/{name}", start, methods=["POST"]),
    ], exception_handlers={404: not_found, 405: not_allowed})
