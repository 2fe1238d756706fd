"""State of the INSi mock: the identity base and the registered software (IDAM), in SQLite.

Matching follows what the real service is documented to do: traits are compared upper-case as
sent (the client normalises; the rules refuse lower case before we get here), one `Prenom`
matches any one of the person's first names, the whole list matches too, the birthplace is
optional, several people → CR 02. Each record also keeps how the CNAM answer presents it
(history dates, TIQ elements left out) so that captured answers can be reproduced exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from banc.identity import Identity, IdentityError, IdentityStatus, nir_key
from banc.sqlite import ThreadLocalDatabase
from simulators.insi_mock.wire import Individual, InsEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    matricule TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    oid TEXT NOT NULL,
    birth_name TEXT NOT NULL,
    first_names TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    birth_place TEXT,
    used_name TEXT,
    history TEXT NOT NULL DEFAULT '[]',
    tiq_omit TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS identities_by_traits ON identities(birth_name, birth_date, sex);
CREATE TABLE IF NOT EXISTS software (
    idam TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
"""


@dataclass(frozen=True)
class InsiRecord:
    """One person of the national register as the mock answers for them."""

    identity: Identity
    history: tuple[InsEntry, ...] = ()  # former INS (INSHISTO), with the dates shown if any
    tiq_omit: frozenset[str] = field(default_factory=frozenset)

    @property
    def ins(self) -> str:
        return self.identity.ins or ""


def record_from_identity(identity: Identity, *, tiq_omit: frozenset[str] = frozenset(),
                         history_dates: dict[str, tuple[str | None, str | None]] | None = None,
                         ) -> InsiRecord:
    """An `InsiRecord` for an `Identity` (its history becomes INSHISTO entries)."""
    if not identity.matricule:
        raise IdentityError("une identité sans matricule ne peut pas être connue d'INSi")
    dates = history_dates or {}
    history = tuple(
        InsEntry(m, k, o, *dates.get(m + k, (None, None))) for m, k, o in identity.history
    )
    key = identity.key or nir_key(identity.matricule)
    return InsiRecord(replace(identity, key=key), history, frozenset(tiq_omit))


