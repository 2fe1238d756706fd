"""Drivers: how the bench makes the DUI under test act.

- `manual`: an operator follows French instructions in their DUI; the bench waits for the
  expected traffic with a visible countdown. The operator may also answer `fait` (done: judge
  now) or `impossible <raison>` on the console. A manual-proof step asks for a file path.
- `http`: the bench calls the DUI's automation endpoint (`pilotage.url` of its profile) —
  `POST {url}/actions/{action}` with the parameters, `202 {"id": …}`, then
  `GET {url}/actions/{id}` until `statut` is `termine`, `impossible` or `erreur`; `501` (or
  404) says the DUI does not implement the action, and the step then needs a manual proof.
  The full protocol is published with the reference DUI; this is its contract.
- `reference`: the built-in reference DUI, registered by the `scenarios` package under the
  entry point group `banc.drivers` (so `banc` does not import it).

A driver never judges: verdicts come from the traffic the mocks observed.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    from banc.scenario.model import DuiActs, ManualProof
    from banc.scenario.runner import RunContext

DRIVER_GROUP = "banc.drivers"


class DriverError(Exception):
    """The driver cannot be used as asked (French message)."""


class ActionRefused(Exception):
    """Raised by an in-process DUI action that refuses, as a conforming DUI would (identity
    mismatch, refusal of the usager…): status `impossible`, with this French message."""


class ActionState(StrEnum):
    RUNNING = "en_cours"
    DONE = "termine"
    IMPOSSIBLE = "impossible"
    UNSUPPORTED = "non_pris_en_charge"
    ERROR = "erreur"


@dataclass(frozen=True)
class ActionStatus:
    state: ActionState
    message: str = ""
    data: dict = field(default_factory=dict)


class ActionHandle(Protocol):
    signals_completion: bool
    """True when the driver knows when the DUI is done (http, reference): the runner then waits
    for it before the final judgement; False (manual): the traffic itself ends the wait."""

    def poll(self) -> ActionStatus: ...


class Driver(Protocol):
    name: str

    def start(self, step: DuiActs, params: dict, context: RunContext) -> ActionHandle: ...

    def request_proof(self, step: ManualProof, instruction: str, context: RunContext) -> Path | None: ...

    def close(self) -> None: ...


# -- manual -----------------------------------------------------------------------------------
class OperatorConsole:
    """Lines the operator types (`fait`, `impossible …`, a proof path), read in a thread so the
    bench keeps counting down. Non-interactive runs (CI, tests) read nothing."""

    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self.lines: queue.Queue[str] = queue.Queue()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        if self.interactive:
            threading.Thread(target=self._read, name="operateur", daemon=True).start()

    def _read(self) -> None:
        for line in self.stream:
            self.lines.put(line.strip())

    def answer(self) -> str | None:
        try:
            return self.lines.get_nowait()
        except queue.Empty:
            return None


@dataclass
class _ManualHandle:
    operator: OperatorConsole
    signals_completion: bool = False

    def poll(self) -> ActionStatus:
        answer = self.operator.answer()
        if answer is None:
            return ActionStatus(ActionState.RUNNING)
        word, _, rest = answer.partition(" ")
        if word.lower() == "fait":
            return ActionStatus(ActionState.DONE, "l'opérateur indique avoir fait l'action")
        if word.lower() == "impossible":
            return ActionStatus(ActionState.IMPOSSIBLE, rest or "sans motif")
        return ActionStatus(ActionState.RUNNING)


class ManualDriver:
    name = "manual"

    def __init__(self, operator: OperatorConsole | None = None) -> None:
        self.operator = operator or OperatorConsole()

    def start(self, step: DuiActs, params: dict, context: RunContext) -> ActionHandle:
        context.console.instruction(step, context.fill(step.instruction), self.operator.interactive)
        return _ManualHandle(self.operator)

    def request_proof(self, step: ManualProof, instruction: str, context: RunContext) -> Path | None:
        context.console.proof_request(step, instruction, self.operator.interactive)
        if not self.operator.interactive:
            return None
        answer = self.operator.lines.get()
        path = Path(answer).expanduser() if answer else None
        return path if path is not None and path.is_file() else None

    def close(self) -> None:
        pass


# -- http -------------------------------------------------------------------------------------
@dataclass
class _HttpHandle:
    client: httpx.Client
    url: str
    signals_completion: bool = True

    def poll(self) -> ActionStatus:
        try:
            response = self.client.get(self.url)
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return ActionStatus(ActionState.ERROR, f"suivi de l'action impossible : {exc}")
        if response.status_code != 200:
            return ActionStatus(ActionState.ERROR, f"suivi de l'action : HTTP {response.status_code}")
        try:
            state = ActionState(data.get("statut", ""))
        except ValueError:
            return ActionStatus(ActionState.ERROR, f"statut inconnu : {data.get('statut')!r}")
        return ActionStatus(state, str(data.get("message", "")), data.get("resultat") or {})


@dataclass
class _Finished:
    status: ActionStatus
    signals_completion: bool = True

    def poll(self) -> ActionStatus:
        return self.status


class HttpDriver:
    """Calls the DUI's automation endpoint (`DuiProfile.automation_url`)."""

    name = "http"

    def __init__(self, verify: object = True, timeout: float = 30.0) -> None:
        self.client = httpx.Client(verify=verify, timeout=timeout, trust_env=False)

    def start(self, step: DuiActs, params: dict, context: RunContext) -> ActionHandle:
        base = context.dui.automation_url.rstrip("/")
        if not base:
            raise DriverError(f"le profil du DUI « {context.dui.name} » n'a pas d'URL de pilotage "
                              "([pilotage] url = …) : utilisez le pilote manual")
        payload = {"parametres": params, "execution": context.run.id, "etape": step.id}
        try:
            response = self.client.post(f"{base}/actions/{step.action}", json=payload)
        except httpx.HTTPError as exc:
            return _Finished(ActionStatus(ActionState.ERROR, f"DUI injoignable ({base}) : {exc}"))
        if response.status_code in (404, 501):
            return _Finished(ActionStatus(ActionState.UNSUPPORTED,
                                          f"action « {step.action} » non prise en charge par le DUI"))
        if response.status_code not in (200, 201, 202):
            return _Finished(ActionStatus(ActionState.ERROR,
                                          f"le DUI a refusé l'action (HTTP {response.status_code})"))
        try:
            action_id = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            return _Finished(ActionStatus(ActionState.ERROR, "réponse du DUI sans identifiant d'action"))
        return _HttpHandle(self.client, f"{base}/actions/{action_id}")

    def request_proof(self, step: ManualProof, instruction: str, context: RunContext) -> Path | None:
        context.console.proof_request(step, instruction, interactive=False)
        return None

    def close(self) -> None:
        self.client.close()


