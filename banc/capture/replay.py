"""Importing a capture: each request replayed into its service's mock, in-process, then journaled.

One implementation of every check: the mock that judges live traffic judges the captured
request — same wire parsing, same classification (its `operation`), same rules (VIHF,
WS-Addressing, XDS metadata against the CDA header, CDA engine, INS…), same journal summary
through the same `banc.recording.JournalMiddleware`. The capture module only builds the ASGI
request the DUI sent (body, headers, client certificate in the TLS extension) and decides
nothing itself.

The replay mocks are the registered ones (entry points, `banc.mocks.available`), started for
the import in a private folder on a scratch journal, seeded like a fresh bench (same seed) and
told the DUI profile through their control plane, exactly as `banc jouer` declares a DUI. They
see the requests in capture order, so state built by earlier requests (a document fed, an
authorization declared) is there for later ones. VIHF validity is judged at the capture's
instant (`banc.vihf.JUDGED_AT`), not at import time.

What lands in the target journal is the captured exchange — the DUI's request, the upstream's
*real* response and status, when and how long — with the mock's operation, summary and
findings, attributed to the DUI profile. The mock's own answer is summarised beside it
(`summary["capture"]`), and a divergence (the mock refused what the upstream accepted, or the
reverse) is a warning, because it means state or settings differ between the two.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from banc.capture.classify import Route, route_all
from banc.capture.flows import CapturedExchange
from banc.dui import DuiProfile
from banc.journal import Exchange, Journal
from banc.mocks import MockContext, RunningMock, available
from banc.pki import TestPki, certificate_subject
from banc.verdict import RuleSet
from banc.vihf import JUDGED_AT

RULES = RuleSet("capture", "CAPTURE")
SERVICE_UNKNOWN = "inconnu"
"""Journal service of captured requests of no service the bench knows."""

OFFICIAL_EXAMPLES = {"dmp": {"trust_official_examples": True, "rights": "report", "strictness": "lenient"}}
"""Mock settings for captures of the ANS example messages (expired foreign VIHF certificates,
SOAP 1.1, profiles PDT-INF-526 refuses): each relaxation is still reported as a warning."""


@dataclass
class ReplaySettings:
    pki: TestPki
    """Trust anchors of the replay mocks (the bench's test PKI: VIHF chains, client certificates)."""
    seed: int = 20240101
    mock_settings: dict[str, dict[str, object]] = field(default_factory=dict)
    """Per service, settings of the mock to change by name (e.g. OFFICIAL_EXAMPLES)."""


@dataclass
class Imported:
    """One captured exchange as imported: its route and the journal exchange (with its id)."""

    captured: CapturedExchange
    route: Route
    exchange: Exchange

    @property
    def judged(self) -> bool:
        return not self.exchange.summary.get("capture", {}).get("non_juge", False)


def _scope(captured: CapturedExchange, path: str) -> dict:
    bare, _, query = path.partition("?")
    host, _, port = captured.peer.rpartition(":")
    tls: dict = {}
    if captured.client_certificate_der:
        tls = {"tls": {"client_cert_der": captured.client_certificate_der,
                       "client_cert_name": certificate_subject(captured.client_certificate_der),
                       "client_cert_chain": [], "client_cert_error": None}}
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": captured.method, "scheme": "https", "path": unquote(bare),
        "raw_path": bare.encode("latin-1", "replace"), "query_string": query.encode("latin-1", "replace"),
        "root_path": "", "server": ("localhost", 443), "client": (host, int(port)) if port.isdigit() else None,
        "headers": [(k.lower().encode("latin-1", "replace"), v.encode("latin-1", "replace"))
                    for k, v in captured.headers],
        "extensions": tls,
    }


async def _call(app: object, scope: dict, body: bytes, judged_at: dt.datetime) -> int:
    """Send one request into an ASGI app; returns the status it answered."""
    sent = [False]
    status = [0]

    async def receive() -> dict:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    JUDGED_AT.set(judged_at)  # this task's context, copied into the mock's worker threads
    await app(scope, receive, send)  # type: ignore[operator]
    return status[0]


