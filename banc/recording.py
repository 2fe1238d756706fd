"""The one way an HTTP mock records its exchanges: an ASGI middleware around the mock's app.

Each mock used to build its `Exchange` by hand (ten writes that disagreed on what the request
bytes were, on peers, certificates and timings). `JournalMiddleware` captures, for every HTTP
request, exactly what crossed the wire — the request body as received, the response body as
sent, status, peer, TLS client certificate, duration — and the app only *annotates* the
exchange through `note(scope)`: operation, normalised summary fields
(`banc.journal.SUMMARY_FIELDS`), findings. The journal then attributes it to a DUI and a run.

The SMTP and IMAP servers, which are not ASGI, build an `Exchange` with `exchange_for_stream`
so that their records carry the same fields.

Usage in a mock:

    app = JournalMiddleware(starlette_app, journal, service="dmp")
    ...
    async def endpoint(request):
        exchange = note(request.scope)
        exchange.operation = "TD0.2"
        exchange.summary.update(patient_ins=ins, patient_oid=oid)
        exchange.findings.extend(findings)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from banc.journal import Exchange, Journal, certificate_keys
from banc.pki import certificate_subject
from banc.server import client_certificate
from banc.verdict import Finding

LOG = logging.getLogger("banc.recording")
NOTE_KEY = "banc.exchange"
REDACTED_HEADERS = frozenset({"authorization", "esante-api-key", "cookie"})
"""Credentials are never journaled in clear: their first characters only (never a whole token)."""


@dataclass
class ExchangeNote:
    """What the app says about the exchange it is handling (the rest is observed)."""

    operation: str = ""
    summary: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    record: bool = True
    """False for requests that are not exchanges of a DUI (health checks…): nothing journaled."""


def note(scope: dict) -> ExchangeNote:
    """The note of the current request (created on first use, also outside the middleware)."""
    state = scope.setdefault("state", {})
    found = state.get(NOTE_KEY)
    if found is None:
        found = state[NOTE_KEY] = ExchangeNote()
    return found


def _headers(scope: dict) -> dict[str, str]:
    shown = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        shown[name] = value[:10] + "…" if name in REDACTED_HEADERS and len(value) > 10 else value
    return shown


class JournalMiddleware:
    """Record every HTTP request of `app` as one journal exchange of `service`.

    The request body is buffered as the app reads it (so a body the app never reads — refused
    early — is still journaled as far as it was received). The exchange is written *before* the
    answer's last part (and, for a one-part answer, its headers) leaves, so a client that got its answer can rely on the journal
    holding the exchange. A journal that cannot be written is logged, never allowed to take the
    service down.
    """

    def __init__(self, app: Any, journal: Journal | None, service: str) -> None:
        self.app = app
        self.journal = journal
        self.service = service

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.journal is None:
            await self.app(scope, receive, send)
            return
        started_wall, started = time.time(), time.perf_counter()
        exchange_note = note(scope)
        request_body: list[bytes] = []
        response_body: list[bytes] = []
        status = [0]
        recorded = [False]

        def record() -> None:
            if exchange_note.record and not recorded[0]:
                recorded[0] = True
                self._record(scope, exchange_note, b"".join(request_body), b"".join(response_body),
                             status[0], started_wall, (time.perf_counter() - started) * 1000)

        async def recording_receive() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                request_body.append(message.get("body", b""))
            return message

        held: list[dict] = []

        async def recording_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                # held back until the body: a client can take a bodiless answer (302,
                # Content-Length: 0) as complete as soon as the headers arrive
                status[0] = message["status"]
                held.append(message)
                return
            if message["type"] == "http.response.body":
                response_body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    record()  # journaled before the client sees any of a one-part answer
            while held:
                await send(held.pop())
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            record()  # an app that failed before answering is journaled too

    def _record(self, scope: dict, exchange_note: ExchangeNote, request: bytes, response: bytes,
                status: int, started: float, duration_ms: float) -> None:
        der = client_certificate(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        summary = {
            "http": {"method": scope.get("method", ""), "path": scope.get("path", ""),
                     "query": query, "headers": _headers(scope)},
            **certificate_keys(der),
            **exchange_note.summary,
        }
        client = scope.get("client")
        exchange = Exchange(
            service=self.service,
            operation=exchange_note.operation or f"{scope.get('method', '')} {scope.get('path', '')}",
            channel=scope.get("scheme", "http"),
            request=request,
            response=response,
            status=str(status or 500),
            peer=f"{client[0]}:{client[1]}" if client else "",
            peer_certificate=certificate_subject(der),
            summary=summary,
            findings=list(exchange_note.findings),
            started_at=started,
            duration_ms=duration_ms,
        )
        try:
            assert self.journal is not None
            self.journal.record(exchange)
        except Exception:  # the journal must never take the service down
            LOG.exception("échange %s non enregistré dans le journal", self.service)


def exchange_for_stream(
    service: str,
    operation: str,
    *,
    channel: str,
    peer: str = "",
    certificate_der: bytes | None = None,
    request: bytes = b"",
    response: bytes = b"",
    status: str = "",
    summary: dict | None = None,
    findings: list[Finding] | None = None,
    started_at: float | None = None,
    duration_ms: float = 0.0,
) -> Exchange:
    """An `Exchange` for a non-HTTP protocol (SMTP, IMAP) with the same observed fields as
    `JournalMiddleware` fills (certificate subject and fingerprint, peer, timing)."""
    return Exchange(
        service=service, operation=operation, channel=channel, request=request,
        response=response, status=status, peer=peer,
        peer_certificate=certificate_subject(certificate_der),
        summary={**certificate_keys(certificate_der), **(summary or {})},
        findings=list(findings or ()), started_at=started_at or time.time(),
        duration_ms=duration_ms,
    )
