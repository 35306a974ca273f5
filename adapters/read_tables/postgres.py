"""Read tables in the store's PostgreSQL schema, beside `ledger_events` (a psycopg connection of their own).

Decimals are `numeric` (exact), `data` is `jsonb`. A batch is one transaction that first locks the
tracking row (`SELECT ... FOR UPDATE`): two projectors on one schema serialise there, and the second finds
the position moved (`TrackingConflict`) instead of writing older rows over newer ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.sql import SQL, Composed, Identifier, Placeholder
from psycopg.types.json import Jsonb

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
    Row,
    Rows,
    Table,
    TrackingConflict,
)
from adapters.read_tables.history import history_sql

TYPES = {"text": "text", "numeric": "numeric", "bool": "boolean", "bigint": "bigint", "json": "jsonb"}
COPY_TYPES = {"text": "text", "numeric": "numeric", "bool": "bool", "bigint": "int8", "json": "jsonb"}
CONNECT_TIMEOUT_S = 10
COPY_MIN_ROWS = 100  # from this many upserts into one table, COPY into a staging table and upsert from it


def connection_kwargs(datastore: Any) -> dict[str, Any]:
    """psycopg.connect() arguments for the database an eventsourcing `PostgresDatastore` uses."""
    kwargs = {k: v for k, v in datastore.pool.kwargs.items() if k != "row_factory"}
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    return kwargs


class PostgresReadTables(ReadTables):
    def __init__(self, connect: dict[str, Any], schema: str = "public"):
        """`connect`: psycopg.connect() keyword arguments (see `connection_kwargs`)."""
        self.connect_kwargs = {**connect, "autocommit": True}
        self.schema = schema or "public"
        self._conn: psycopg.Connection[Any] | None = None
        s = Identifier(self.schema)
        self._tracking = SQL("{}.{}").format(s, Identifier(TRACKING_TABLE))
        self._upsert: dict[str, Any] = {}  # Composed while built, then rendered (str)
        self._delete: dict[str, Any] = {}
        self._stage_create: dict[str, Any] = {}
        self._stage_copy: dict[str, Any] = {}
        self._stage_upsert: dict[str, Any] = {}
        self._copy_types: dict[str, list[str]] = {}
        for t in TABLES:
            name = SQL("{}.{}").format(s, Identifier(t.name))
            values = SQL(", ").join(SQL("%s::jsonb") if t.kind(c) == "json" else Placeholder() for c in t.all_columns)
            updates = SQL(", ").join(SQL("{0} = EXCLUDED.{0}").format(Identifier(c)) for c, _ in t.columns)
            self._upsert[t.name] = SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}").format(
                name, _names(t.all_columns), values, _names(t.key), updates)  # fmt: skip
            self._delete[t.name] = SQL("DELETE FROM {} WHERE ({}) = ({})").format(
                name, _names(t.key), SQL(", ").join([Placeholder()] * len(t.key)))  # fmt: skip
            # Staging: a session-local copy of the table's columns, emptied at each commit.
            stage = Identifier(f"{t.name}_stage")
            self._stage_create[t.name] = SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS").format(
                stage, name)  # fmt: skip
            self._stage_copy[t.name] = SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                stage, _names(t.all_columns))  # fmt: skip
            self._copy_types[t.name] = [COPY_TYPES[t.kind(c)] for c in t.all_columns]
            self._stage_upsert[t.name] = SQL(
                "INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO UPDATE SET {}").format(
                name, _names(t.all_columns), _names(t.all_columns), stage, _names(t.key), updates)  # fmt: skip

        self._version_copy = {h.name: SQL("COPY {}.{} ({}) FROM STDIN (FORMAT BINARY)").format(
            s, Identifier(h.name), _names(h.all_columns)) for h in HISTORY.values()}  # fmt: skip
        self._version_types = {h.name: [COPY_TYPES[h.kind(c)] for c in h.all_columns] for h in HISTORY.values()}
        self._json_at = {t.name: [i for i, c in enumerate(t.all_columns) if t.kind(c) == "json"]
                         for t in (*TABLES, *HISTORY.values())}  # fmt: skip
        self._lock_tracking = SQL("SELECT position FROM {} WHERE projection = %s FOR UPDATE").format(self._tracking)
        self._move_tracking = SQL("UPDATE {} SET position = %s, updated_at = now() WHERE projection = %s").format(
            self._tracking)  # fmt: skip
        self._version_insert = {h.name: SQL("INSERT INTO {}.{} ({}) VALUES ({})").format(
            s, Identifier(h.name), _names(h.all_columns),
            SQL(", ").join(SQL("%s::jsonb") if h.kind(c) == "json" else Placeholder() for c in h.all_columns))
            for h in HISTORY.values()}  # fmt: skip
        # Rendered once: composing a statement on every execution was a seventh of a small batch's time.
        for attribute in ("_upsert", "_delete", "_stage_create", "_stage_copy", "_stage_upsert", "_version_copy",
                          "_version_insert"):  # fmt: skip
            setattr(self, attribute, {name: q.as_string() for name, q in getattr(self, attribute).items()})
        self._lock_tracking, self._move_tracking = self._lock_tracking.as_string(), self._move_tracking.as_string()

    @classmethod
    def for_datastore(cls, datastore: Any) -> PostgresReadTables:
        """Tables in the same database and schema as an eventsourcing `PostgresDatastore`."""
        return cls(connection_kwargs(datastore), datastore.schema)

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The connection, opened (again) on first use and after it broke."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = psycopg.connect(**self.connect_kwargs)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def create(self) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            # Several processes may create at once: concurrent CREATE ... IF NOT EXISTS collide on the
            # catalogue's unique keys, so they queue on an advisory lock.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ledger-read-ddl:{self.schema}",))
            for statement in self.create_statements():
                cur.execute(statement)
            cur.execute(SQL("INSERT INTO {} VALUES (%s, 0, %s, now()) ON CONFLICT DO NOTHING").format(
                self._tracking), (PROJECTION, FORMAT))  # fmt: skip

    def create_statements(self) -> list[Composed]:
        s = Identifier(self.schema)
        statements = [SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s)]
        for t in TABLES:
            columns = SQL(", ").join(
                SQL("{} {}{}").format(Identifier(c), SQL(TYPES[t.kind(c)]),
                                      SQL(" NOT NULL" if c in t.key or c in ("data", "updated_at") else ""))
                for c in t.all_columns)  # fmt: skip
            statements.append(SQL("CREATE TABLE IF NOT EXISTS {}.{} ({}, PRIMARY KEY ({}))").format(
                s, Identifier(t.name), columns, _names(t.key)))  # fmt: skip
        for h in HISTORY.values():  # the key then the position: each key's versions in order, for `_select_at`
            columns = SQL(", ").join(SQL("{} {}{}").format(Identifier(c), SQL(TYPES[h.kind(c)]),
                                                             SQL(" NOT NULL" if c != h.sparse else ""))
                                     for c in h.all_columns)  # fmt: skip
            keyed = _names((*h.key, "position"))
            statements.append(SQL("CREATE TABLE IF NOT EXISTS {}.{} ({}, PRIMARY KEY ({}))").format(
                s, Identifier(h.name), columns, keyed))  # fmt: skip
            if h.sparse:  # the last version that has the column, without stepping over those that do not
                statements.append(SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} ({}) WHERE {} IS NOT NULL").format(
                    Identifier(f"{h.name}_{h.sparse}"), s, Identifier(h.name), keyed, Identifier(h.sparse)))  # fmt: skip
        for t, suffix, columns in INDEXES:
            statements.append(SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} ({})").format(
                Identifier(f"{t.name}_{suffix}"), s, Identifier(t.name), _names(columns)))  # fmt: skip
        statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {} (projection text PRIMARY KEY, position bigint NOT NULL, "
            "format integer NOT NULL, updated_at timestamptz NOT NULL)").format(self._tracking))  # fmt: skip
        return statements

    def _read_tracking(self) -> tuple[int, int]:
        try:
            row = self.conn.execute(SQL("SELECT position, format FROM {} WHERE projection = %s").format(
                self._tracking), (PROJECTION,)).fetchone()  # fmt: skip
        except psycopg.errors.UndefinedTable:
            row = None
        if row is None:
            raise ReadTablesError(NOT_CREATED)
        return int(row[0]), int(row[1])

    def _commit(self, rows: Rows, expected: int, position: int) -> None:
        conn = self.conn
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(self._lock_tracking, (PROJECTION,))
            row = cur.fetchone()
            stored = row[0] if row else None
            if stored != expected:
                raise TrackingConflict(f"the tracking position is {stored}, this writer expected {expected}")
            self._write_rows(cur, rows)
            cur.execute(self._move_tracking, (position, PROJECTION))

    def _write_rows(self, cur: psycopg.Cursor[Any], rows: Rows) -> None:
        for t in TABLES:
            if rows.deletes[t.name]:
                cur.executemany(self._delete[t.name], rows.deletes[t.name])
            upserts = rows.upserts[t.name]
            if len(upserts) >= COPY_MIN_ROWS:
                cur.execute(self._stage_create[t.name])
                with cur.copy(self._stage_copy[t.name]) as copy:
                    copy.set_types(self._copy_types[t.name])
                    for row in _json_as_is(upserts, self._json_at[t.name]):
                        copy.write_row(row)
                cur.execute(self._stage_upsert[t.name])
            elif upserts:
                cur.executemany(self._upsert[t.name], upserts)
        for name, versions in rows.history.items():  # plain inserts: a version is written once, in its batch
            if 0 < len(versions) < COPY_MIN_ROWS:
                cur.executemany(self._version_insert[name], versions)
            elif versions:
                with cur.copy(self._version_copy[name]) as copy:
                    copy.set_types(self._version_types[name])
                    for row in _json_as_is(versions, self._json_at[name]):
                        copy.write_row(row)

    def _select(self, table: Table, where: dict[str, Any]) -> list[tuple[Any, ...]]:
        query = SQL("SELECT {}, data FROM {}.{}").format(_names(table.key), Identifier(self.schema),
                                                          Identifier(table.name))  # fmt: skip
        if where:
            query += SQL(" WHERE ") + SQL(" AND ").join(SQL("{} = %s").format(Identifier(c)) for c in where)
        query += SQL(" ORDER BY {}").format(SQL(", ").join(SQL("{} COLLATE \"C\"").format(Identifier(k))
                                                            for k in table.key))  # fmt: skip
        try:
            return [tuple(row) for row in self.conn.execute(query, tuple(where.values()))]
        except psycopg.errors.UndefinedTable:
            raise ReadTablesError(NOT_CREATED) from None

    def _select_at(self, history: HistoryTable, position: int, where: dict[str, Any],
                   columns: tuple[str, ...]) -> list[tuple[Any, ...]]:  # fmt: skip
        prefix = Identifier(self.schema).as_string(self.conn) + "."
        query = history_sql(history, where, columns, "%s", prefix=prefix, collate=' COLLATE "C"')
        try:
            return [tuple(row) for row in self.conn.execute(query.encode(),
                                                            (*[position] * len(columns), *where.values()))]  # fmt: skip
        except psycopg.errors.UndefinedTable:
            raise ReadTablesError(NOT_CREATED) from None

    def _clear(self) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            for t in (*TABLES, *HISTORY.values()):
                cur.execute(SQL("DELETE FROM {}.{}").format(Identifier(self.schema), Identifier(t.name)))
            cur.execute(SQL("UPDATE {} SET position = 0, format = %s, updated_at = now() WHERE projection = %s")
                        .format(self._tracking), (FORMAT, PROJECTION))  # fmt: skip


def _json_as_is(rows: list[Row], at: list[int]) -> Iterator[Row]:
    """Rows whose JSON text goes into a binary COPY as the document it is: a bare `str` for a jsonb column
    would be dumped as a JSON string holding the text."""
    for row in rows:
        if at:
            row = list(row)
            for i in at:
                if row[i] is not None:
                    row[i] = Jsonb(row[i], dumps=_as_is)
        yield row


def _as_is(text: str) -> str:
    return text


def _names(columns: tuple[str, ...]) -> Composed:
    return SQL(", ").join(map(Identifier, columns))