class Replayer:
    """The replay mocks of one import; `close()` stops them and removes their folder."""

    def __init__(self, profile: DuiProfile, settings: ReplaySettings) -> None:
        self.profile = profile
        self.settings = settings
        self._folder = Path(tempfile.mkdtemp(prefix="banc-rejeu-"))
        self.scratch = Journal(self._folder / "rejeu.sqlite")
        self._context = MockContext(journal=self.scratch, pki=settings.pki, data_dir=self._folder,
                                    seed=settings.seed, admin_token=secrets.token_hex(16))
        self._mocks: dict[str, RunningMock] = {}
        self._launchers = available()
        self._loop = asyncio.new_event_loop()
        """One loop for the whole import: its worker threads (and their SQLite connections to
        the mocks' stores) are reused, not one set per request."""

    def mock(self, service: str) -> RunningMock:
        """The replay mock of `service`, started (and told the DUI) on first use."""
        if service not in self._mocks:
            if service not in self._launchers:
                raise KeyError(service)
            running = self._launchers[service](self._context)
            for name, value in self.settings.mock_settings.get(service, {}).items():
                setattr(getattr(running, "settings"), name, value)  # noqa: B009 - not every mock has settings
            running.control.register_dui(self.profile)  # type: ignore[attr-defined]
            self._mocks[service] = running
        return self._mocks[service]

    def judge(self, captured: CapturedExchange, where: Route) -> tuple[Exchange | None, int]:
        """The mock's journal record of the replayed request (None if it journals nothing)."""
        assert where.service is not None
        mock = self.mock(where.service)
        since = self.scratch.last_id()
        judged_at = dt.datetime.fromtimestamp(captured.started_at, dt.UTC)
        status = self._loop.run_until_complete(_call(
            mock.server.app, _scope(captured, where.path), captured.body, judged_at))  # type: ignore[attr-defined]
        recorded = self.scratch.exchanges(since_id=since)
        return (recorded[-1] if recorded else None), status

    def close(self) -> None:
        for running in reversed(list(self._mocks.values())):
            running.stop()
        self._mocks.clear()
        self._loop.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _divergence(upstream: int, mock: int) -> list:
    if not upstream or (200 <= upstream < 300) == (200 <= mock < 300):
        return []
    return [RULES.warning("DIVERGENCE", (
        f"le service réel a répondu {upstream}, le simulateur {mock} : l'état ou les réglages des "
        "deux diffèrent (patient, autorisation, certificats connus…) ; le verdict est celui du "
        "simulateur sur la requête capturée"))]


def _imported(captured: CapturedExchange, where: Route, judged: Exchange | None, mock_status: int,
              profile: DuiProfile) -> Exchange:
    capture = {"fichier": captured.source, "url": captured.url, "statut_amont": captured.status,
               "classement": where.reason}
    if captured.error:
        capture["erreur_amont"] = captured.error
    if judged is None:
        capture["non_juge"] = True
        service = where.service or SERVICE_UNKNOWN
        findings = [RULES.info("NOT_REPLAYED", f"échange classé « {service} » mais non jugé hors ligne : "
                                               f"{where.reason}")]
        summary, operation, subject = {}, f"{captured.method} {captured.path.split('?')[0]}", ""
    else:
        capture["statut_simulateur"] = mock_status
        service, operation, subject = judged.service, judged.operation, judged.peer_certificate
        summary, findings = dict(judged.summary), [*judged.findings, *_divergence(captured.status, mock_status)]
    return Exchange(
        service=service, operation=operation, channel="https", request=captured.body,
        response=captured.response, status=str(captured.status) if captured.status else "sans réponse",
        peer=captured.peer, peer_certificate=subject, summary={**summary, "capture": capture},
        findings=findings, started_at=captured.started_at, duration_ms=captured.duration_ms,
        dui=profile.name,
    )


def import_capture(captured: list[CapturedExchange], journal: Journal, profile: DuiProfile,
                   settings: ReplaySettings, *, label: str = "capture") -> list[Imported]:
    """Judge every captured exchange and record it in `journal` as an exchange of `profile`.

    Exchanges go to the journal's active session (a bench's, when one runs on this journal),
    else to a new session `label` closed at the end; the DUI's active run, if any, gets them."""
    journal.register_dui(profile)
    session = journal.active_session
    opened = None if session else journal.start_session(label)
    results: list[Imported] = []
    try:
        with Replayer(profile, settings) as replayer:
            for one, where in zip(captured, route_all(captured), strict=True):
                judged, status = replayer.judge(one, where) if where.replayed else (None, 0)
                exchange = _imported(one, where, judged, status, profile)
                exchange.session = session or opened
                journal.record(exchange)
                results.append(Imported(one, where, exchange))
    finally:
        if opened:
            journal.end_session(opened)
    return results
