"""SQLite extras of the event store: the events table refuses UPDATE and DELETE (triggers)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder

IMMUTABLE_MESSAGE = "ledger events are immutable"
LOOKUP_CHUNK = 500  # ids per IN (...) list, under SQLite's bound-parameter limit


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        table = self.events_table_name
        return [
            *super().construct_create_table_statements(),
            *(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}: {op} refused'); END"
                for op in ("UPDATE", "DELETE")
            ),
        ]

    def select_stream(self, originator_id: UUID, limit: int | None = None) -> list[Notification]:
        """One stream's events in version order (the first `limit`), as notifications with their positions in
        the log: by the (originator_id, originator_version) key, not a scan of the log."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT rowid, originator_version, topic, state FROM {self.events_table_name} "
                      "WHERE originator_id = ? ORDER BY originator_version LIMIT ?",
                      (originator_id.hex, -1 if limit is None else limit))  # fmt: skip
            return [Notification(id=row[0], originator_id=originator_id, originator_version=row[1], topic=row[2],
                                 state=row[3]) for row in c.fetchall()]  # fmt: skip

    def existing_originator_ids(self, originator_ids: Iterable[UUID]) -> set[UUID]:
        """Which of these streams hold an event (every stream has a version 1), in few queries."""
        ids = [i.hex for i in originator_ids]  # how eventsourcing stores a UUID in SQLite
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                c.execute(f"SELECT originator_id FROM {self.events_table_name} WHERE originator_version = 1 "
                          f"AND originator_id IN ({', '.join('?' * len(chunk))})", chunk)  # fmt: skip
                found.update(UUID(row[0]) for row in c.fetchall())
        return found
