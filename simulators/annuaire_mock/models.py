"""State of the Annuaire mock: FHIR resources in SQLite with search indexes.

Each resource is stored once as JSON text (served as is, never re-serialised) plus one index row
per searchable value: tokens (system, code), strings (accent- and case-folded, for the default
starts-with match and `:exact`), references (target type, id). `mailbox-mss:contains` — the
search DUIs run to find an address — goes through an FTS5 trigram table, so it stays fast at
100 000 practitioners; `:contains` on names scans that parameter's index rows (rarely used). Paging is keyset on the storage rowid (like the real server's "lastId" paging),
so page 200 costs what page 1 costs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from banc.sqlite import ThreadLocalDatabase
from simulators.annuaire_mock import seed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    rowid INTEGER PRIMARY KEY, rtype TEXT NOT NULL, id TEXT NOT NULL, updated TEXT NOT NULL,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idx (
    rtype TEXT NOT NULL, param TEXT NOT NULL, system TEXT NOT NULL, value TEXT NOT NULL,
    raw TEXT NOT NULL, res INTEGER NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    value, rtype UNINDEXED, param UNINDEXED, res UNINDEXED, tokenize='trigram');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS resources_id ON resources(rtype, id);
CREATE INDEX IF NOT EXISTS idx_value ON idx(rtype, param, value, system, res);
CREATE INDEX IF NOT EXISTS idx_res ON idx(res, param);
"""

STRING, TOKEN, REFERENCE, DATE = "string", "token", "reference", "date"

SEARCH_PARAMETERS: dict[str, dict[str, str]] = {
    "Practitioner": {
        "_id": TOKEN, "_lastUpdated": DATE, "identifier": TOKEN, "family": STRING,
        "given": STRING, "name": STRING, "mailbox-mss": STRING, "mailbox-mss-type": TOKEN,
        "active": TOKEN, "qualification-code": TOKEN,
    },
    "PractitionerRole": {
        "_id": TOKEN, "_lastUpdated": DATE, "identifier": TOKEN, "active": TOKEN,
        "mailbox-mss": STRING, "mailbox-mss-type": TOKEN, "organization": REFERENCE,
        "practitioner": REFERENCE, "role": TOKEN,
    },
    "Organization": {
        "_id": TOKEN, "_lastUpdated": DATE, "identifier": TOKEN, "name": STRING,
        "mailbox-mss": STRING, "mailbox-mss-type": TOKEN, "active": TOKEN, "type": TOKEN,
        "partof": REFERENCE, "address-city": STRING, "address-postalcode": STRING,
    },
    "HealthcareService": {
        "_id": TOKEN, "_lastUpdated": DATE, "identifier": TOKEN, "active": TOKEN,
        "organization": REFERENCE,
    },
}
"""What the mock can search, per resource type (the real API's parameters for our data)."""

DOMAIN_PARAM = "mailbox-mss.domain"
"""Internal index of mailbox domains (not a search parameter): serves `mailbox-mss:contains=@…`,
the documented way to list an operator's or a hospital's mailboxes."""

REFERENCE_TARGETS = {
    ("PractitionerRole", "organization"): "Organization",
    ("PractitionerRole", "practitioner"): "Practitioner",
    ("Organization", "partof"): "Organization",
    ("HealthcareService", "organization"): "Organization",
}


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Case- and accent-insensitive form used by FHIR string search."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).lower()


# -- what to index ---------------------------------------------------------------------------
def _mailbox_values(resource: dict) -> Iterator[tuple[str, str, str]]:
    for telecom in resource.get("telecom", ()):
        extensions = {e["url"]: e for e in telecom.get("extension", ())}
        if seed.EXT_EMAIL_TYPE not in extensions:
            continue
        yield "mailbox-mss", "", telecom["value"]
        for sub in extensions.get(seed.EXT_MAILBOX_METADATA, {}).get("extension", ()):
            if sub["url"] == "type":
                code = sub["valueCodeableConcept"]["coding"][0]["code"]
                yield "mailbox-mss-type", seed.CS_BAL_TYPE, code
                # the BAL MSS IG writes the token with the TRE_R256 system: accept both (?)
                yield "mailbox-mss-type", seed.CS_EMAIL_TYPE, code


def _codings(concepts: Iterable[dict]) -> Iterator[tuple[str, str]]:
    for concept in concepts:
        for coding in concept.get("coding", ()):
            yield coding.get("system", ""), coding["code"]


