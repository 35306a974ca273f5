"""PostgreSQL extras of the event store: the schema is created on first open, and the events table
refuses UPDATE, DELETE and TRUNCATE (trigger, and privileges revoked from PUBLIC).

Inserts keep eventsourcing's `LOCK TABLE ... IN EXCLUSIVE MODE`, so notification ids become visible in
id order and a reader tailing by id never skips an event.
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

IMMUTABLE_MESSAGE = "ledger events are immutable"


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

    def create_table(self) -> None:
        # eventsourcing creates its composite type before anything else, so the schema must exist first.
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(self.datastore.schema)))
        super().create_table()
