"""State of the DMP mock: patients, authorizations, documents (with versions) in SQLite.

One database file (WAL) under the mock's data directory. Design choices:
- a submission (submission set + documents + signature + associations + deprecation of the
  replaced version) is written in ONE transaction (`BEGIN IMMEDIATE … COMMIT`): a crash leaves
  either all of it or nothing, and the mock acknowledges only after the commit;
- documents keep the ebRIM `ExtrinsicObject` as submitted (so query responses carry the
  metadata exactly as fed) next to indexed columns for the query parameters;
- FindDocuments filters on `(patient, status)` through an index, so its cost follows the
  number of documents of that patient, not the size of the whole store.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from banc.sqlite import ThreadLocalDatabase

APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
STATUSES = (APPROVED, DEPRECATED, ARCHIVED, DELETED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS patients (
    ins TEXT PRIMARY KEY,
    oid TEXT NOT NULL,
    dmp_id TEXT NOT NULL,
    family TEXT NOT NULL DEFAULT '',
    given TEXT NOT NULL DEFAULT '',
    sex TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_add_at REAL
);
CREATE INDEX IF NOT EXISTS patients_by_family ON patients(family);
CREATE TABLE IF NOT EXISTS authorizations (
    ins TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL DEFAULT '',
    structure_id TEXT NOT NULL DEFAULT '',
    speciality TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'VALIDE',
    treating_doctor INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (ins, actor_id)
);
CREATE INDEX IF NOT EXISTS authorizations_by_actor ON authorizations(actor_id, updated_at);
CREATE TABLE IF NOT EXISTS submission_sets (
    entry_uuid TEXT PRIMARY KEY,
    unique_id TEXT NOT NULL UNIQUE,
    patient_ins TEXT NOT NULL,
    source_id TEXT NOT NULL DEFAULT '',
    submission_time TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL DEFAULT '',
    metadata BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS submission_sets_by_patient ON submission_sets(patient_ins);
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_uuid TEXT NOT NULL UNIQUE,
    unique_id TEXT NOT NULL UNIQUE,
    patient_ins TEXT NOT NULL,
    status TEXT NOT NULL,
    class_code TEXT NOT NULL DEFAULT '',
    type_code TEXT NOT NULL DEFAULT '',
    format_code TEXT NOT NULL DEFAULT '',
    facility_code TEXT NOT NULL DEFAULT '',
    practice_code TEXT NOT NULL DEFAULT '',
    creation_time TEXT NOT NULL DEFAULT '',
    service_start TEXT NOT NULL DEFAULT '',
    service_stop TEXT NOT NULL DEFAULT '',
    confidentiality TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL DEFAULT '',
    author_institution TEXT NOT NULL DEFAULT '',
    submission_uuid TEXT NOT NULL DEFAULT '',
    mime_type TEXT NOT NULL DEFAULT 'text/xml',
    hash TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    is_signature INTEGER NOT NULL DEFAULT 0,
    submitted_at REAL NOT NULL,
    metadata BLOB NOT NULL,
    content BLOB
);
CREATE INDEX IF NOT EXISTS documents_by_patient ON documents(patient_ins, status, creation_time);
CREATE TABLE IF NOT EXISTS associations (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    patient_ins TEXT NOT NULL DEFAULT '',
    metadata BLOB
);
CREATE INDEX IF NOT EXISTS associations_by_source ON associations(source);
CREATE INDEX IF NOT EXISTS associations_by_target ON associations(target);
"""


@dataclass
class Patient:
    ins: str
    oid: str = "1.2.250.1.213.1.4.10"
    family: str = ""
    given: str = ""
    sex: str = ""
    birth_date: str = ""  # YYYYMMDD
    status: str = "active"  # "active" or "terminated" (closed)
    dmp_id: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    last_add_at: float | None = None


