"""The exchange journal: every request and response a mock handles, with its verdict.

One SQLite database (WAL) shared by all mocks, in one process or several. A scenario opens a
*session*, the mocks record each exchange into the active session, and verdicts are computed
from what was recorded — the observed traffic — never from what a DUI says of itself.

Design notes:
- raw bytes are kept as sent (request and response), so any check can be re-run offline;
- `summary` is a small JSON dict a wire parser fills (operation, patient, message ids…);
- `findings` are the mock's own checks, in the one verdict model (`banc.verdict`);
- each thread has its own connection (`banc.sqlite`); writes are single INSERTs, so a crash never leaves a
  half-recorded exchange;
- every exchange is *attributed* here, in one place, to a registered DUI (`banc.dui`) from the
  identity keys the mock put in its summary (`ATTRIBUTION_KEYS`), and to that DUI's active run;
  an exchange no key matches keeps `dui = None` ("DUI inconnu");
- oversized input is not kept whole: past `MAX_KEPT_BYTES` the journal keeps the head, the size
  and the SHA-256, and says so in the summary.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from banc.dui import DuiProfile, fingerprint
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
    conform INTEGER NOT NULL DEFAULT 1,
    dui TEXT,
    run TEXT
);
CREATE INDEX IF NOT EXISTS exchanges_by_session ON exchanges(session, service, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS duis (
    name TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    registered_at REAL NOT NULL
);
"""

_MIGRATIONS = ("ALTER TABLE exchanges ADD COLUMN dui TEXT", "ALTER TABLE exchanges ADD COLUMN run TEXT")
"""Journals written before attribution existed get the two columns on first open."""

ATTRIBUTION_KEYS = (
    "login",
    "client_id",
    "idam",
    "api_key",
    "vihf_certificate_sha256",
    "lps_id",
    "client_certificate_sha256",
)
"""Summary fields that identify the DUI behind an exchange, most specific first: an SMTP/IMAP
login or a PSC client_id names one DUI; the client certificate comes last because several DUIs
may present the bench's shared test certificate."""

SUMMARY_FIELDS = (
    "patient_ins",
    "patient_oid",
    "document_unique_id",
    "set_id",
    "message_id",
    "mailbox",
    *ATTRIBUTION_KEYS,
)
"""Normalised summary fields every mock fills when it knows them, under these exact names, so a
scenario expectation matches exchanges of any service the same way."""

MAX_KEPT_BYTES = 32 * 1024 * 1024
"""Requests or responses larger than this are journaled as head + size + hash (see record)."""
KEPT_HEAD_BYTES = 64 * 1024
UNKNOWN_DUI = "DUI inconnu"
"""How reports and the console name exchanges that no registered DUI's keys matched."""


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
    dui: str | None = None
    run: str | None = None

    @property
    def conform(self) -> bool:
        return not any(f.is_error for f in self.findings)

    def verdict(self) -> Verdict:
        evidence = f"journal:{self.id}" if self.id is not None else "journal:?"
        subject = f"{self.service} {self.operation} ({evidence})".strip()
        return Verdict(subject=subject, findings=list(self.findings), details=dict(self.summary))


def default_path() -> Path:
    """Where `banc demarrer` and the standalone mocks journal by default (beside their data)."""
    return cache_dir() / "simulators" / "journal.sqlite"