def index_values(resource: dict) -> Iterator[tuple[str, str, str]]:
    """(param, system-or-target-type, raw value) for every searchable value of `resource`."""
    rtype = resource["resourceType"]
    yield "_id", "", resource["id"]
    yield "active", "", "true" if resource.get("active", True) else "false"
    for identifier in resource.get("identifier", ()):
        yield "identifier", identifier.get("system", ""), identifier["value"]
    if rtype in ("Practitioner", "PractitionerRole", "Organization"):
        yield from _mailbox_values(resource)
    if rtype == "Practitioner":
        for name in resource.get("name", ()):
            yield "family", "", name["family"]
            for given in name.get("given", ()):
                yield "given", "", given
            for part in (name["family"], *name.get("given", ()), *name.get("prefix", ()),
                         *name.get("suffix", ())):
                yield "name", "", part
        for system, code in _codings(q["code"] for q in resource.get("qualification", ())):
            yield "qualification-code", system, code
    elif rtype == "PractitionerRole":
        yield "practitioner", "Practitioner", resource["practitioner"]["reference"].split("/")[1]
        yield "organization", "Organization", resource["organization"]["reference"].split("/")[1]
        for system, code in _codings(resource.get("code", ())):
            yield "role", system, code
    elif rtype == "Organization":
        yield "name", "", resource["name"]
        for system, code in _codings(resource.get("type", ())):
            yield "type", system, code
        for address in resource.get("address", ()):
            yield "address-city", "", address.get("city", "")
            yield "address-postalcode", "", address.get("postalCode", "")
        if "partOf" in resource:
            yield "partof", "Organization", resource["partOf"]["reference"].split("/")[1]
    elif rtype == "HealthcareService":
        yield "organization", "Organization", resource["providedBy"]["reference"].split("/")[1]


# -- queries --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    """One search parameter occurrence: values are OR-ed, criteria are AND-ed."""

    param: str
    modifier: str  # "", "exact", "contains"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    rtype: str
    criteria: tuple[Criterion, ...] = ()
    count: int = 50
    total: str = "accurate"  # none | estimate | accurate
    includes: tuple[tuple[str, str, str], ...] = ()  # (source type, param, target type)
    revincludes: tuple[tuple[str, str], ...] = ()  # (source type, param)
    after: int = 0  # keyset: last rowid of the previous page


@dataclass
class Page:
    matches: list[tuple[int, str, str]]  # (rowid, id, JSON body)
    included: list[tuple[str, str, str]] = field(default_factory=list)  # (type, id, JSON body)
    total: int | None = None
    last: int | None = None  # rowid to continue after, None when this is the last page


_DATE_OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=", "ap": "="}