@dataclass
class Authorization:
    ins: str
    actor_id: str
    actor_name: str = ""
    structure_id: str = ""
    speciality: str = ""
    state: str = "VALIDE"  # VALIDE or BLOQUE (blocked by the patient)
    treating_doctor: bool = False
    started_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class StoredDocument:
    entry_uuid: str
    unique_id: str
    patient_ins: str
    status: str
    class_code: str = ""
    type_code: str = ""
    format_code: str = ""
    facility_code: str = ""
    practice_code: str = ""
    creation_time: str = ""
    service_start: str = ""
    service_stop: str = ""
    confidentiality: tuple[str, ...] = ()
    author_id: str = ""
    author_institution: str = ""
    submission_uuid: str = ""
    mime_type: str = "text/xml"
    hash: str = ""
    size: int = 0
    is_signature: bool = False
    submitted_at: float = 0.0
    metadata: bytes = b""
    content: bytes | None = field(default=None, repr=False)


@dataclass
class StoredSubmission:
    entry_uuid: str
    unique_id: str
    patient_ins: str
    source_id: str
    submission_time: str
    author_id: str
    metadata: bytes


@dataclass
class StoredAssociation:
    id: str
    type: str
    source: str
    target: str
    patient_ins: str = ""
    metadata: bytes | None = None


@dataclass
class NewSubmission:
    """Everything one ITI-41 writes, applied atomically by `DmpStore.submit`."""

    submission: StoredSubmission
    documents: list[StoredDocument]
    associations: list[StoredAssociation]
    deprecate: list[str] = field(default_factory=list)  # entry UUIDs replaced (RPLC)