class IdentityStore:
    """The mock's register. Thread-safe (one SQLite connection per thread, WAL)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._database = ThreadLocalDatabase(self.path, schema=_SCHEMA)
        self._idams: frozenset[str] | None = None  # cache: read on every request

    # -- writing ----------------------------------------------------------------------------
    def put(self, record: InsiRecord) -> None:
        """Add a person, or replace the one with the same matricule."""
        identity = record.identity
        db = self._database.connection()
        db.execute(
            "INSERT OR REPLACE INTO identities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                identity.matricule, identity.key, identity.oid, identity.birth_name,
                " ".join(identity.first_names), identity.sex, identity.birth_date.isoformat(),
                identity.birth_place, identity.used_name,
                json.dumps([h.__dict__ for h in record.history]),
                " ".join(sorted(record.tiq_omit)),
            ),
        )

    def put_many(self, records: list[InsiRecord]) -> None:
        db = self._database.connection()
        db.execute("BEGIN")
        try:
            for record in records:
                self.put(record)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def add(
        self, identity: Identity, *, tiq_omit: frozenset[str] | set[str] = frozenset(),
        history_dates: dict[str, tuple[str | None, str | None]] | None = None,
    ) -> InsiRecord:
        """Scenario API: make INSi know this person (replacing the same matricule)."""
        record = record_from_identity(
            identity, tiq_omit=frozenset(tiq_omit), history_dates=history_dates
        )
        self.put(record)
        return record

    def update(self, ins_or_matricule: str, **changes: object) -> InsiRecord:
        """Scenario API: change traits of a known person (e.g. `birth_name="…"`)."""
        record = self.get(ins_or_matricule)
        if record is None:
            raise KeyError(f"INS {ins_or_matricule} inconnu du simulateur INSi")
        updated = replace(record, identity=replace(record.identity, **changes))  # type: ignore[arg-type]
        if updated.identity.matricule != record.identity.matricule:
            self.remove(record.identity.matricule or "")
        self.put(updated)
        return updated

    def remove(self, ins_or_matricule: str) -> bool:
        db = self._database.connection()
        cursor = db.execute(
            "DELETE FROM identities WHERE matricule = ?", (ins_or_matricule[:13].upper(),)
        )
        return cursor.rowcount > 0

    def clear(self) -> None:
        """Forget every identity and every registered software (before seeding again)."""
        db = self._database.connection()
        db.execute("DELETE FROM identities")
        db.execute("DELETE FROM software")
        self._idams = None

    # -- reading ----------------------------------------------------------------------------
    @staticmethod
    def _record(row: tuple) -> InsiRecord:
        (matricule, key, oid, name, first_names, sex, born, place, used, history, omit) = row
        entries = tuple(InsEntry(**h) for h in json.loads(history))
        identity = Identity(
            birth_name=name, first_names=tuple(first_names.split()), sex=sex,
            birth_date=date.fromisoformat(born), birth_place=place, matricule=matricule,
            key=key, oid=oid, status=IdentityStatus.QUALIFIEE, used_name=used,
            history=tuple((h.matricule, h.key, h.oid) for h in entries),
        )
        return InsiRecord(identity, entries, frozenset(omit.split()))

    def get(self, ins_or_matricule: str) -> InsiRecord | None:
        db = self._database.connection()
        row = db.execute(
            "SELECT * FROM identities WHERE matricule = ?", (ins_or_matricule[:13].upper(),)
        ).fetchone()
        return self._record(row) if row else None

    def all(self) -> list[InsiRecord]:
        db = self._database.connection()
        rows = db.execute("SELECT * FROM identities ORDER BY birth_name, matricule").fetchall()
        return [self._record(row) for row in rows]

    def count(self) -> int:
        db = self._database.connection()
        return int(db.execute("SELECT COUNT(*) FROM identities").fetchone()[0])

    def search_traits(
        self, birth_name: str, first_names: tuple[str, ...], sex: str, birth_date: str,
        birth_place: str | None = None,
    ) -> list[InsiRecord]:
        """People matching the traits. `birth_date` may be lunar (`00` month/day = unknown)."""
        year, month, day = birth_date.split("-")
        clauses = ["birth_name = ?", "sex = ?"]
        params: list[str] = [birth_name, sex]
        if month == "00" or day == "00":
            clauses.append("birth_date LIKE ?")
            params.append(f"{year}-{'__' if month == '00' else month}-{'__' if day == '00' else day}")
        else:
            clauses.append("birth_date = ?")
            params.append(birth_date)
        if birth_place:
            clauses.append("birth_place = ?")
            params.append(birth_place)
        db = self._database.connection()
        rows = db.execute(
            f"SELECT * FROM identities WHERE {' AND '.join(clauses)}", params
        ).fetchall()
        wanted = " ".join(first_names)
        found = []
        for row in rows:
            names = row[4].split()
            if wanted == row[4] or (len(first_names) == 1 and first_names[0] in names):
                found.append(self._record(row))
        return found

    def search_vitale(
        self, matricule: str | None, holder: str | None, birth_date: str | None,
        birth_name: str | None = None,
    ) -> list[InsiRecord]:
        """People matching a carte Vitale read: the beneficiary's NIR (or the holder's when the
        beneficiary is the holder), the birth date, and the birth name when given."""
        number = (matricule or holder or "").upper()
        if not number:
            return []
        db = self._database.connection()
        rows = db.execute("SELECT * FROM identities WHERE matricule = ?", (number,)).fetchall()
        if not rows:
            rows = db.execute(
                "SELECT identities.* FROM identities, json_each(identities.history) AS h"
                " WHERE json_extract(h.value, '$.matricule') = ?", (number,),
            ).fetchall()
        records = [self._record(row) for row in rows]
        return [
            r for r in records
            if (not birth_date or r.identity.birth_date.isoformat() == birth_date)
            and (not birth_name or r.identity.birth_name == birth_name)
        ]

    # -- registered software ----------------------------------------------------------------
    def register_software(self, idam: str, name: str = "", note: str = "") -> None:
        db = self._database.connection()
        db.execute("INSERT OR REPLACE INTO software VALUES (?, ?, ?)", (idam, name, note))
        self._idams = None

    def software(self) -> dict[str, str]:
        db = self._database.connection()
        return dict(db.execute("SELECT idam, name FROM software ORDER BY idam").fetchall())

    def known_idams(self) -> frozenset[str]:
        """Registered IDAMs (cached; registering through this store refreshes the cache)."""
        if self._idams is None:
            self._idams = frozenset(self.software())
        return self._idams


def individual(record: InsiRecord) -> Individual:
    """The INDIVIDU part of a CR 00 answer for this record."""
    identity = record.identity
    tiq = (
        ("NomNaissance", identity.birth_name),
        ("Prenom", identity.first_name),
        ("ListePrenom", " ".join(identity.first_names)),
        ("Sexe", identity.sex),
        ("DateNaissance", identity.birth_date.isoformat()),
        ("LieuNaissance", identity.birth_place or ""),
    )
    return Individual(
        active=InsEntry(identity.matricule or "", identity.key or "", identity.oid),
        history=record.history,
        tiq=tuple((name, value) for name, value in tiq if value and name not in record.tiq_omit),
    )
