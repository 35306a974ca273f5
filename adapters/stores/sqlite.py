"""SQLite extras of the event store: the events table refuses UPDATE and DELETE (triggers)."""

from __future__ import annotations

from eventsourcing.sqlite import SQLiteApplicationRecorder

IMMUTABLE_MESSAGE = "ledger events are immutable"


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
