"""The reference DUI's own memory: usagers, their correspondents, documents, worklist, activity,
and its local copy of the Annuaire Santé.

A DUI keeps a file per usager; the bench never reads this store to judge (verdicts come from
what the mocks observed) — it is what the reference DUI answers the protocol's read actions
from (`liste_de_travail`, `documents_usager`, `correspondants`, `professionnels_proposes`,
`tableau_de_bord`) and what
makes it behave like a DUI across actions and runs: an usager created by an INSi search is
found again by INS, a refusal recorded once is honoured by every later send, an incoming
replacement supersedes the document it replaces. One SQLite file (`banc.sqlite`), shared by
every run of the reference DUI, as a real DUI's database is shared by its users.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from banc.sqlite import ThreadLocalDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS usagers (
    id INTEGER PRIMARY KEY,
    ins TEXT UNIQUE,            -- NULL while the identity is not qualified
    oid TEXT NOT NULL DEFAULT '',
    nom TEXT NOT NULL, prenom TEXT NOT NULL, sexe TEXT NOT NULL, naissance TEXT NOT NULL,
    lieu TEXT NOT NULL DEFAULT '',
    statut TEXT NOT NULL,       -- banc.identity.IdentityStatus value
    refus_messagerie_citoyenne INTEGER NOT NULL DEFAULT 0,
    refus_mssante INTEGER NOT NULL DEFAULT 0,
    cree TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS correspondants (
    usager INTEGER NOT NULL REFERENCES usagers(id),
    identifiant TEXT NOT NULL, nom TEXT NOT NULL, prenom TEXT NOT NULL DEFAULT '',
    bal TEXT NOT NULL DEFAULT '', role TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (usager, identifiant)
);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,        -- ClinicalDocument/id as root^extension
    lot TEXT NOT NULL,          -- setId
    version INTEGER NOT NULL DEFAULT 1,
    usager INTEGER REFERENCES usagers(id),  -- NULL: incoming, not attached yet
    sens TEXT NOT NULL,         -- 'produit' | 'recu'
    type TEXT NOT NULL DEFAULT '', titre TEXT NOT NULL DEFAULT '',
    auteur TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '',
    ins_document TEXT NOT NULL DEFAULT '',  -- the INS the document itself carries
    etat TEXT NOT NULL DEFAULT 'actif',     -- 'actif' | 'remplace' | 'supprime'
    remplace TEXT,              -- id of the version this one replaces
    lu INTEGER NOT NULL DEFAULT 0,
    expediteur TEXT NOT NULL DEFAULT '', message_id TEXT NOT NULL DEFAULT '',
    destinataires TEXT NOT NULL DEFAULT '[]',  -- JSON list of mailboxes it was sent to
    dmp_entree TEXT NOT NULL DEFAULT '',       -- entryUUID at the DMP once fed
    details TEXT NOT NULL DEFAULT '{}',        -- JSON: CDA header facts shown in the worklist
    cda BLOB, pdf BLOB,
    cree TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS historique (
    id INTEGER PRIMARY KEY,
    document TEXT NOT NULL, quand TEXT NOT NULL,
    evenement TEXT NOT NULL,    -- 'recu', 'rattache', 'remplace', 'supprime', 'verse_dmp', 'envoye'…
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS annuaire_local (  -- the last PS_LibreAcces extraction imported
    identifiant TEXT PRIMARY KEY,  -- identifiant national (8 + RPPS)
    nom TEXT NOT NULL, prenom TEXT NOT NULL DEFAULT '', profession TEXT NOT NULL DEFAULT '',
    fichier TEXT NOT NULL          -- the extraction it comes from
);
CREATE TABLE IF NOT EXISTS activite (
    id INTEGER PRIMARY KEY,
    quand TEXT NOT NULL,
    nature TEXT NOT NULL,       -- 'dmp' (alimentation) | 'mssante' (envoi)
    finess TEXT NOT NULL, rpps TEXT NOT NULL,
    document TEXT NOT NULL DEFAULT '', destinataires INTEGER NOT NULL DEFAULT 0
);
"""


SCHEMA_VERSION = 3
"""Bumped with every change of `SCHEMA`: an older file is set aside, never half-read."""


def _set_aside_if_outdated(path: Path) -> None:
    """The reference DUI's data is test data: a store written by another version of the schema
    is renamed `*.v<N>.sqlite` (kept, not deleted) and a new one is started."""
    if not path.exists():
        return
    with sqlite3.connect(path) as db:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.replace(path.with_suffix(f".v{version}.sqlite"))


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Usager:
    id: int
    ins: str | None
    oid: str
    nom: str
    prenom: str
    sexe: str
    naissance: str
    lieu: str
    statut: str
    refus_messagerie_citoyenne: bool
    refus_mssante: bool


