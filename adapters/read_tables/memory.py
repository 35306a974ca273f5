"""Read tables in dicts, for tests and `memory://` stores: the same rows the databases hold, in process."""

from __future__ import annotations

import threading
from typing import Any

from adapters.read_tables.base import (
    FORMAT,
    NOT_CREATED,
    TABLES,
    ReadTables,
    ReadTablesError,
    Row,
    Rows,
    Table,
    TrackingConflict,
)


class MemoryReadTables(ReadTables):
    """One dict per table (key -> row). A batch is applied under a lock, whole: readers in other threads
    see a batch entirely or not at all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tables: dict[str, dict[tuple[str, ...], Row]] = {}
        self.tracking: int | None = None

    def create(self) -> None:
        with self._lock:
            for table in TABLES:
                self.tables.setdefault(table.name, {})
            if self.tracking is None:
                self.tracking = 0

    def _read_tracking(self) -> tuple[int, int]:
        with self._lock:
            if self.tracking is None:
                raise ReadTablesError(NOT_CREATED)
            return self.tracking, FORMAT

    def _commit(self, rows: Rows, expected: int, position: int) -> None:
        with self._lock:
            if (self.tracking or 0) != expected:
                raise TrackingConflict(f"the tracking position is {self.tracking}, this writer expected {expected}")
            # Build every new table first, then swap them in: nothing half-applied if encoding fails.
            new = {}
            for table in TABLES:
                data = dict(self.tables.get(table.name, {}))
                width = len(table.key)
                for row in rows.upserts[table.name]:
                    data[tuple(row[:width])] = row
                for key in rows.deletes[table.name]:
                    data.pop(tuple(key), None)
                new[table.name] = data
            self.tables, self.tracking = new, position

    def _select(self, table: Table, where: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            if self.tracking is None:
                raise ReadTablesError(NOT_CREATED)
            rows = self.tables[table.name]
            columns = table.all_columns
            at = {column: columns.index(column) for column in where}
            width = len(table.key)
            return [(*row[:width], row[-1]) for _, row in sorted(rows.items())
                    if all(row[at[c]] == v for c, v in where.items())]  # fmt: skip

    def _clear(self) -> None:
        with self._lock:
            self.tables = {table.name: {} for table in TABLES}
            self.tracking = 0
