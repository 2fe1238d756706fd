"""Runs as stored in the journal database: one row per run, one per step result, proofs.

A run is what the bench concluded, with links (journal ids) to what it observed, so that
reports, evidence packs and a resumed run read the same data. Step results are written as each
step ends: a run interrupted (Ctrl+C, crash, waiting for a manual proof) keeps what was judged
and resumes from the first step without a final outcome.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from banc.journal import Journal
from banc.scenario.model import Outcome
from banc.verdict import Finding

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    dui TEXT NOT NULL,
    driver TEXT NOT NULL,
    session TEXT,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    inputs TEXT NOT NULL DEFAULT '{}',
    current_step INTEGER
);
CREATE TABLE IF NOT EXISTS run_steps (
    run TEXT NOT NULL,
    position INTEGER NOT NULL,
    step TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    requirements TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '[]',
    findings TEXT NOT NULL DEFAULT '[]',
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    PRIMARY KEY (run, position)
);
CREATE TABLE IF NOT EXISTS run_proofs (
    run TEXT NOT NULL,
    step TEXT NOT NULL,
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    attached_at REAL NOT NULL
);
"""

RUNNING, WAITING, FINISHED, INTERRUPTED = "en cours", "en attente de preuve", "terminé", "interrompu"


@dataclass
class StepResult:
    step: str
    title: str
    kind: str
    outcome: Outcome
    requirements: tuple[str, ...]
    reason: str = ""
    evidence: tuple[int, ...] = ()
    """Journal ids of the exchanges the outcome rests on."""
    findings: list[Finding] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    ended_at: float = field(default_factory=time.time)
    position: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["outcome"] = str(self.outcome)
        data["findings"] = [f.to_dict() for f in self.findings]
        return data


@dataclass
class Run:
    id: str
    scenario: str
    dui: str
    driver: str
    status: str
    started_at: float
    session: str | None = None
    ended_at: float | None = None
    inputs: dict = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)

    def result(self, step_id: str) -> StepResult | None:
        return next((s for s in self.steps if s.step == step_id), None)


class RunStore:
    """Runs in the journal's SQLite file (so one file holds the traffic and the verdicts)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        db = journal.connection()
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        if "current_step" not in columns:  # runs stored before progress was recorded
            db.execute("ALTER TABLE runs ADD COLUMN current_step INTEGER")

    def _db(self):
        return self.journal.connection()

    def create(self, scenario: str, dui: str, driver: str, inputs: dict, session: str | None) -> Run:
        run = Run(id=f"{time.strftime('%Y%m%d-%H%M%S')}-{scenario}-{uuid.uuid4().hex[:6]}",
                  scenario=scenario, dui=dui, driver=driver, status=RUNNING, started_at=time.time(),
                  session=session, inputs=inputs)
        self._db().execute(
            "INSERT INTO runs(id, scenario, dui, driver, session, status, started_at, inputs)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run.id, scenario, dui, driver, session, run.status, run.started_at,
             json.dumps(inputs, ensure_ascii=False, default=str)),
        )
        return run

    def save_step(self, run: Run, result: StepResult) -> None:
        self._db().execute(
            "INSERT OR REPLACE INTO run_steps(run, position, step, title, kind, outcome,"
            " requirements, reason, evidence, findings, started_at, ended_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run.id, result.position, result.step, result.title, result.kind, str(result.outcome),
             json.dumps(list(result.requirements)), result.reason, json.dumps(list(result.evidence)),
             json.dumps([f.to_dict() for f in result.findings], ensure_ascii=False),
             result.started_at, result.ended_at),
        )
        run.steps = [s for s in run.steps if s.position != result.position] + [result]
        run.steps.sort(key=lambda s: s.position)

    def set_current(self, run: Run, position: int | None) -> None:
        """The step being played (for a progress display, or an operator's tooling)."""
        self._db().execute("UPDATE runs SET current_step = ? WHERE id = ?", (position, run.id))

    def set_status(self, run: Run, status: str) -> None:
        run.status = status
        run.ended_at = time.time() if status != RUNNING else None
        self._db().execute("UPDATE runs SET status = ?, ended_at = ?, current_step = NULL WHERE id = ?",
                           (status, run.ended_at, run.id))

    def attach_proof(self, run_id: str, step_id: str, file: Path, note: str = "") -> None:
        self._db().execute(
            "INSERT INTO run_proofs(run, step, name, content, note, attached_at) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, step_id, file.name, file.read_bytes(), note, time.time()),
        )

    def proofs(self, run_id: str, step_id: str | None = None) -> list[dict]:
        sql = "SELECT step, name, length(content), note, attached_at FROM run_proofs WHERE run = ?"
        params: list = [run_id]
        if step_id is not None:
            sql += " AND step = ?"
            params.append(step_id)
        keys = ("step", "name", "size", "note", "attached_at")
        return [dict(zip(keys, row, strict=True)) for row in self._db().execute(sql, params)]

    def proof_contents(self, run_id: str) -> list[tuple[str, str, bytes]]:
        """(step, file name, bytes) of every proof attached to a run, for the evidence pack."""
        rows = self._db().execute("SELECT step, name, content FROM run_proofs WHERE run = ? ORDER BY rowid",
                                  (run_id,))
        return [(step, name, bytes(content)) for step, name, content in rows]

    def get(self, run_id: str) -> Run | None:
        row = self._db().execute(
            "SELECT id, scenario, dui, driver, status, started_at, session, ended_at, inputs"
            " FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        run = Run(*row[:8], inputs=json.loads(row[8]))
        for step_row in self._db().execute(
            "SELECT step, title, kind, outcome, requirements, reason, evidence, findings,"
            " started_at, ended_at, position FROM run_steps WHERE run = ? ORDER BY position", (run_id,)
        ):
            run.steps.append(StepResult(
                step=step_row[0], title=step_row[1], kind=step_row[2], outcome=Outcome(step_row[3]),
                requirements=tuple(json.loads(step_row[4])), reason=step_row[5],
                evidence=tuple(json.loads(step_row[6])),
                findings=[Finding.from_dict(f) for f in json.loads(step_row[7])],
                started_at=step_row[8], ended_at=step_row[9], position=step_row[10]))
        return run

    def list(self, limit: int = 50) -> list[Run]:
        rows = self._db().execute("SELECT id FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))
        return [run for (run_id,) in rows.fetchall() if (run := self.get(run_id)) is not None]

    def latest(self) -> Run | None:
        found = self.list(limit=1)
        return found[0] if found else None
