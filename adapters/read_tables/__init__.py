"""The books kept in tables (orders, positions, balances, accounts) with exactly-once tracking.

    from adapters.read_tables import open_read_tables
    tables = open_read_tables(ledger)      # beside the ledger's events: PostgreSQL schema, SQLite file, dicts
    tables.create()
    tables.position()                      # last notification id the rows include
    tables.write(books, changes, position, versions.take())   # rows + history + tracking, one transaction
    tables.orders(account_id, symbol=..., open_only=True) -> list[OrderView]
    tables.positions(...) -> list[PositionRow(account_id, symbol, position)]
    tables.balances(account_id) -> list[BalanceRow(account_id, asset_id, balance)]
    tables.accounts(account_id) -> list[AccountState]
    tables.positions_at(p, ...), balances_at(p, ...), accounts_at(p, ...), account_ids_at(p)   # as of p

`adapters.projector.project` keeps them current; `base` documents the rows and the tracking.
"""

from __future__ import annotations

from typing import Any

from adapters.read_tables.base import (
    ACCOUNTS,
    BALANCES,
    FORMAT,
    ORDERS,
    POSITIONS,
    TABLES,
    TRACKING_TABLE,
    BalanceRow,
    PositionRow,
    ReadTables,
    ReadTablesError,
    Table,
    TrackingConflict,
    all_changes,
    rows_of,
)
from adapters.read_tables.memory import MemoryReadTables

__all__ = [
    "ACCOUNTS", "BALANCES", "FORMAT", "ORDERS", "POSITIONS", "TABLES", "TRACKING_TABLE", "BalanceRow",
    "MemoryReadTables", "PositionRow", "ReadTables", "ReadTablesError", "Table", "TrackingConflict", "all_changes",
    "open_read_tables", "rows_of",
]  # fmt: skip


def open_read_tables(ledger: Any) -> ReadTables:
    """The read tables beside `ledger`'s events: the same PostgreSQL database and schema, the same SQLite
    file; for an in-process (memory://) store, new in-process tables. Not created yet: call `create()`."""
    recorder = ledger.recorder
    datastore = getattr(recorder, "datastore", None)
    module = type(recorder).__module__
    if _is_postgres(recorder):
        from adapters.read_tables.postgres import PostgresReadTables

        return PostgresReadTables.for_datastore(datastore)
    if _is_sqlite(recorder):
        from adapters.read_tables.sqlite import SQLiteReadTables

        pool = datastore.pool  # type: ignore[union-attr]
        return SQLiteReadTables(pool.db_name, lock_timeout_s=float(pool.lock_timeout or 30))
    if module.startswith("eventsourcing.popo"):
        return MemoryReadTables()
    raise ReadTablesError(f"no read tables for a store recorded by {type(recorder).__name__}")


def _is_postgres(recorder: Any) -> bool:
    try:
        from eventsourcing.postgres import PostgresApplicationRecorder
    except ImportError:  # psycopg not installed: cannot be a PostgreSQL store
        return False
    return isinstance(recorder, PostgresApplicationRecorder)


def _is_sqlite(recorder: Any) -> bool:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    return isinstance(recorder, SQLiteApplicationRecorder)