@dataclass(frozen=True)
class StoredDocument:
    id: str
    lot: str
    version: int
    usager: int | None
    sens: str
    type: str
    titre: str
    auteur: str
    date: str
    ins_document: str
    etat: str
    remplace: str | None
    lu: bool
    expediteur: str
    message_id: str
    destinataires: list[str] = field(default_factory=list)
    dmp_entree: str = ""
    details: dict = field(default_factory=dict)
    """CDA header facts beyond the columns (patient traits, author's name and organisation)."""

    def metadata(self) -> dict:
        """What the protocol's read actions show of a document (no content)."""
        return {**self.details, "document": self.id, "lot": self.lot, "version": self.version,
                "type": self.type, "titre": self.titre, "auteur": self.auteur, "date": self.date,
                "ins": self.ins_document, "etat": self.etat, "remplace": self.remplace, "lu": self.lu,
                "expediteur": self.expediteur, "sens": self.sens}


_DOCUMENT_COLUMNS = ("id, lot, version, usager, sens, type, titre, auteur, date, ins_document, etat, "
                     "remplace, lu, expediteur, message_id, destinataires, dmp_entree, details")


class ReferenceStore:
    """Typed access to the reference DUI's SQLite file."""

    def __init__(self, path: Path | str) -> None:
        path = Path(path)
        _set_aside_if_outdated(path)
        self.db = ThreadLocalDatabase(path, schema=SCHEMA, pragmas=("foreign_keys=ON",))
        self.db.connection().execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _sql(self) -> sqlite3.Connection:
        return self.db.connection()

    # -- usagers ---------------------------------------------------------------------------
    def save_usager(self, *, ins: str | None, oid: str, nom: str, prenom: str, sexe: str, naissance: str,
                    lieu: str, statut: str) -> Usager:
        """Create the usager, or update the one with the same INS (or same traits without INS)."""
        existing = self.usager_by_ins(ins) if ins else None
        existing = existing or self.usager_by_traits(nom, prenom, sexe, naissance)
        if existing is None:
            cursor = self._sql().execute(
                "INSERT INTO usagers (ins, oid, nom, prenom, sexe, naissance, lieu, statut, cree) "
                "VALUES (?,?,?,?,?,?,?,?,?)", (ins, oid, nom, prenom, sexe, naissance, lieu, statut, now()))
            return self.usager(int(cursor.lastrowid or 0))
        self._sql().execute("UPDATE usagers SET ins=?, oid=?, lieu=?, statut=? WHERE id=?",
                            (ins or existing.ins, oid or existing.oid, lieu or existing.lieu, statut, existing.id))
        return self.usager(existing.id)

    def _usager(self, where: str, *args: object) -> Usager | None:
        row = self._sql().execute(
            "SELECT id, ins, oid, nom, prenom, sexe, naissance, lieu, statut, refus_messagerie_citoyenne, "
            f"refus_mssante FROM usagers WHERE {where} ORDER BY id DESC LIMIT 1", args).fetchone()
        return Usager(*row[:9], bool(row[9]), bool(row[10])) if row else None

    def usager(self, usager_id: int) -> Usager:
        found = self._usager("id = ?", usager_id)
        if found is None:
            raise KeyError(usager_id)
        return found

    def usager_by_ins(self, ins: str) -> Usager | None:
        return self._usager("ins = ?", ins)

    def usager_by_traits(self, nom: str, prenom: str, sexe: str, naissance: str) -> Usager | None:
        return self._usager("upper(nom) = upper(?) AND upper(prenom) = upper(?) AND sexe = ? AND naissance = ?",
                            nom, prenom, sexe, naissance)

    def set_refusal(self, usager_id: int, *, messagerie_citoyenne: bool | None = None,
                    mssante: bool | None = None) -> Usager:
        for column, value in (("refus_messagerie_citoyenne", messagerie_citoyenne), ("refus_mssante", mssante)):
            if value is not None:
                self._sql().execute(f"UPDATE usagers SET {column} = ? WHERE id = ?", (int(value), usager_id))
        return self.usager(usager_id)

    # -- correspondents --------------------------------------------------------------------
    def add_correspondent(self, usager_id: int, identifiant: str, nom: str, prenom: str = "", bal: str = "",
                          role: str = "") -> None:
        self._sql().execute("INSERT OR REPLACE INTO correspondants VALUES (?,?,?,?,?,?)",
                            (usager_id, identifiant, nom, prenom, bal, role))

    def correspondents(self, usager_id: int) -> list[dict]:
        rows = self._sql().execute("SELECT identifiant, nom, prenom, bal, role FROM correspondants "
                                   "WHERE usager = ? ORDER BY nom, prenom", (usager_id,)).fetchall()
        return [dict(zip(("identifiant", "nom", "prenom", "bal", "role"), row, strict=True)) for row in rows]

    # -- local copy of the Annuaire Santé ----------------------------------------------------
    def replace_directory(self, fichier: str, professionals: list[tuple[str, str, str, str]]) -> int:
        """The imported extraction replaces the previous one: (identifiant, nom, prenom, profession)."""
        db = self._sql()
        db.execute("BEGIN IMMEDIATE")  # autocommit connection: one explicit transaction
        try:
            db.execute("DELETE FROM annuaire_local")
            db.executemany("INSERT OR REPLACE INTO annuaire_local VALUES (?,?,?,?,?)",
                           [(*row, fichier) for row in professionals])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return len(professionals)

    def directory_named(self, nom: str) -> list[dict]:
        rows = self._sql().execute("SELECT identifiant, nom, prenom, profession, fichier FROM annuaire_local "
                                   "WHERE upper(nom) = upper(?) ORDER BY prenom", (nom,)).fetchall()
        return [dict(zip(("identifiant", "nom", "prenom", "profession", "fichier"), r, strict=True)) for r in rows]

    # -- documents -------------------------------------------------------------------------
    def add_document(self, *, id: str, lot: str, sens: str, cda: bytes, pdf: bytes | None = None,
                     usager: int | None = None, version: int = 1, type: str = "", titre: str = "",
                     auteur: str = "", date: str = "", ins_document: str = "", remplace: str | None = None,
                     expediteur: str = "", message_id: str = "", details: dict | None = None) -> StoredDocument:
        self._sql().execute(
            "INSERT OR REPLACE INTO documents (id, lot, version, usager, sens, type, titre, auteur, date, "
            "ins_document, remplace, expediteur, message_id, details, cda, pdf, cree) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (id, lot, version, usager, sens, type, titre, auteur, date, ins_document, remplace, expediteur,
             message_id, json.dumps(details or {}, ensure_ascii=False), cda, pdf, now()))
        self.trace(id, "recu" if sens == "recu" else "produit", expediteur)
        return self.document(id)

    def _documents(self, where: str, *args: object) -> list[StoredDocument]:
        rows = self._sql().execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE {where} ORDER BY cree, id",
                                   args).fetchall()
        return [StoredDocument(*row[:12], bool(row[12]), row[13], row[14], json.loads(row[15]), row[16],
                               json.loads(row[17])) for row in rows]

    def document(self, document_id: str) -> StoredDocument:
        found = self._documents("id = ?", document_id)
        if not found:
            raise KeyError(document_id)
        return found[0]

    def find_document(self, document_id: str) -> StoredDocument | None:
        found = self._documents("id = ?", document_id)
        return found[0] if found else None

    def content(self, document_id: str) -> tuple[bytes, bytes | None]:
        row = self._sql().execute("SELECT cda, pdf FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise KeyError(document_id)
        return row[0], row[1]

    def received_from_message(self, message_id: str) -> list[StoredDocument]:
        """Documents already taken in from this message (a mailbox read twice adds nothing)."""
        return self._documents("sens = 'recu' AND message_id = ?", message_id) if message_id else []

    def documents_of(self, usager_id: int) -> list[StoredDocument]:
        return self._documents("usager = ?", usager_id)

    def versions(self, lot: str) -> list[StoredDocument]:
        return self._documents("lot = ?", lot)

    def worklist(self) -> list[StoredDocument]:
        """Incoming documents not read yet (SC.MSS.26.MS1), superseded versions excluded."""
        return self._documents("sens = 'recu' AND lu = 0 AND etat = 'actif'")

    def update_document(self, document_id: str, **changes: object) -> StoredDocument:
        allowed = {"usager", "etat", "lu", "dmp_entree", "destinataires"}
        if not set(changes) <= allowed:
            raise ValueError(f"colonnes non modifiables : {sorted(set(changes) - allowed)}")
        for column, value in changes.items():
            stored = json.dumps(value) if column == "destinataires" else value
            self._sql().execute(f"UPDATE documents SET {column} = ? WHERE id = ?", (stored, document_id))
        return self.document(document_id)

    def trace(self, document_id: str, evenement: str, detail: str = "") -> None:
        """Keep the history of a document (SC.MSS.24.MS1: incoming documents modified or deleted)."""
        self._sql().execute("INSERT INTO historique (document, quand, evenement, detail) VALUES (?,?,?,?)",
                            (document_id, now(), evenement, detail))

    def history(self, document_id: str) -> list[dict]:
        rows = self._sql().execute("SELECT quand, evenement, detail FROM historique WHERE document = ? "
                                   "ORDER BY id", (document_id,)).fetchall()
        return [{"quand": q, "evenement": e, "detail": d} for q, e, d in rows]

    # -- activity (dashboard) --------------------------------------------------------------
    def record_activity(self, nature: str, *, finess: str, rpps: str, document: str = "",
                        destinataires: int = 0) -> None:
        self._sql().execute("INSERT INTO activite (quand, nature, finess, rpps, document, destinataires) "
                            "VALUES (?,?,?,?,?,?)", (now(), nature, finess, rpps, document, destinataires))

    def activity(self, start: str = "", end: str = "") -> list[dict]:
        """Activity rows whose date (UTC, YYYY-MM-DD) is within [start, end] (open when empty)."""
        rows = self._sql().execute(
            "SELECT quand, nature, finess, rpps, document, destinataires FROM activite "
            "WHERE (? = '' OR substr(quand, 1, 10) >= ?) AND (? = '' OR substr(quand, 1, 10) <= ?) ORDER BY id",
            (start, start, end, end)).fetchall()
        keys = ("quand", "nature", "finess", "rpps", "document", "destinataires")
        return [dict(zip(keys, row, strict=True)) for row in rows]