class AnnuaireStore:
    """The resources and their indexes in one SQLite file (one connection per thread)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._database = ThreadLocalDatabase(self.path, schema=_SCHEMA, pragmas=("cache_size=-65536",))

    @property
    def _db(self) -> sqlite3.Connection:
        return self._database.connection()

    # -- loading --------------------------------------------------------------------------
    def count(self, rtype: str | None = None) -> int:
        if rtype is None:
            return self._db.execute("SELECT count(*) FROM resources").fetchone()[0]
        return self._db.execute("SELECT count(*) FROM resources WHERE rtype = ?",
                                (rtype,)).fetchone()[0]

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def load(self, resources: Iterable[dict], *, signature: str = "", validate: bool = False) -> int:
        """Replace the content with `resources`; `signature` names the data set (seed, size),
        so a restart on the same data directory reuses the file instead of rebuilding it.

        The new database is built beside the old one without journal (a bulk load needs no
        crash safety: an interrupted build is simply discarded) and then renamed over it, so
        readers see the old data set or the new one, never half of it."""
        building = self.path.with_name(self.path.name + ".building")
        building.unlink(missing_ok=True)
        db = sqlite3.connect(building, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(_SCHEMA)
            db.execute("BEGIN")
            loaded = self._fill(db, resources, validate)
            for statement in _INDEXES.strip().split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO meta VALUES ('signature', ?)", (signature,))
            db.execute("COMMIT")
            db.execute("ANALYZE")
        finally:
            db.close()
        self._database.close()
        os.replace(building, self.path)
        for suffix in ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        return loaded

    @staticmethod
    def _rows(rowid: int, resource: dict) -> tuple[tuple, list[tuple], list[tuple]]:
        """(resource row, index rows, trigram rows) that store one resource under `rowid`."""
        rtype = resource["resourceType"]
        stored = (rowid, rtype, resource["id"], resource["meta"]["lastUpdated"][:10],
                  json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
        rows, strings = [], []
        kinds = SEARCH_PARAMETERS[rtype]
        for param, system, raw in index_values(resource):
            if param not in kinds:
                continue
            if kinds[param] == STRING:
                value = fold(raw)
                if param == "mailbox-mss":
                    strings.append((value, rtype, param, rowid))
                    rows.append((rtype, DOMAIN_PARAM, "", value.rsplit("@", 1)[-1], "", rowid))
            else:
                value = raw
            rows.append((rtype, param, system, value, raw, rowid))
        return stored, rows, strings

    @classmethod
    def _fill(cls, db: sqlite3.Connection, resources: Iterable[dict], validate: bool) -> int:
        stored, rows, strings, loaded = [], [], [], 0

        def flush() -> None:
            db.executemany("INSERT INTO resources VALUES (?, ?, ?, ?, ?)", stored)
            db.executemany("INSERT INTO idx VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO fts VALUES (?, ?, ?, ?)", strings)
            stored.clear()
            rows.clear()
            strings.clear()

        for rowid, resource in enumerate(resources, start=1):
            if validate:
                seed.validate(resource)
            one, indexed, trigrams = cls._rows(rowid, resource)
            stored.append(one)
            rows += indexed
            strings += trigrams
            loaded += 1
            if len(rows) > 50_000:
                flush()
        flush()
        return loaded

    def refill(self, resources: Iterable[dict]) -> int:
        """Replace the content in place (a reset): unlike `load`, the file stays the same, so
        the connections other threads hold see the new content."""
        db = self._db
        db.execute("BEGIN")
        try:
            for table in ("resources", "idx", "fts"):
                db.execute(f"DELETE FROM {table}")
            loaded = self._fill(db, resources, validate=False)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return loaded

    def put(self, resources: list[dict]) -> None:
        """Add resources to the live store (a scenario's new professional), replacing those
        with the same type and id; validated first, written in one transaction."""
        for resource in resources:
            seed.validate(resource)
        db = self._db
        db.execute("BEGIN")
        try:
            for resource in resources:
                old = db.execute("SELECT rowid FROM resources WHERE rtype = ? AND id = ?",
                                 (resource["resourceType"], resource["id"])).fetchone()
                if old is not None:
                    for table, column in (("resources", "rowid"), ("idx", "res"), ("fts", "res")):
                        db.execute(f"DELETE FROM {table} WHERE {column} = ?", (old[0],))
                rowid = db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM resources").fetchone()[0]
                one, indexed, trigrams = self._rows(rowid, resource)
                db.execute("INSERT INTO resources VALUES (?, ?, ?, ?, ?)", one)
                db.executemany("INSERT INTO idx VALUES (?, ?, ?, ?, ?, ?)", indexed)
                db.executemany("INSERT INTO fts VALUES (?, ?, ?, ?)", trigrams)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- reading --------------------------------------------------------------------------
    def read(self, rtype: str, rid: str) -> str | None:
        row = self._db.execute("SELECT body FROM resources WHERE rtype = ? AND id = ?",
                               (rtype, rid)).fetchone()
        return row[0] if row else None

    def _criterion_sql(self, rtype: str, criterion: Criterion) -> tuple[str, list]:
        kind = SEARCH_PARAMETERS[rtype][criterion.param]
        if kind == DATE:
            clauses, params = [], []
            for value in criterion.values:
                operator, day = _date_operator(value)
                clauses.append(f"updated {operator} ?")
                params.append(day)
            return "(" + " OR ".join(clauses) + ")", params
        if kind == STRING and criterion.modifier == "contains":
            return self._contains_sql(rtype, criterion)
        clauses, params = [], []
        for value in criterion.values:
            if kind == STRING:
                folded = fold(value)
                if criterion.modifier == "exact":
                    clauses.append("(value = ? AND raw = ?)")
                    params += [folded, value]
                else:
                    clauses.append("(value >= ? AND value < ?)")
                    params += [folded, folded + "\U0010ffff"]
            elif kind == REFERENCE:
                target = value.rsplit("/", 1)
                clauses.append("value = ?")
                params.append(target[-1])
            else:  # token
                if "|" in value:
                    system, code = value.split("|", 1)
                    if system:
                        clauses.append("(value = ? AND system = ?)")
                        params += [code, system]
                        continue
                    value = code
                clauses.append("value = ?")
                params.append(value)
        sql = (f"rowid IN (SELECT res FROM idx WHERE rtype = ? AND param = ? AND "
               f"({' OR '.join(clauses)}))")
        return sql, [rtype, criterion.param, *params]

    @staticmethod
    def _contains_sql(rtype: str, criterion: Criterion) -> tuple[str, list]:
        """Trigram index for mailboxes (MATCH on a quoted phrase finds substrings of 3+
        characters); shorter needles and other parameters use LIKE on the index rows."""
        indexed, scanned, params, likes, domains = [], [], [], [], []
        for value in criterion.values:
            folded = fold(value)
            if criterion.param == "mailbox-mss" and folded.startswith("@") \
                    and folded.count("@") == 1:
                # an address has one '@': it contains '@dom' iff its domain starts with 'dom'
                domains.append(folded[1:])
            elif criterion.param == "mailbox-mss" and len(folded) >= 3:
                indexed.append("value MATCH ?")
                params.append('"' + folded.replace('"', '""') + '"')
            else:
                scanned.append("value LIKE ? ESCAPE '\\'")
                likes.append("%" + _like_escape(folded) + "%")
        parts, values = [], []
        if indexed:
            parts.append(f"rowid IN (SELECT res FROM fts WHERE ({' OR '.join(indexed)})"
                         " AND rtype = ? AND param = ?)")
            values += [*params, rtype, criterion.param]
        for domain in domains:
            parts.append("rowid IN (SELECT res FROM idx WHERE rtype = ? AND param = ? AND"
                         " value >= ? AND value < ?)")
            values += [rtype, DOMAIN_PARAM, domain, domain + "\U0010ffff"]
        if scanned:
            parts.append(f"rowid IN (SELECT res FROM idx WHERE rtype = ? AND param = ? AND"
                         f" ({' OR '.join(scanned)}))")
            values += [rtype, criterion.param, *likes]
        return "(" + " OR ".join(parts) + ")", values

    def search(self, query: Query) -> Page:
        where, params = ["rtype = ?"], [query.rtype]
        for criterion in query.criteria:
            sql, values = self._criterion_sql(query.rtype, criterion)
            where.append(sql)
            params += values
        condition = " AND ".join(where)
        db = self._db
        total = None
        if query.total != "none":
            total = db.execute(f"SELECT count(*) FROM resources WHERE {condition}",
                               params).fetchone()[0]
        rows = db.execute(
            f"SELECT rowid, id, body FROM resources WHERE {condition} AND rowid > ? "
            "ORDER BY rowid LIMIT ?", [*params, query.after, query.count + 1]).fetchall()
        more = len(rows) > query.count
        rows = rows[: query.count]
        page = Page(matches=rows, total=total,
                    last=rows[-1][0] if more and rows else None)
        if rows and (query.includes or query.revincludes):
            page.included = self._included(query, rows)
        return page

    def _included(self, query: Query, rows: list[tuple[int, str, str]]) -> list[tuple[str, str, str]]:
        db, seen, found = self._db, set(), []
        rowids = [r[0] for r in rows]
        ids = [r[1] for r in rows]
        marks = ",".join("?" * len(rows))
        for _source, param, target in query.includes:
            targets = [v for (v,) in db.execute(
                f"SELECT DISTINCT value FROM idx WHERE res IN ({marks}) AND param = ?",
                [*rowids, param])]
            if not targets:
                continue
            tmarks = ",".join("?" * len(targets))
            for rid, body in db.execute(
                    f"SELECT id, body FROM resources WHERE rtype = ? AND id IN ({tmarks})",
                    [target, *targets]):
                if (target, rid) not in seen:
                    seen.add((target, rid))
                    found.append((target, rid, body))
        for source, param in query.revincludes:
            for rid, body in db.execute(
                    "SELECT r.id, r.body FROM idx i JOIN resources r ON r.rowid = i.res "
                    f"WHERE i.rtype = ? AND i.param = ? AND i.system = ? AND i.value IN ({marks})"
                    " ORDER BY r.rowid", [source, param, query.rtype, *ids]):
                if (source, rid) not in seen:
                    seen.add((source, rid))
                    found.append((source, rid, body))
        return found


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _date_operator(value: str) -> tuple[str, str]:
    """'ge2024-01-01' → ('>=', '2024-01-01'); the value was checked by the rules beforehand."""
    prefix = value[:2]
    if prefix in _DATE_OPERATORS:
        return _DATE_OPERATORS[prefix], value[2:12]
    return "=", value[:10]
