"""PostgreSQL extras of the event store: the schema is created on first open, and the events table
refuses UPDATE, DELETE and TRUNCATE (trigger, and privileges revoked from PUBLIC).

Inserts keep eventsourcing's `LOCK TABLE ... IN EXCLUSIVE MODE`, so notification ids become visible in
id order and a reader tailing by id never skips an event. Large batches are written by binary `COPY`
inside that same locked transaction (the stock path builds a composite-type array in Python, which
costs more than the database's own work); small ones go in one pipelined round trip.

Reading, `select_rows` is the fold's page read: plain `(notification_id, topic, state)` tuples from a
binary cursor (no per-row `Notification` objects), for readers that need neither the stream id nor the
version of every row (`projections.pages`). `select_page` reads the same rows aggregated by the server
into three values (their ids, their topics joined by commas, their payloads as one JSON array), which
costs the client a fraction of building a tuple, an int, a str and a bytes per row.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

IMMUTABLE_MESSAGE = "ledger events are immutable"
COPY_MIN_EVENTS = 64  # below this a pipelined INSERT needs fewer round trips than COPY
# Binary COPY framing (PostgreSQL docs, "Binary Format"): built here in one buffer, which costs a fraction
# of psycopg's per-row `write_row` (a Python loop over every field of every row).
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # signature, flags, no extension
COPY_TRAILER = struct.pack(">h", -1)
_row_head = struct.Struct(">hi16siqi").pack  # 4 fields; uuid (16 bytes), int8 version, topic's length
_length = struct.Struct(">i").pack


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "ledger_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        names = {
            "schema": Identifier(self.datastore.schema),
            "table": Identifier(self.events_table_name),
            "refuse": Identifier(f"{self.events_table_name}_refuse_change"),
            "row_trigger": Identifier(f"{self.events_table_name}_immutable_rows"),
            "truncate_trigger": Identifier(f"{self.events_table_name}_no_truncate"),
        }
        self.sql_create_statements += [
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{refuse}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION '" + IMMUTABLE_MESSAGE + ": % refused on %', TG_OP, TG_TABLE_NAME "
                "USING ERRCODE = 'insufficient_privilege'; END $$"
            ).format(**names),
            SQL(
                "CREATE OR REPLACE TRIGGER {row_trigger} BEFORE UPDATE OR DELETE ON {schema}.{table} "
                "FOR EACH ROW EXECUTE FUNCTION {schema}.{refuse}()"
            ).format(**names),
            SQL(
                "CREATE OR REPLACE TRIGGER {truncate_trigger} BEFORE TRUNCATE ON {schema}.{table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{refuse}()"
            ).format(**names),
            SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM PUBLIC").format(**names),
        ]
        self.small_insert_prelude = [*self.lock_table_statements, SQL("NOTIFY {0}").format(
            Identifier(self.channel_name))]
        self.insert_row_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        ).format(**names)
        self.stream_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = %s ORDER BY originator_version LIMIT %s"
        ).format(**names)
        self.existing_statement = SQL(
            "SELECT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s) AND originator_version = 1"
        ).format(**names)
        self.rows_statement = SQL(
            "SELECT notification_id, topic, state FROM {schema}.{table} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(**names)
        self.rows_until_statement = SQL(
            "SELECT notification_id, topic, state FROM {schema}.{table} WHERE notification_id > %s "
            "AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        ).format(**names)
        page = SQL(
            "SELECT array_agg(notification_id ORDER BY notification_id), "
            "string_agg(topic, ',' ORDER BY notification_id), "
            "'['::bytea || string_agg(state, ','::bytea ORDER BY notification_id) || ']'::bytea "
            "FROM ({rows}) AS page"
        )
        self.page_statement = page.format(rows=self.rows_statement)
        self.page_until_statement = page.format(rows=self.rows_until_statement)
        self.copy_statement = SQL(
            "COPY {schema}.{table} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
        ).format(**names)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Append in one transaction under the table lock. Returns no notification ids: the ledger reads
        positions from the log, and COPY cannot return them."""
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn:
            if len(stored_events) < COPY_MIN_EVENTS:
                rows = [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events]
                # One round trip: BEGIN, lock, NOTIFY, INSERT, COMMIT pipelined, synced once at the end.
                # A duplicate (stream, version) surfaces as the IntegrityError of that sync.
                with conn.pipeline(), conn.transaction(), conn.cursor() as curs:
                    for statement in self.small_insert_prelude:
                        curs.execute(statement, prepare=True)
                    curs.executemany(self.insert_row_statement, rows)
            else:
                with conn.transaction(), conn.cursor() as curs:
                    self._lock_table(curs)
                    self._notify_channel(curs)
                    with curs.copy(self.copy_statement) as copy:
                        copy.write(_copy_binary(stored_events))
        return None

    def select_rows(self, after: int, limit: int, until: int | None = None) -> list[tuple[int, str, bytes]]:
        """Up to `limit` rows of the log with `after < notification_id <= until` (no upper bound when `until`
        is None), in id order, as `(notification_id, topic, state)` tuples: what `select_notifications`
        gives without the originator columns and without building a `Notification` per row."""
        return self._read_rows(self.rows_statement, self.rows_until_statement, after, limit, until)

    def select_page(self, after: int, limit: int, until: int | None = None) -> tuple[list[int], str, bytes]:
        """The rows `select_rows` gives, aggregated by the server: `(ids, topics, states)` with `ids` the
        notification ids in order, `topics` their topics joined by "," and `states` their payloads joined
        by "," between "[" and "]" (the JSON array of the payloads, when each is one JSON value). No rows:
        `([], "", b"[]")`."""
        rows = self._read_rows(self.page_statement, self.page_until_statement, after, limit, until)
        row = rows[0] if rows else None
        if row is None or row[0] is None:
            return [], "", b"[]"
        return row[0], row[1], row[2]

    def _read_rows(self, statement: Any, until_statement: Any, after: int, limit: int, until: int | None) -> list[Any]:
        """Run one of the page reads (its form with an upper bound when `until` is given) on a binary cursor."""
        params = (after, limit) if until is None else (after, until, limit)
        with self.datastore.get_connection() as conn, conn.cursor(binary=True, row_factory=tuple_row) as curs:
            curs.execute(statement if until is None else until_statement, params, prepare=True)
            return curs.fetchall()

    def select_stream(self, originator_id: UUID, limit: int | None = None) -> list[Notification]:
        """One stream's events in version order (the first `limit`), as notifications with their positions in
        the log: by the (originator_id, originator_version) index, not a scan of the log."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self.stream_statement, (originator_id, limit), prepare=True)  # LIMIT NULL: all
            return [Notification(id=i, originator_id=o, originator_version=v, topic=t, state=bytes(s))
                    for i, o, v, t, s in curs.fetchall()]  # fmt: skip

    def existing_originator_ids(self, originator_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these streams hold an event (every stream has a version 1), in one query."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self.existing_statement, (list(originator_ids),))
            return {row["originator_id"] for row in curs.fetchall()}

    def create_table(self) -> None:
        """Create the schema, type, table, index and triggers, once, whatever the number of processes
        opening the store at the same moment: they queue on an advisory lock, and the first one to get
        it does the work. (Unserialised, concurrent CREATE OR REPLACE TRIGGER deadlocks, and concurrent
        CREATE SCHEMA / CREATE TYPE collide on the catalogue's unique keys.)"""
        schema, table = self.datastore.schema, self.events_table_name
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ledger-ddl:{schema}.{table}",))
            curs.execute(
                "SELECT count(*) AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s "
                "AND t.tgname IN (%s, %s)",
                (schema, table, f"{table}_immutable_rows", f"{table}_no_truncate"),
            )
            row = curs.fetchone()
            if not (row and row["n"] == 2):
                curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(schema)))
                for statement in self.sql_create_statements:
                    if "CREATE TYPE" in statement.as_string() and self._type_exists(curs):
                        continue
                    curs.execute(statement, prepare=False)
        self.datastore.register_type_adapters()

    def _type_exists(self, curs: Any) -> bool:
        curs.execute(
            "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = %s AND t.typname = %s",
            (self.datastore.schema, self.stored_event_type_name),
        )
        return curs.fetchone() is not None


def _copy_binary(stored_events: Sequence[StoredEvent]) -> bytes:
    """The events as one binary COPY stream: (originator_id uuid, originator_version int8, topic text,
    state bytea) per row, between the signature and the trailer."""
    parts = [COPY_SIGNATURE]
    append = parts.append
    for s in stored_events:
        topic = s.topic.encode()
        oid = s.originator_id
        append(_row_head(4, 16, (oid if isinstance(oid, UUID) else UUID(oid)).bytes, 8, s.originator_version,
                         len(topic)))  # fmt: skip
        append(topic)
        append(_length(len(s.state)))
        append(s.state)
    append(COPY_TRAILER)
    return b"".join(parts)
