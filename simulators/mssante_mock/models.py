"""State of the MSSanté mock: mailboxes, folders and messages, patients known to the simulated
recipients — one SQLite database (WAL) shared by the SMTP thread, the IMAP reactor thread and
the scenario's thread (one connection per thread, single-statement writes)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from banc.identity import PATIENT_MAIL_DOMAIN
from banc.sqlite import ThreadLocalDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mailboxes (
    address TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- PER | ORG | APP | CAB | PAT
    owner TEXT NOT NULL DEFAULT '',
    authorized TEXT NOT NULL DEFAULT '[]',  -- national ids allowed to open it (XOAUTH2)
    certificate_cn TEXT NOT NULL DEFAULT '',
    is_open INTEGER NOT NULL DEFAULT 1,
    simulated INTEGER NOT NULL DEFAULT 0   -- a simulated correspondent answers (MDN)
);
CREATE TABLE IF NOT EXISTS folders (
    mailbox TEXT NOT NULL,
    name TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uidnext INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (mailbox, name)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uid INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    internal_date REAL NOT NULL,
    size INTEGER NOT NULL,
    raw BLOB NOT NULL,
    journal_id INTEGER,
    UNIQUE (mailbox, folder, uid)
);
CREATE TABLE IF NOT EXISTS filed (
    mailbox TEXT NOT NULL,        -- the simulated recipient that integrated the document
    document_id TEXT NOT NULL,
    set_id TEXT NOT NULL,
    version TEXT NOT NULL,
    author_organisations TEXT NOT NULL DEFAULT '[]',
    filed_at REAL NOT NULL,
    PRIMARY KEY (mailbox, document_id)
);
CREATE TABLE IF NOT EXISTS patients (
    ins TEXT PRIMARY KEY,
    oid TEXT NOT NULL,
    family TEXT NOT NULL,
    given TEXT NOT NULL,
    birth_date TEXT NOT NULL,  -- YYYYMMDD
    sex TEXT NOT NULL
);
"""

INBOX = "INBOX"
DEFAULT_FOLDERS = (INBOX, "Sent", "Trash")


@dataclass(frozen=True)
class MailboxRecord:
    address: str
    kind: str
    owner: str
    authorized: tuple[str, ...]
    certificate_cn: str
    is_open: bool
    simulated: bool

    @property
    def is_patient(self) -> bool:
        return self.kind == "PAT"


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    flags: tuple[str, ...]
    internal_date: float
    size: int


@dataclass(frozen=True)
class FiledDocument:
    document_id: str
    set_id: str
    version: str
    author_organisations: tuple[str, ...]


@dataclass(frozen=True)
class KnownPatient:
    """A patient as a simulated recipient's own record has them (for MDN 902/904/905)."""

    ins: str
    oid: str
    family: str
    given: str
    birth_date: str
    sex: str


