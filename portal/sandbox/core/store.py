"""The sandboxes' own SQLite database: one file, shared by every thread (and process) of the sandbox server.

Each emulator declares its tables with ``Store.register_schema``; rows usually hold the resource as JSON next to
the few columns that are filtered or sorted on, so a page of a list is served without re-serialising much.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._schemas: list[str] = [CORE_SCHEMA]
        self._write_lock = threading.RLock()
        # Bumped after every committed write transaction of this process (the sandbox serves from one process):
        # a side may cache what it read and trust it while the generation stays the same.
        self.generation = 0
        self._apply_schema(CORE_SCHEMA)

    def register_schema(self, ddl: str) -> None:
        self._schemas.append(ddl)
        self._apply_schema(ddl)

    def _apply_schema(self, ddl: str) -> None:
        # executescript manages its own transaction (it commits first), so it runs outside ``transaction``.
        with self._write_lock:
            self.connection.executescript(ddl)

    @property
    def connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA cache_size=-65536")
            self._local.connection = connection
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction at a time in this process; SQLite's own lock guards other processes."""
        with self._write_lock:
            connection = self.connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            self.generation += 1

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.connection.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.connection.execute(sql, params).fetchone()
        return row

    # --- a small key/value area for settings that must survive restarts (clock, faults, webhooks) ---------

    def get_json(self, key: str, default: Any = None) -> Any:
        row = self.query_one("SELECT value FROM sandbox_kv WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def put_json(self, key: str, value: Any) -> None:
        with self.transaction() as connection:
            connection.execute(
                "INSERT INTO sandbox_kv (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def delete_keys(self, prefix: str) -> None:
        with self.transaction() as connection:
            connection.execute("DELETE FROM sandbox_kv WHERE key LIKE ?", (prefix + "%",))