# -- in-process actions (reference DUI) --------------------------------------------------------
@dataclass
class ThreadHandle:
    """An action run by a Python callable in a thread (what the reference DUI does)."""

    signals_completion: bool = True
    _status: ActionStatus = field(default_factory=lambda: ActionStatus(ActionState.RUNNING))

    @classmethod
    def run(cls, work: Callable[[], dict | None]) -> ThreadHandle:
        handle = cls()

        def target() -> None:
            try:
                handle._status = ActionStatus(ActionState.DONE, data=work() or {})
            except NotImplementedError as exc:
                handle._status = ActionStatus(ActionState.UNSUPPORTED, str(exc))
            except ActionRefused as exc:
                handle._status = ActionStatus(ActionState.IMPOSSIBLE, str(exc))
            except Exception as exc:  # reported as the DUI's failure, never raised into the runner
                handle._status = ActionStatus(ActionState.ERROR, f"{type(exc).__name__} : {exc}")

        threading.Thread(target=target, name="action-dui", daemon=True).start()
        return handle

    def poll(self) -> ActionStatus:
        return self._status


def make_driver(name: str, **options: object) -> Driver:
    """`manual`, `http`, or a driver registered under `banc.drivers` (e.g. `reference`)."""
    if name == "manual":
        return ManualDriver(**options)  # type: ignore[arg-type]
    if name == "http":
        return HttpDriver(**options)  # type: ignore[arg-type]
    found = {ep.name: ep for ep in entry_points(group=DRIVER_GROUP)}
    if name not in found:
        known = ", ".join(["manual", "http", *sorted(found)])
        raise DriverError(f"pilote « {name} » inconnu (disponibles : {known})")
    return found[name].load()(**options)