class MailStore:
    """Thread-safe handle on the mock's SQLite state."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._database = ThreadLocalDatabase(path, schema=_SCHEMA)
        self._listeners: list[Callable[[str, str], None]] = []

    def subscribe(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Call `listener(address, folder)` after each delivery (from the delivering thread),
        so open IMAP sessions can announce new messages (EXISTS, IDLE); returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def clear(self) -> None:
        """Empty every table (the control plane's reset, before seeding again)."""
        db = self._database.connection()
        db.execute("BEGIN IMMEDIATE")
        for table in ("messages", "folders", "mailboxes", "filed", "patients"):
            db.execute(f"DELETE FROM {table}")
        db.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        """Rows per kind of state (the control plane's `etat`)."""
        db = self._database.connection()
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("mailboxes", "messages", "patients", "filed")}

    # -- mailboxes --------------------------------------------------------------------------
    def add_mailbox(
        self,
        address: str,
        kind: str,
        *,
        owner: str = "",
        authorized: Iterable[str] = (),
        certificate_cn: str = "",
        simulated: bool = False,
        is_open: bool = True,
    ) -> MailboxRecord:
        """Create (or update) a mailbox with its default folders."""
        address = address.strip().lower()
        people = sorted({owner, *authorized} - {""})
        db = self._database.connection()
        db.execute(
            "INSERT INTO mailboxes(address, kind, owner, authorized, certificate_cn, is_open,"
            " simulated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(address) DO UPDATE SET"
            " kind=excluded.kind, owner=excluded.owner, authorized=excluded.authorized,"
            " certificate_cn=excluded.certificate_cn, is_open=excluded.is_open,"
            " simulated=excluded.simulated",
            (address, kind, owner, json.dumps(people), certificate_cn, int(is_open),
             int(simulated)),
        )
        for folder in DEFAULT_FOLDERS:
            self._ensure_folder(db, address, folder)
        record = self.mailbox(address)
        assert record is not None
        return record

    def add_mailboxes(self, rows: Iterable[tuple[str, str, str, tuple[str, ...], str, bool]]) -> int:
        """Bulk creation (address, kind, owner, authorized, certificate_cn, simulated) for seeding."""
        now = int(time.time())
        count = 0
        db = self._database.connection()
        db.execute("BEGIN")
        for address, kind, owner, authorized, cn, simulated in rows:
            address = address.lower()
            people = sorted({owner, *authorized} - {""})
            db.execute(
                "INSERT OR REPLACE INTO mailboxes(address, kind, owner, authorized,"
                " certificate_cn, is_open, simulated) VALUES (?, ?, ?, ?, ?, 1, ?)",
                (address, kind, owner, json.dumps(people), cn, int(simulated)),
            )
            db.executemany(
                "INSERT OR IGNORE INTO folders(mailbox, name, uidvalidity) VALUES (?, ?, ?)",
                [(address, f, now) for f in DEFAULT_FOLDERS],
            )
            count += 1
        db.execute("COMMIT")
        return count

    def mailbox(self, address: str) -> MailboxRecord | None:
        db = self._database.connection()
        row = db.execute(
            "SELECT address, kind, owner, authorized, certificate_cn, is_open, simulated"
            " FROM mailboxes WHERE address = ?",
            (address.strip().lower(),),
        ).fetchone()
        return _mailbox(row) if row else None

    def mailboxes(self, kind: str | None = None) -> list[MailboxRecord]:
        sql = ("SELECT address, kind, owner, authorized, certificate_cn, is_open, simulated"
               " FROM mailboxes")
        params: tuple = ()
        if kind:
            sql, params = sql + " WHERE kind = ?", (kind,)
        db = self._database.connection()
        return [_mailbox(row) for row in db.execute(sql + " ORDER BY address", params)]

    def mailbox_for_certificate(self, common_name: str) -> list[MailboxRecord]:
        db = self._database.connection()
        rows = db.execute(
            "SELECT address, kind, owner, authorized, certificate_cn, is_open, simulated"
            " FROM mailboxes WHERE certificate_cn = ? ORDER BY address",
            (common_name,),
        ).fetchall()
        return [_mailbox(row) for row in rows]

    def set_open(self, address: str, is_open: bool) -> None:
        db = self._database.connection()
        db.execute("UPDATE mailboxes SET is_open = ? WHERE address = ?",
                   (int(is_open), address.strip().lower()))

    def domains(self) -> set[str]:
        db = self._database.connection()
        rows = db.execute("SELECT DISTINCT substr(address, instr(address, '@') + 1) FROM mailboxes")
        return {row[0] for row in rows} | {PATIENT_MAIL_DOMAIN}

    # -- folders ----------------------------------------------------------------------------
    @staticmethod
    def _ensure_folder(db: sqlite3.Connection, address: str, name: str) -> None:
        db.execute(
            "INSERT OR IGNORE INTO folders(mailbox, name, uidvalidity) VALUES (?, ?, ?)",
            (address, name, int(time.time())),
        )

    def folders(self, address: str) -> list[str]:
        db = self._database.connection()
        rows = db.execute("SELECT name FROM folders WHERE mailbox = ? ORDER BY name", (address,))
        return [row[0] for row in rows]

    def create_folder(self, address: str, name: str) -> bool:
        db = self._database.connection()
        cursor = db.execute(
            "INSERT OR IGNORE INTO folders(mailbox, name, uidvalidity) VALUES (?, ?, ?)",
            (address, name, int(time.time())),
        )
        return cursor.rowcount == 1

    def delete_folder(self, address: str, name: str) -> None:
        db = self._database.connection()
        db.execute("BEGIN")
        db.execute("DELETE FROM messages WHERE mailbox = ? AND folder = ?", (address, name))
        db.execute("DELETE FROM folders WHERE mailbox = ? AND name = ?", (address, name))
        db.execute("COMMIT")

    def folder_state(self, address: str, name: str) -> tuple[int, int] | None:
        """(uidvalidity, uidnext) of a folder, None when it does not exist."""
        db = self._database.connection()
        row = db.execute(
            "SELECT uidvalidity, uidnext FROM folders WHERE mailbox = ? AND name = ?",
            (address, name),
        ).fetchone()
        return (row[0], row[1]) if row else None

    # -- messages ---------------------------------------------------------------------------
    def deliver(
        self,
        address: str,
        raw: bytes,
        *,
        folder: str = INBOX,
        flags: Iterable[str] = ("\\Recent",),
        journal_id: int | None = None,
        internal_date: float | None = None,
    ) -> int:
        """Append a message to a folder; returns its UID."""
        address = address.strip().lower()
        db = self._database.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            self._ensure_folder(db, address, folder)
            (uid,) = db.execute(
                "SELECT uidnext FROM folders WHERE mailbox = ? AND name = ?", (address, folder)
            ).fetchone()
            db.execute(
                "UPDATE folders SET uidnext = ? WHERE mailbox = ? AND name = ?",
                (uid + 1, address, folder),
            )
            db.execute(
                "INSERT INTO messages(mailbox, folder, uid, flags, internal_date, size, raw,"
                " journal_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (address, folder, uid, json.dumps(list(flags)),
                 internal_date or time.time(), len(raw), raw, journal_id),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        for listener in list(self._listeners):
            listener(address, folder)
        return uid

    def messages(self, address: str, folder: str = INBOX) -> list[StoredMessage]:
        db = self._database.connection()
        rows = db.execute(
            "SELECT uid, flags, internal_date, size FROM messages WHERE mailbox = ? AND"
            " folder = ? ORDER BY uid",
            (address.strip().lower(), folder),
        ).fetchall()
        return [StoredMessage(uid, tuple(json.loads(flags)), date, size)
                for uid, flags, date, size in rows]

    def raw(self, address: str, folder: str, uid: int) -> bytes:
        db = self._database.connection()
        row = db.execute(
            "SELECT raw FROM messages WHERE mailbox = ? AND folder = ? AND uid = ?",
            (address.strip().lower(), folder, uid),
        ).fetchone()
        if row is None:
            raise KeyError(f"message {uid} absent de {address}/{folder}")
        return bytes(row[0])

    def head(self, address: str, folder: str, uid: int) -> bytes:
        """The header block of a message (up to the first empty line), read without the body:
        what IMAP ENVELOPE, HEADER.FIELDS and SEARCH on headers need."""
        db = self._database.connection()
        row = db.execute(
            "SELECT CASE WHEN instr(raw, X'0D0A0D0A') > 0"
            " THEN substr(raw, 1, instr(raw, X'0D0A0D0A') + 3) ELSE raw END"
            " FROM messages WHERE mailbox = ? AND folder = ? AND uid = ?",
            (address.strip().lower(), folder, uid),
        ).fetchone()
        if row is None:
            raise KeyError(f"message {uid} absent de {address}/{folder}")
        return bytes(row[0])

    def raw_messages(self, address: str, folder: str = INBOX) -> list[bytes]:
        """Every message of a folder, oldest first (what a scenario inspects)."""
        db = self._database.connection()
        rows = db.execute(
            "SELECT raw FROM messages WHERE mailbox = ? AND folder = ? ORDER BY uid",
            (address.strip().lower(), folder),
        ).fetchall()
        return [bytes(row[0]) for row in rows]

    def set_flags(self, address: str, folder: str, updates: dict[int, tuple[str, ...]]) -> None:
        db = self._database.connection()
        db.execute("BEGIN")
        db.executemany(
            "UPDATE messages SET flags = ? WHERE mailbox = ? AND folder = ? AND uid = ?",
            [(json.dumps(list(f)), address, folder, uid) for uid, f in updates.items()],
        )
        db.execute("COMMIT")

    def remove(self, address: str, folder: str, uids: Iterable[int]) -> None:
        db = self._database.connection()
        db.execute("BEGIN")
        db.executemany(
            "DELETE FROM messages WHERE mailbox = ? AND folder = ? AND uid = ?",
            [(address, folder, uid) for uid in uids],
        )
        db.execute("COMMIT")

    # -- documents integrated by the simulated recipients ---------------------------------------
    def file_document(self, mailbox: str, document_id: str, set_id: str, version: str,
                      author_organisations: Iterable[str]) -> None:
        db = self._database.connection()
        db.execute(
            "INSERT OR REPLACE INTO filed(mailbox, document_id, set_id, version,"
            " author_organisations, filed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (mailbox, document_id, set_id, version, json.dumps(sorted(author_organisations)),
             time.time()),
        )

    def filed(self, mailbox: str, document_id: str) -> FiledDocument | None:
        """A document the recipient integrated, by its CDA id."""
        db = self._database.connection()
        row = db.execute(
            "SELECT document_id, set_id, version, author_organisations FROM filed"
            " WHERE mailbox = ? AND document_id = ?",
            (mailbox, document_id),
        ).fetchone()
        return FiledDocument(row[0], row[1], row[2], tuple(json.loads(row[3]))) if row else None

    def latest_filed(self, mailbox: str, set_id: str) -> FiledDocument | None:
        """The latest version the recipient holds of a document (by setId)."""
        db = self._database.connection()
        row = db.execute(
            "SELECT document_id, set_id, version, author_organisations FROM filed"
            " WHERE mailbox = ? AND set_id = ? ORDER BY filed_at DESC LIMIT 1",
            (mailbox, set_id),
        ).fetchone()
        return FiledDocument(row[0], row[1], row[2], tuple(json.loads(row[3]))) if row else None

    # -- patients known to the simulated recipients -------------------------------------------
    def add_patient(self, patient: KnownPatient) -> None:
        db = self._database.connection()
        db.execute(
            "INSERT OR REPLACE INTO patients(ins, oid, family, given, birth_date, sex)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (patient.ins, patient.oid, patient.family, patient.given, patient.birth_date,
             patient.sex),
        )

    def forget_patient(self, ins: str) -> None:
        db = self._database.connection()
        db.execute("DELETE FROM patients WHERE ins = ?", (ins,))

    def patient(self, ins: str) -> KnownPatient | None:
        db = self._database.connection()
        row = db.execute(
            "SELECT ins, oid, family, given, birth_date, sex FROM patients WHERE ins = ?",
            (ins,),
        ).fetchone()
        return KnownPatient(*row) if row else None


def _mailbox(row: tuple) -> MailboxRecord:
    address, kind, owner, authorized, cn, is_open, simulated = row
    return MailboxRecord(address, kind, owner, tuple(json.loads(authorized)), cn, bool(is_open),
                         bool(simulated))
