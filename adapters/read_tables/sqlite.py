"""Read tables in the store's SQLite file, beside the events (a connection of their own).

Decimals are TEXT (exact); `data` is the model's JSON text; booleans are 0/1. A batch is one
`BEGIN IMMEDIATE` transaction: the write lock is taken before the tracking row is checked, so two
projectors on one file serialise and the second finds the position moved (`TrackingConflict`).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from adapters.read_tables.base import (
    FORMAT,
    HISTORY,
    INDEXES,
    NOT_CREATED,
    PROJECTION,
    TABLES,
    TRACKING_TABLE,
    HistoryTable,
    ReadTables,
    ReadTablesError,
    Rows,
    Table,
    TrackingConflict,
    as_text,
)
from adapters.read_tables.history import history_sql

TYPES = {"text": "TEXT", "numeric": "TEXT", "bool": "INTEGER", "bigint": "INTEGER", "json": "TEXT"}
LOCK_TIMEOUT_S = 30.0


def _column(table: Table, name: str) -> str:
    required = name in table.key or name in ("data", "updated_at")
    return f"{name} {TYPES[table.kind(name)]}{' NOT NULL' if required else ''}"


def create_statements() -> list[str]:
    statements = []
    for table in TABLES:
        columns = ", ".join(_column(table, name) for name in table.all_columns)
        statements.append(f"CREATE TABLE IF NOT EXISTS {table.name} ({columns}, PRIMARY KEY ({', '.join(table.key)}))")
    for h in HISTORY.values():  # the key then the position: each key's versions in order, for `_select_at`
        columns = ", ".join(f"{c} {TYPES[h.kind(c)]}{' NOT NULL' if c != h.sparse else ''}" for c in h.all_columns)
        keyed = f"{', '.join(h.key)}, position"
        statements.append(f"CREATE TABLE IF NOT EXISTS {h.name} ({columns}, PRIMARY KEY ({keyed})) WITHOUT ROWID")
        if h.sparse:  # the last version that has the column, without stepping over those that do not
            statements.append(f"CREATE INDEX IF NOT EXISTS {h.name}_{h.sparse} ON {h.name} ({keyed}) "
                              f"WHERE {h.sparse} IS NOT NULL")  # fmt: skip
    for table, suffix, columns in INDEXES:
        statements.append(f"CREATE INDEX IF NOT EXISTS {table.name}_{suffix} ON {table.name} ({', '.join(columns)})")
    statements.append(f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (projection TEXT PRIMARY KEY, position "
                      "INTEGER NOT NULL, format INTEGER NOT NULL, updated_at_ns INTEGER NOT NULL)")  # fmt: skip
    return statements


class SQLiteReadTables(ReadTables):
    def __init__(self, path: str, *, lock_timeout_s: float = LOCK_TIMEOUT_S):
        if not path or ":memory:" in path or "mode=memory" in path:
            raise ReadTablesError(f"read tables need an SQLite file, not {path!r}")
        self.path = path
        self.conn = sqlite3.connect(path, uri=True, timeout=lock_timeout_s, isolation_level=None,
                                    check_same_thread=False)  # fmt: skip
        self.conn.execute("PRAGMA journal_mode=WAL")  # as the event store sets it: readers never wait
        self._upsert = {t.name: f"INSERT OR REPLACE INTO {t.name} ({', '.join(t.all_columns)}) VALUES "
                                f"({', '.join('?' * len(t.all_columns))})" for t in TABLES}  # fmt: skip
        self._delete = {t.name: f"DELETE FROM {t.name} WHERE " + " AND ".join(f"{k} = ?" for k in t.key)
                        for t in TABLES}  # fmt: skip
        self._insert_version = {h.name: f"INSERT INTO {h.name} VALUES ({', '.join('?' * len(h.all_columns))})"
                                for h in HISTORY.values()}  # fmt: skip

    def close(self) -> None:
        self.conn.close()

    def create(self) -> None:
        with self._transaction() as cur:
            for statement in create_statements():
                cur.execute(statement)
            cur.execute(f"INSERT OR IGNORE INTO {TRACKING_TABLE} VALUES (?, 0, ?, ?)",
                        (PROJECTION, FORMAT, time.time_ns()))  # fmt: skip

    def _read_tracking(self) -> tuple[int, int]:
        try:
            row = self.conn.execute(f"SELECT position, format FROM {TRACKING_TABLE} WHERE projection = ?",
                                    (PROJECTION,)).fetchone()  # fmt: skip
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
            row = None
        if row is None:
            raise ReadTablesError(NOT_CREATED)
        return int(row[0]), int(row[1])

    def _commit(self, rows: Rows, expected: int, position: int) -> None:
        with self._transaction() as cur:
            (stored,) = cur.execute(f"SELECT position FROM {TRACKING_TABLE} WHERE projection = ?",
                                    (PROJECTION,)).fetchone()  # fmt: skip
            if stored != expected:
                raise TrackingConflict(f"the tracking position is {stored}, this writer expected {expected}")
            self._write_rows(cur, rows)
            cur.execute(f"UPDATE {TRACKING_TABLE} SET position = ?, updated_at_ns = ? WHERE projection = ?",
                        (position, time.time_ns(), PROJECTION))  # fmt: skip

    def _write_rows(self, cur: sqlite3.Cursor, rows: Rows) -> None:
        for table in TABLES:
            if rows.deletes[table.name]:
                cur.executemany(self._delete[table.name], rows.deletes[table.name])
            if rows.upserts[table.name]:
                cur.executemany(self._upsert[table.name],
                                [tuple(map(as_text, row)) for row in rows.upserts[table.name]])  # fmt: skip
        for name, versions in rows.history.items():
            if versions:
                cur.executemany(self._insert_version[name], versions)

    def _select(self, table: Table, where: dict[str, Any]) -> list[tuple[Any, ...]]:
        sql = f"SELECT {', '.join(table.key)}, data FROM {table.name}"
        if where:
            sql += " WHERE " + " AND ".join(f"{column} = ?" for column in where)
        sql += f" ORDER BY {', '.join(table.key)}"
        return self._query(sql, tuple(where.values()))

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return [tuple(row) for row in self.conn.execute(sql, parameters)]
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
            raise ReadTablesError(NOT_CREATED) from None

    def _select_at(self, history: HistoryTable, position: int, where: dict[str, Any],
                   columns: tuple[str, ...]) -> list[tuple[Any, ...]]:  # fmt: skip
        return self._query(history_sql(history, where, columns, "?"), (*[position] * len(columns), *where.values()))

    def _clear(self) -> None:
        with self._transaction() as cur:
            for table in (*TABLES, *HISTORY.values()):
                cur.execute(f"DELETE FROM {table.name}")
            cur.execute(f"UPDATE {TRACKING_TABLE} SET position = 0, format = ?, updated_at_ns = ? "
                        "WHERE projection = ?", (FORMAT, time.time_ns(), PROJECTION))  # fmt: skip

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Cursor:
        self.cur = self.conn.cursor()
        self.cur.execute("BEGIN IMMEDIATE")
        return self.cur

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            if exc_type is None:
                self.cur.execute("COMMIT")
        finally:
            if self.conn.in_transaction:  # an exception in the block, or a COMMIT that failed
                self.conn.execute("ROLLBACK")
            self.cur.close()
