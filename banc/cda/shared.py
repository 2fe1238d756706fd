"""How the mocks of a bench validate CDA: through the warm shared service, else in-process.

Compiling the official rule sets takes 15–30 s and about 1 GB, and SaxonC-HE cannot save the
result (`banc.cda.service`). Doing it inside `start_bench` made every `banc demarrer`,
`banc jouer` and test bench wait for it, and loaded the engine once per process. Here the
mocks hand their documents to the warm validation service instead: `start()` returns at once
and, in a background thread, reuses the running service or starts it (only the first bench
of the day pays the compilation; every later bench and `banc valider` share it). A running
bench keeps the service alive (`hold`), so its DUI's next document never waits for a
recompilation after 30 minutes of silence.

A document that arrives before validation is ready waits for it: it is judged, never passed
for want of an engine. When the service cannot be started or reached, documents are judged in
this process (the engine is compiled here, as before); when there is no ANS package at all,
the verdict says "non évalué" for the whole CDA rule set. `BANC_VALIDATION=processus` (or
`start_bench(validation="processus")`) selects the in-process path from the start.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable

from lxml import etree

from banc.verdict import NotEvaluated, Verdict
from banc.xml import DEFAULT_MAX_BYTES

ENV_VAR = "BANC_VALIDATION"
SERVICE = "service"
IN_PROCESS = "processus"
MODES = (SERVICE, IN_PROCESS)
KEEPALIVE_SECONDS = 120.0
"""Heartbeat of a running bench; far below the service's idle stop (30 min)."""


class ValidationModeError(ValueError):
    """An unknown validation mode (French message naming the accepted ones)."""


def mode_from_env(mode: str | None = None) -> str:
    """`mode`, else `BANC_VALIDATION`, else the shared service."""
    chosen = mode or os.environ.get(ENV_VAR) or SERVICE
    if chosen not in MODES:
        raise ValidationModeError(
            f"mode de validation {chosen!r} inconnu ({ENV_VAR} ou --validation) : attendu {' ou '.join(MODES)}")
    return chosen


def serialise(root: etree._Element) -> bytes:
    """The element as a document for the service, on the lines it had in its source.

    Leading line breaks are allowed before a root element without an XML declaration; they
    keep the XSD findings' « ligne N » equal to what an in-process validation reports.
    """
    data = etree.tostring(root, encoding="utf-8")
    padding = max((root.sourceline or 1) - 1, 0)
    return b"\n" * padding + data if padding + len(data) <= DEFAULT_MAX_BYTES else data