class StoreConflict(Exception):
    """A write that would break an invariant (duplicate uniqueId, replaced version gone…)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_DOC_COLUMNS = (
    "entry_uuid, unique_id, patient_ins, status, class_code, type_code, format_code,"
    " facility_code, practice_code, creation_time, service_start, service_stop, confidentiality,"
    " author_id, author_institution, submission_uuid, mime_type, hash, size, is_signature,"
    " submitted_at, metadata"
)


class DmpStore:
    """Thread-safe handle (one connection per thread) on the mock's SQLite database."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # WAL + synchronous=NORMAL (banc.sqlite): durable across process kills
        self._database = ThreadLocalDatabase(self.path, schema=_SCHEMA, pragmas=("foreign_keys=ON",))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._database.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        self._database.close()

    def clear(self) -> None:
        """Forget every patient, authorization and document (the control plane's reset), in
        one transaction."""
        db = self._database.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("associations", "documents", "submission_sets", "authorizations", "patients"):
                db.execute(f"DELETE FROM {table}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- patients ---------------------------------------------------------------------------
    def add_patient(self, patient: Patient) -> Patient:
        now = time.time()
        patient.created_at = patient.created_at or now
        patient.updated_at = now
        patient.dmp_id = patient.dmp_id or f"DMP{patient.ins}"
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO patients(ins, oid, dmp_id, family, given, sex, birth_date,"
                " status, created_at, updated_at, last_add_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (patient.ins, patient.oid, patient.dmp_id, patient.family, patient.given,
                 patient.sex, patient.birth_date, patient.status, patient.created_at,
                 patient.updated_at, patient.last_add_at),
            )
        return patient

    def patient(self, ins: str) -> Patient | None:
        db = self._database.connection()
        row = db.execute(
            "SELECT ins, oid, family, given, sex, birth_date, status, dmp_id, created_at,"
            " updated_at, last_add_at FROM patients WHERE ins = ?", (ins,)
        ).fetchone()
        return Patient(*row) if row else None

    def patients(self, family: str | None = None) -> list[Patient]:
        sql = ("SELECT ins, oid, family, given, sex, birth_date, status, dmp_id, created_at,"
               " updated_at, last_add_at FROM patients")
        params: tuple = ()
        if family:
            sql += " WHERE upper(family) = upper(?)"
            params = (family,)
        db = self._database.connection()
        return [Patient(*row) for row in db.execute(sql + " ORDER BY ins", params)]

    def set_patient_status(self, ins: str, status: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE patients SET status = ?, updated_at = ? WHERE ins = ?",
                       (status, time.time(), ins))

    def update_patient(self, ins: str, **fields: str) -> None:
        allowed = {"family", "given", "sex", "birth_date"}
        changes = {k: v for k, v in fields.items() if k in allowed and v}
        if not changes:
            return
        assignments = ", ".join(f"{k} = ?" for k in changes)
        with self.transaction() as db:
            db.execute(f"UPDATE patients SET {assignments}, updated_at = ? WHERE ins = ?",
                       (*changes.values(), time.time(), ins))

    # -- authorizations ---------------------------------------------------------------------
    def authorization(self, ins: str, actor_id: str) -> Authorization | None:
        db = self._database.connection()
        row = db.execute(
            "SELECT ins, actor_id, actor_name, structure_id, speciality, state,"
            " treating_doctor, started_at, updated_at FROM authorizations"
            " WHERE ins = ? AND actor_id = ?", (ins, actor_id),
        ).fetchone()
        return self._authorization(row) if row else None

    @staticmethod
    def _authorization(row: tuple) -> Authorization:
        auth = Authorization(*row)
        auth.treating_doctor = bool(auth.treating_doctor)
        return auth

    def authorizations(self, ins: str | None = None, actor_id: str | None = None) -> list[Authorization]:
        clauses, params = [], []
        if ins:
            clauses.append("ins = ?")
            params.append(ins)
        if actor_id:
            clauses.append("actor_id = ?")
            params.append(actor_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        db = self._database.connection()
        rows = db.execute(
            "SELECT ins, actor_id, actor_name, structure_id, speciality, state,"
            f" treating_doctor, started_at, updated_at FROM authorizations{where}"
            " ORDER BY ins, actor_id", params,
        ).fetchall()
        return [self._authorization(row) for row in rows]

    def set_authorization(self, auth: Authorization) -> None:
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO authorizations(ins, actor_id, actor_name, structure_id, speciality,"
                " state, treating_doctor, started_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(ins, actor_id) DO UPDATE SET state = excluded.state,"
                " treating_doctor = excluded.treating_doctor, updated_at = excluded.updated_at",
                (auth.ins, auth.actor_id, auth.actor_name, auth.structure_id, auth.speciality,
                 auth.state, int(auth.treating_doctor), auth.started_at or now, now),
            )

    def remove_authorization(self, ins: str, actor_id: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM authorizations WHERE ins = ? AND actor_id = ?", (ins, actor_id)
            )
        return cursor.rowcount > 0

    # -- documents --------------------------------------------------------------------------
    def submit(self, new: NewSubmission) -> None:
        """Write a whole submission atomically, or raise `StoreConflict` and write nothing."""
        now = time.time()
        try:
            with self.transaction() as db:
                for entry_uuid in new.deprecate:
                    cursor = db.execute(
                        "UPDATE documents SET status = ? WHERE entry_uuid = ? AND status = ?",
                        (DEPRECATED, entry_uuid, APPROVED),
                    )
                    if cursor.rowcount != 1:
                        raise StoreConflict(
                            "XDSReplaceFailed",
                            f"le document remplacé {entry_uuid} n'existe pas ou n'est plus la "
                            "version courante (Approved)",
                        )
                s = new.submission
                db.execute(
                    "INSERT INTO submission_sets VALUES (?,?,?,?,?,?,?)",
                    (s.entry_uuid, s.unique_id, s.patient_ins, s.source_id, s.submission_time,
                     s.author_id, s.metadata),
                )
                db.executemany(
                    f"INSERT INTO documents({_DOC_COLUMNS}, content) VALUES"
                    f" ({', '.join('?' * 23)})",
                    [self._doc_row(d, now) for d in new.documents],
                )
                db.executemany(
                    "INSERT INTO associations VALUES (?,?,?,?,?,?)",
                    [(a.id, a.type, a.source, a.target, a.patient_ins, a.metadata)
                     for a in new.associations],
                )
                db.execute("UPDATE patients SET last_add_at = ? WHERE ins = ?",
                           (now, s.patient_ins))
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(
                "XDSDuplicateUniqueIdInRegistry",
                f"identifiant déjà présent dans le registre (uniqueId ou entryUUID) : {exc}",
            ) from None

    @staticmethod
    def _doc_row(d: StoredDocument, now: float) -> tuple:
        return (
            d.entry_uuid, d.unique_id, d.patient_ins, d.status, d.class_code, d.type_code,
            d.format_code, d.facility_code, d.practice_code, d.creation_time, d.service_start,
            d.service_stop, " ".join(d.confidentiality), d.author_id, d.author_institution,
            d.submission_uuid, d.mime_type, d.hash, d.size, int(d.is_signature),
            d.submitted_at or now, d.metadata, d.content,
        )

    def bulk_insert(self, documents: Iterable[StoredDocument]) -> int:
        """Fast load for benchmarks and seeds (one transaction, no submission set)."""
        now = time.time()
        with self.transaction() as db:
            cursor = db.executemany(
                f"INSERT INTO documents({_DOC_COLUMNS}, content) VALUES ({', '.join('?' * 23)})",
                (self._doc_row(d, now) for d in documents),
            )
        return cursor.rowcount

    @staticmethod
    def _document(row: tuple, with_content: bool) -> StoredDocument:
        values = list(row)
        doc = StoredDocument(*values[:22])
        doc.confidentiality = tuple(str(doc.confidentiality).split())
        doc.is_signature = bool(doc.is_signature)
        if with_content:
            doc.content = values[22]
        return doc

    def documents(
        self,
        patient_ins: str,
        statuses: Iterable[str] = (APPROVED,),
        *,
        class_codes: Iterable[str] = (),
        type_codes: Iterable[str] = (),
        format_codes: Iterable[str] = (),
        creation_from: str | None = None,
        creation_to: str | None = None,
        limit: int | None = None,
    ) -> list[StoredDocument]:
        """Documents of one patient (metadata only), filtered as FindDocuments asks."""
        statuses = list(statuses)
        clauses = ["patient_ins = ?", f"status IN ({', '.join('?' * len(statuses))})"]
        params: list = [patient_ins, *statuses]
        for column, values in (("class_code", class_codes), ("type_code", type_codes),
                               ("format_code", format_codes)):
            values = list(values)
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if creation_from:
            clauses.append("creation_time >= ?")
            params.append(creation_from)
        if creation_to:
            clauses.append("creation_time < ?")
            params.append(creation_to)
        sql = (f"SELECT {_DOC_COLUMNS} FROM documents WHERE {' AND '.join(clauses)}"
               " ORDER BY creation_time DESC, seq")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        db = self._database.connection()
        return [self._document(row, False) for row in db.execute(sql, params)]

    def document(self, *, unique_id: str | None = None, entry_uuid: str | None = None,
                 with_content: bool = False) -> StoredDocument | None:
        column, value = ("unique_id", unique_id) if unique_id else ("entry_uuid", entry_uuid)
        columns = _DOC_COLUMNS + (", content" if with_content else ", NULL")
        db = self._database.connection()
        row = db.execute(f"SELECT {columns} FROM documents WHERE {column} = ?", (value,)).fetchone()
        return self._document(row, with_content) if row else None

    def update_document(self, entry_uuid: str, *, status: str | None = None,
                        confidentiality: tuple[str, ...] | None = None,
                        metadata: bytes | None = None) -> None:
        changes: dict[str, object] = {}
        if status is not None:
            changes["status"] = status
        if confidentiality is not None:
            changes["confidentiality"] = " ".join(confidentiality)
        if metadata is not None:
            changes["metadata"] = metadata
        if not changes:
            return
        with self.transaction() as db:
            db.execute(
                f"UPDATE documents SET {', '.join(f'{k} = ?' for k in changes)} WHERE entry_uuid = ?",
                (*changes.values(), entry_uuid),
            )

    def count_documents(self, patient_ins: str | None = None) -> int:
        db = self._database.connection()
        if patient_ins:
            return db.execute("SELECT COUNT(*) FROM documents WHERE patient_ins = ?",
                              (patient_ins,)).fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def submission_sets(self, patient_ins: str) -> list[StoredSubmission]:
        db = self._database.connection()
        rows = db.execute(
            "SELECT entry_uuid, unique_id, patient_ins, source_id, submission_time, author_id,"
            " metadata FROM submission_sets WHERE patient_ins = ? ORDER BY submission_time",
            (patient_ins,),
        ).fetchall()
        return [StoredSubmission(*row) for row in rows]

    def associations(self, uuids: Iterable[str]) -> list[StoredAssociation]:
        uuids = list(uuids)
        if not uuids:
            return []
        marks = ", ".join("?" * len(uuids))
        db = self._database.connection()
        rows = db.execute(
            f"SELECT id, type, source, target, patient_ins, metadata FROM associations"
            f" WHERE source IN ({marks}) OR target IN ({marks}) ORDER BY rowid",
            (*uuids, *uuids),
        ).fetchall()
        return [StoredAssociation(*row) for row in rows]
