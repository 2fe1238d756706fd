"""SQLite as every store of the bench uses it: one file, one connection per thread, WAL.

The journal and the mocks' stores are read and written from server threads (uvicorn, aiosmtpd,
Twisted) and sometimes from other processes (`banc up` next to a scenario). WAL lets readers
run beside one writer; `synchronous=NORMAL` in WAL mode keeps every committed transaction across
a process kill (only an OS crash may lose the last ones), which is what the crash tests check.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class ThreadLocalDatabase:
    """A SQLite file shared by threads, each with its own connection (autocommit mode).

    `pragmas` are extra `PRAGMA` statements (e.g. "foreign_keys=ON") run on every new
    connection; `schema` is run once, when the object is created.
    """

    def __init__(self, path: Path | str, *, schema: str = "", pragmas: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._pragmas = ("journal_mode=WAL", "synchronous=NORMAL", *pragmas)
        self._local = threading.local()
        if schema:
            self.connection().executescript(schema)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in self._pragmas:
                db.execute(f"PRAGMA {pragma}")
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (the next `connection()` opens a new one)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