class Validation:
    """The CDA validation of the mocks of this process (one per process: `banc.cda.shared`)."""

    def __init__(self, mode: str = SERVICE) -> None:
        self.mode = mode_from_env(mode)
        self.ready = threading.Event()
        """Set once documents are judged without waiting (service reached or engine warm)."""
        self.where = ""
        """Once ready: `service`, `processus`, or `""` when no validation is possible."""
        self.reason = ""
        """Why the service is not used, or why nothing can be validated (French)."""
        self.started_service = False
        self.prepared_seconds: float | None = None
        self._client = None  # banc.cda.service.Client once the service answers
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[Validation], None]] = []
        self._waiting = 0

    # --- start-up ---------------------------------------------------------------------------

    def start(self) -> Validation:
        """Prepare in the background (idempotent): returns at once."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._prepare, name="cda-validation", daemon=True)
                self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def waiting(self) -> int:
        """Documents received before validation was ready, waiting for their verdict now."""
        return self._waiting

    def when_ready(self, callback: Callable[[Validation], None]) -> None:
        """Call `callback(self)` once ready (now, when it already is)."""
        with self._lock:
            if not self.ready.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def _prepare(self) -> None:
        began = time.perf_counter()
        try:
            self._connect()
        except Exception as exc:  # a defect of ours: say it, never leave documents waiting
            self.where, self.reason = "", f"{type(exc).__name__} : {exc}"
        finally:
            self.prepared_seconds = time.perf_counter() - began
            with self._lock:
                self.ready.set()
                callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback(self)

    def _connect(self) -> None:
        from banc.cda.package import PackageError, find_package

        try:
            package = find_package()
        except PackageError as exc:
            self.where, self.reason = "", str(exc)
            return
        if self.mode == SERVICE:
            from banc.cda.service import Client, ServiceError

            client = Client(package)
            try:
                client.ensure()
                self._client, self.where = client, SERVICE
                self.started_service = client.started
                return
            except ServiceError as exc:
                self.reason = str(exc)
        self._in_process_warm()

    def _in_process_warm(self) -> None:
        from banc.cda import engine
        from banc.cda.compiler import CompileError

        current = engine()
        self.where = IN_PROCESS
        with contextlib.suppress(CompileError):  # the others still run: each verdict names it
            current.warm()

    # --- validation -------------------------------------------------------------------------

    def validate_root(self, root: etree._Element, *, volet: str | None = None, subject: str = "") -> Verdict:
        """The verdict of one document, waiting for the start-up when it is not over."""
        self.start()
        if not self.ready.is_set():
            with self._lock:
                self._waiting += 1
            try:
                self.ready.wait()
            finally:
                with self._lock:
                    self._waiting -= 1
        if self._client is not None:
            verdict = self._via_service(root, volet=volet, subject=subject)
            if verdict is not None:
                return verdict
        elif not self.where:
            return Verdict(subject, not_evaluated=[NotEvaluated("cda", f"validation CDA indisponible : {self.reason}")])
        from banc.cda import engine

        return engine().validate_root(root, volet=volet, subject=subject)

    def _via_service(self, root: etree._Element, *, volet: str | None, subject: str) -> Verdict | None:
        """The service's verdict; None when this document must be judged here instead.

        A service that was stopped (`banc service arreter`, killed) is started again once; one
        that cannot be is given up for good, and later documents are judged in this process.
        """
        from banc.cda.service import ServiceError

        client, data = self._client, serialise(root)
        try:
            return client.validate(data, volet=volet, subject=subject)
        except ServiceError:
            pass
        try:
            client.ensure()  # at once when it answers, started again when it was stopped
            return client.validate(data, volet=volet, subject=subject)
        except ServiceError as exc:
            if client.describe() is None:
                self.reason = str(exc)
                print(f"banc : {exc} ; validation CDA désormais dans ce processus", file=sys.stderr)
                self._client, self.where = None, IN_PROCESS
        return None

    # --- a running bench --------------------------------------------------------------------

    def touch(self) -> None:
        if self._client is not None:
            self._client.touch()

    def hold(self) -> Callable[[], None]:
        """Keep the service alive until the returned function is called (a running bench)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(KEEPALIVE_SECONDS):
                self.touch()

        threading.Thread(target=beat, name="cda-validation-keepalive", daemon=True).start()
        return done.set

    def describe(self) -> str:
        """French, one line: where documents are judged now."""
        if not self.started:
            return "validation CDA : pas encore demandée"
        if not self.ready.is_set():
            where = ("service de validation partagé (compilation des schématrons s'il démarre)"
                     if self.mode == SERVICE else "ce processus (compilation des schématrons)")
            waiting = f" ; {self._waiting} document(s) en attente de verdict" if self._waiting else ""
            return (f"validation CDA : en préparation dans le {where} ; "
                    f"un document reçu d'ici là attend son verdict{waiting}")
        if self.where == SERVICE:
            notice = self._client.describe() if self._client is not None else None
            verb = "démarré" if self.started_service else "réutilisé"
            return f"validation CDA : prête ({verb} : {notice or 'service de validation partagé'})"
        if self.where == IN_PROCESS:
            why = f" ; service non utilisé : {self.reason}" if self.reason else ""
            return f"validation CDA : prête, dans ce processus{why}"
        return f"validation CDA : indisponible, documents marqués « non évalué » ({self.reason})"