class Journal:
    """Thread-safe handle on the journal database.

    `Journal(":memory:")` is refused: mocks in other threads or processes must see the same
    data. Use a temporary file in tests.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) == ":memory:":
            raise ValueError("the journal must be a file shared by threads and processes")
        self._database = ThreadLocalDatabase(self.path, schema=_SCHEMA)
        self._migrate()
        self._listeners: list[Callable[[Exchange], None]] = []
        self._listeners_lock = threading.Lock()
        self._profiles: tuple[str | None, list[DuiProfile]] = ("", [])

    def _migrate(self) -> None:
        db = self._database.connection()
        columns = {row[1] for row in db.execute("PRAGMA table_info(exchanges)")}
        for statement in _MIGRATIONS:
            if statement.split()[-2] not in columns:
                db.execute(statement)
        db.execute("CREATE INDEX IF NOT EXISTS exchanges_by_run ON exchanges(run, id)")

    def connection(self):
        """This thread's SQLite connection, for stores that share the journal file (runs)."""
        return self._database.connection()

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

    # -- DUIs under test ----------------------------------------------------------------------
    def register_dui(self, profile: DuiProfile) -> None:
        """Declare (or update) a DUI: from now on its exchanges are attributed to it."""
        db = self._database.connection()
        db.execute(
            "INSERT OR REPLACE INTO duis(name, profile, registered_at) VALUES (?, ?, ?)",
            (profile.name, json.dumps(profile.to_dict(), ensure_ascii=False), time.time()),
        )
        self._bump_duis()

    def unregister_dui(self, name: str) -> bool:
        db = self._database.connection()
        removed = db.execute("DELETE FROM duis WHERE name = ?", (name,)).rowcount > 0
        self._bump_duis()
        return removed

    def _bump_duis(self) -> None:
        """A new version of the DUI registry, so every process re-reads it on its next record."""
        self._database.connection().execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('duis_version', ?)", (uuid.uuid4().hex,))

    def duis(self) -> list[DuiProfile]:
        db = self._database.connection()
        rows = db.execute("SELECT profile FROM duis ORDER BY name").fetchall()
        return [DuiProfile.from_dict(json.loads(row[0])) for row in rows]

    def dui(self, name: str) -> DuiProfile | None:
        return next((p for p in self.duis() if p.name == name), None)

    def _known_profiles(self) -> list[DuiProfile]:
        """Registered profiles, re-read when the registry's version changed (any process may
        register a DUI: one small query per record instead of parsing every profile)."""
        row = self._database.connection().execute(
            "SELECT value FROM meta WHERE key = 'duis_version'").fetchone()
        version = row[0] if row else None
        loaded, profiles = self._profiles
        if version != loaded:
            profiles = self.duis()
            self._profiles = (version, profiles)
        return profiles

    def attribute(self, summary: dict) -> str | None:
        """The registered DUI whose identity keys match this summary (see ATTRIBUTION_KEYS)."""
        profiles = [(p.name, p.identity_keys()) for p in self._known_profiles()]
        for key in ATTRIBUTION_KEYS:
            value = summary.get(key)
            if not value:
                continue
            value = str(value).lower() if key == "login" else str(value)
            for name, keys in profiles:
                if value in keys.get(key, ()):
                    return name
        return None

    # -- runs: which run an exchange belongs to -----------------------------------------------
    def set_active_run(self, dui: str, run_id: str | None) -> None:
        """Exchanges attributed to `dui` go to `run_id` until it is cleared (None)."""
        db = self._database.connection()
        if run_id is None:
            db.execute("DELETE FROM meta WHERE key = ?", (f"active_run:{dui}",))
        else:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                       (f"active_run:{dui}", run_id))

    def active_run(self, dui: str | None) -> str | None:
        if dui is None:
            return None
        db = self._database.connection()
        row = db.execute("SELECT value FROM meta WHERE key = ?", (f"active_run:{dui}",)).fetchone()
        return row[0] if row else None

    # -- exchanges --------------------------------------------------------------------------
    def record(self, exchange: Exchange) -> int:
        """Store an exchange (in the active session unless it names one); returns its id.

        Fills what every exchange must carry whatever the mock: the client certificate's
        fingerprint, the DUI it is attributed to and that DUI's active run; caps oversized
        request/response bodies (head + size + SHA-256 kept, `*_tronque` in the summary)."""
        if exchange.session is None:
            exchange.session = self.active_session
        _cap(exchange)
        if exchange.dui is None:
            exchange.dui = self.attribute(exchange.summary)
        if exchange.dui is not None:
            exchange.summary.setdefault("dui", exchange.dui)
            if exchange.run is None:
                exchange.run = self.active_run(exchange.dui)
        db = self._database.connection()
        cursor = db.execute(
            "INSERT INTO exchanges(session, service, operation, channel, started_at,"
            " duration_ms, peer, peer_certificate, status, request, response, summary,"
            " findings, conform, dui, run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                exchange.dui,
                exchange.run,
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
        dui: str | None = None,
        run: str | None = None,
        since_id: int = 0,
        limit: int | None = None,
    ) -> list[Exchange]:
        """Exchanges in recording order, filtered; `since_id` lets a scenario poll for new ones."""
        clauses, params = ["id > ?"], [since_id]
        for column, value in (("session", session), ("service", service), ("operation", operation),
                              ("dui", dui), ("run", run)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        sql = (
            "SELECT id, session, service, operation, channel, started_at, duration_ms, peer,"
            " peer_certificate, status, request, response, summary, findings, dui, run FROM exchanges"
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
         request, response, summary, findings, dui, run) = row
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
            dui=dui,
            run=run,
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


def _cap(exchange: Exchange) -> None:
    """Keep at most MAX_KEPT_BYTES of each body: a 225 MB refused request must not cost the
    disk and memory twice. What is dropped is said in the summary, with the hash to match it."""
    for part in ("request", "response"):
        data: bytes = getattr(exchange, part)
        if len(data) > MAX_KEPT_BYTES:
            exchange.summary[f"{part}_tronque"] = {
                "taille": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "conserve": KEPT_HEAD_BYTES,
            }
            setattr(exchange, part, data[:KEPT_HEAD_BYTES])


def certificate_keys(der: bytes | None) -> dict[str, str]:
    """Summary fields for a TLS client certificate (its fingerprint is an attribution key)."""
    return {"client_certificate_sha256": fingerprint(der)} if der else {}
