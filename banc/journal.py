"""The exchange journal: every request and response a mock handles, with its verdict.

One SQLite database (WAL) shared by all mocks, in one process or several. A scenario opens a
*session*, the mocks record each exchange into the active session, and verdicts are computed
from what was recorded — the observed traffic — never from what a DUI says of itself.

Design notes:
- raw bytes are kept as sent (request and response), so any check can be re-run offline;
- `summary` is a small JSON dict a wire parser fills (operation, patient, message ids…);
- `findings` are the mock's own checks, in the one verdict model (`banc.verdict`);
- each thread has its own connection (`banc.sqlite`); writes are single INSERTs, so a crash never leaves a
  half-recorded exchange.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from banc.paths import cache_dir
from banc.sqlite import ThreadLocalDatabase
from banc.verdict import Finding, Verdict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    scenario TEXT,
    started_at REAL NOT NULL,
    ended_at REAL
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT,
    service TEXT NOT NULL,
    operation TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT 'http',
    started_at REAL NOT NULL,
    duration_ms REAL NOT NULL DEFAULT 0,
    peer TEXT NOT NULL DEFAULT '',
    peer_certificate TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    request BLOB,
    response BLOB,
    summary TEXT NOT NULL DEFAULT '{}',
    findings TEXT NOT NULL DEFAULT '[]',
    conform INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS exchanges_by_session ON exchanges(session, service, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


@dataclass
class Exchange:
    """One request/response pair as a mock saw it."""

    service: str
    operation: str = ""
    channel: str = "http"
    request: bytes = b""
    response: bytes = b""
    status: str = ""
    peer: str = ""
    peer_certificate: str = ""
    summary: dict = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    duration_ms: float = 0.0
    session: str | None = None
    id: int | None = None

    @property
    def conform(self) -> bool:
        return not any(f.is_error for f in self.findings)

    def verdict(self) -> Verdict:
        evidence = f"journal:{self.id}" if self.id is not None else "journal:?"
        subject = f"{self.service} {self.operation} ({evidence})".strip()
        return Verdict(subject=subject, findings=list(self.findings), details=dict(self.summary))


class Journal:
    """Thread-safe handle on the journal database.

    `Journal(":memory:")` is refused: mocks in other threads or processes must see the same
    data. Use a temporary file in tests.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir() / "journal.sqlite"
        if str(self.path) == ":memory:":
            raise ValueError("the journal must be a file shared by threads and processes")
        self._database = ThreadLocalDatabase(self.path, schema=_SCHEMA)
        self._listeners: list[Callable[[Exchange], None]] = []
        self._listeners_lock = threading.Lock()

    # -- sessions ---------------------------------------------------------------------------
    def start_session(self, label: str, scenario: str | None = None) -> str:
        """Open a session and make it the active one: mocks record into it from now on."""
        session_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        db = self._database.connection()
        db.execute(
            "INSERT INTO sessions(id, label, scenario, started_at) VALUES (?, ?, ?, ?)",
            (session_id, label, scenario, time.time()),
        )
        db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('active_session', ?)",
            (session_id,),
        )
        return session_id

    def end_session(self, session_id: str) -> None:
        db = self._database.connection()
        db.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (time.time(), session_id))
        db.execute(
            "DELETE FROM meta WHERE key = 'active_session' AND value = ?", (session_id,)
        )

    @property
    def active_session(self) -> str | None:
        db = self._database.connection()
        row = db.execute("SELECT value FROM meta WHERE key = 'active_session'").fetchone()
        return row[0] if row else None

    def sessions(self) -> list[dict]:
        db = self._database.connection()
        rows = db.execute(
            "SELECT id, label, scenario, started_at, ended_at FROM sessions ORDER BY started_at"
        ).fetchall()
        keys = ("id", "label", "scenario", "started_at", "ended_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- exchanges --------------------------------------------------------------------------
    def record(self, exchange: Exchange) -> int:
        """Store an exchange (in the active session unless it names one); returns its id."""
        if exchange.session is None:
            exchange.session = self.active_session
        db = self._database.connection()
        cursor = db.execute(
            "INSERT INTO exchanges(session, service, operation, channel, started_at,"
            " duration_ms, peer, peer_certificate, status, request, response, summary,"
            " findings, conform) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                exchange.session,
                exchange.service,
                exchange.operation,
                exchange.channel,
                exchange.started_at,
                exchange.duration_ms,
                exchange.peer,
                exchange.peer_certificate,
                exchange.status,
                exchange.request,
                exchange.response,
                json.dumps(exchange.summary, ensure_ascii=False, default=str),
                json.dumps([f.to_dict() for f in exchange.findings], ensure_ascii=False),
                int(exchange.conform),
            ),
        )
        exchange.id = cursor.lastrowid
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(exchange)
        return exchange.id

    def exchanges(
        self,
        *,
        session: str | None = None,
        service: str | None = None,
        operation: str | None = None,
        since_id: int = 0,
        limit: int | None = None,
    ) -> list[Exchange]:
        """Exchanges in recording order, filtered; `since_id` lets a scenario poll for new ones."""
        clauses, params = ["id > ?"], [since_id]
        for column, value in (("session", session), ("service", service), ("operation", operation)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        sql = (
            "SELECT id, session, service, operation, channel, started_at, duration_ms, peer,"
            " peer_certificate, status, request, response, summary, findings FROM exchanges"
            f" WHERE {' AND '.join(clauses)} ORDER BY id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        db = self._database.connection()
        rows = db.execute(sql, params).fetchall()
        return [self._from_row(row) for row in rows]

    def get(self, exchange_id: int) -> Exchange | None:
        found = self.exchanges(since_id=exchange_id - 1, limit=1)
        return found[0] if found and found[0].id == exchange_id else None

    @staticmethod
    def _from_row(row: tuple) -> Exchange:
        (ident, session, service, operation, channel, started, duration, peer, cert, status,
         request, response, summary, findings) = row
        return Exchange(
            id=ident,
            session=session,
            service=service,
            operation=operation,
            channel=channel,
            started_at=started,
            duration_ms=duration,
            peer=peer,
            peer_certificate=cert,
            status=status,
            request=request or b"",
            response=response or b"",
            summary=json.loads(summary),
            findings=[Finding.from_dict(f) for f in json.loads(findings)],
        )

    # -- observation ------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Exchange], None]) -> Callable[[], None]:
        """Call `listener` after each exchange recorded *by this process*; returns unsubscribe."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def wait_for(
        self,
        predicate: Callable[[Exchange], bool],
        *,
        timeout: float = 30.0,
        since_id: int = 0,
        poll: float = 0.05,
    ) -> Exchange | None:
        """First exchange after `since_id` matching `predicate`, polling the database (so it
        also sees exchanges recorded by other processes); None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last = since_id
        while True:
            for exchange in self.exchanges(since_id=last):
                last = exchange.id or last
                if predicate(exchange):
                    return exchange
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll)

    def last_id(self) -> int:
        db = self._database.connection()
        row = db.execute("SELECT COALESCE(MAX(id), 0) FROM exchanges").fetchone()
        return int(row[0])
