"""State of the Pro Santé Connect mock: signing key, registered clients, authorization codes,
sessions and issued tokens (SQLite, so a restart keeps sessions and the key keeps tokens valid).
"""
from __future__ import annotations

import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

from banc.sqlite import ThreadLocalDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    subject TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT NOT NULL, challenge TEXT NOT NULL,
    acr TEXT NOT NULL, sid TEXT NOT NULL, created REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, subject TEXT NOT NULL, client_id TEXT NOT NULL, acr TEXT NOT NULL,
    auth_time REAL NOT NULL, ended REAL);
CREATE TABLE IF NOT EXISTS tokens (
    jti TEXT PRIMARY KEY, sid TEXT NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL,
    subject TEXT NOT NULL, scope TEXT NOT NULL, expires REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS tokens_by_sid ON tokens(sid);
"""

_LOOPBACK = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?(/[^\x00-\x20\x7f#]*)?")
"""Loopback redirect URIs, matched whole: no control character (NUL, CR, LF), space or
fragment (RFC 6749 §3.1.2) may ride along into the Location header."""


@dataclass
class Client:
    """A relying party (the DUI). `redirect_uris` empty = any loopback URI (bench default)."""

    client_id: str
    secret: str | None  # None: public client, PKCE mandatory
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()

    def accepts_redirect(self, uri: str) -> bool:
        return uri in self.redirect_uris if self.redirect_uris else bool(_LOOPBACK.fullmatch(uri))

    def accepts_logout_redirect(self, uri: str) -> bool:
        allowed = self.post_logout_redirect_uris or self.redirect_uris
        return uri in allowed if allowed else bool(_LOOPBACK.fullmatch(uri))


DEFAULT_CLIENTS = (
    Client("banc-dui", "banc-dui-secret"),
    Client("banc-dui-public", None),
    Client("banc-mssante", "banc-mssante-secret"),
)
"""Bench clients: a confidential one (client_secret_basic/post) and a public one (PKCE); the
MSSanté mock's own (resource server: introspects the tokens DUIs present)."""


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    subject: str
    scope: str
    nonce: str
    challenge: str
    acr: str
    sid: str
    created: float
    used: bool


def load_signing_key(path: Path) -> RSAKey:
    """The realm's RS256 key, generated once and kept beside the mock's state."""
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
    data = key.as_dict(private=True)
    data["kid"] = key.thumbprint()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return RSAKey.import_key(data)


@dataclass
class PscStore:
    path: Path
    clients: dict[str, Client] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._database = ThreadLocalDatabase(self.path, schema=_SCHEMA)
        self.key = load_signing_key(self.path.with_name("psc-signing-key.json"))
        for client in DEFAULT_CLIENTS:
            self.clients.setdefault(client.client_id, client)

    @property
    def _db(self) -> sqlite3.Connection:
        return self._database.connection()

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def jwks(self) -> dict:
        return KeySet([self.key]).as_dict(private=False)

    # -- sessions and codes ---------------------------------------------------------------
    def open_session(self, subject: str, client_id: str, acr: str) -> str:
        sid = secrets.token_hex(16)
        self._db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL)",
                         (sid, subject, client_id, acr, time.time()))
        return sid

    def session(self, sid: str) -> dict | None:
        row = self._db.execute(
            "SELECT sid, subject, client_id, acr, auth_time, ended FROM sessions WHERE sid = ?",
            (sid,)).fetchone()
        keys = ("sid", "subject", "client_id", "acr", "auth_time", "ended")
        return dict(zip(keys, row, strict=True)) if row else None

    def end_session(self, sid: str) -> None:
        self._db.execute("UPDATE sessions SET ended = ? WHERE sid = ? AND ended IS NULL",
                         (time.time(), sid))

    def new_code(self, *, client_id: str, redirect_uri: str, subject: str, scope: str,
                 nonce: str, challenge: str, acr: str, sid: str) -> str:
        code = secrets.token_urlsafe(32)
        self._db.execute("INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                         (code, client_id, redirect_uri, subject, scope, nonce, challenge, acr,
                          sid, time.time()))
        return code

    def take_code(self, code: str) -> Code | None:
        """The code's record, marked used (a second use is visible as `used=True`)."""
        row = self._db.execute("SELECT * FROM codes WHERE code = ?", (code,)).fetchone()
        if row is None:
            return None
        self._db.execute("UPDATE codes SET used = 1 WHERE code = ?", (code,))
        return Code(*row[:10], bool(row[10]))

    # -- tokens ---------------------------------------------------------------------------
    def remember_token(self, jti: str, sid: str, kind: str, client_id: str, subject: str,
                       scope: str, expires: float) -> None:
        self._db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                         (jti, sid, kind, client_id, subject, scope, expires))

    def token(self, jti: str) -> dict | None:
        row = self._db.execute(
            "SELECT t.jti, t.sid, t.kind, t.client_id, t.subject, t.scope, t.expires, t.revoked,"
            " s.ended FROM tokens t LEFT JOIN sessions s ON s.sid = t.sid WHERE t.jti = ?",
            (jti,)).fetchone()
        keys = ("jti", "sid", "kind", "client_id", "subject", "scope", "expires", "revoked",
                "session_ended")
        return dict(zip(keys, row, strict=True)) if row else None

    def revoke(self, jti: str) -> None:
        self._db.execute("UPDATE tokens SET revoked = 1 WHERE jti = ?", (jti,))

    def revoke_session(self, sid: str) -> None:
        self._db.execute("UPDATE tokens SET revoked = 1 WHERE sid = ?", (sid,))

    def revoke_subject(self, subject: str | None = None) -> int:
        """Revoke the live tokens of one professional (national id), or of everyone; returns
        how many were revoked (a scenario's "PSC withdraws the session")."""
        if subject is None:
            cursor = self._db.execute("UPDATE tokens SET revoked = 1 WHERE revoked = 0")
        else:
            cursor = self._db.execute(
                "UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND subject = ?", (subject,))
        return cursor.rowcount

    def clear(self) -> None:
        """Back to a fresh provider: no code, session or token; the bench clients only (the
        signing key stays, so the JWKS a DUI cached remains valid)."""
        for table in ("codes", "sessions", "tokens"):
            self._db.execute(f"DELETE FROM {table}")
        self.clients.clear()
        for client in DEFAULT_CLIENTS:
            self.clients[client.client_id] = client
