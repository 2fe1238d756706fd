"""banc.sqlite: one connection per thread, WAL, schema and pragmas applied."""

from __future__ import annotations

import threading
from pathlib import Path

from banc.sqlite import ThreadLocalDatabase


def test_each_thread_gets_its_own_connection_on_one_wal_file(tmp_path: Path) -> None:
    database = ThreadLocalDatabase(
        tmp_path / "s.sqlite", schema="CREATE TABLE t (x INTEGER)", pragmas=("foreign_keys=ON",)
    )
    main = database.connection()
    assert main is database.connection()
    assert main.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert main.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    seen: list[object] = []

    def write() -> None:
        connection = database.connection()
        seen.append(connection)
        connection.execute("INSERT INTO t VALUES (1)")

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert seen and seen[0] is not main
    assert main.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    database.close()
    assert database.connection() is not main
