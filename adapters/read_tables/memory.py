"""Read tables in dicts, for tests and `memory://` stores: the same rows the databases hold, in process."""

from __future__ import annotations

import threading
from bisect import bisect_right
from typing import Any

from adapters.read_tables.base import (
    FORMAT,
    HISTORY,
    HISTORY_KEY_WIDTH,
    NOT_CREATED,
    TABLES,
    HistoryTable,
    ReadTables,
    ReadTablesError,
    Row,
    Rows,
    Table,
    TrackingConflict,
)

Versions = dict[tuple[str, ...], tuple[list[int], list[Any]]]  # key -> (positions, column values), in order


class MemoryReadTables(ReadTables):
    """One dict per table (key -> row). A batch is applied under a lock, whole: readers in other threads
    see a batch entirely or not at all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tables: dict[str, dict[tuple[str, ...], Row]] = {}
        self.history: dict[str, Versions] = {h.name: {} for h in HISTORY.values()}
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
            history = {name: dict(versions) for name, versions in self.history.items()}
            for name, rows_in in rows.history.items():
                width = HISTORY_KEY_WIDTH[name]
                fresh: set[tuple[str, ...]] = set()  # keys whose lists are this batch's copies
                for row in rows_in:
                    key = tuple(row[:width])
                    if key not in fresh:
                        positions, values = history[name].get(key, ((), ()))
                        history[name][key] = (list(positions), list(values))
                        fresh.add(key)
                    history[name][key][0].append(row[width])
                    history[name][key][1].append(row[width + 1 :])
            self.tables, self.history, self.tracking = new, history, position

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

    def _select_at(self, history: HistoryTable, position: int, where: dict[str, Any],
                   columns: tuple[str, ...]) -> list[tuple[Any, ...]]:  # fmt: skip
        with self._lock:
            at = {column: history.key.index(column) for column in where}
            names = [name for name, _ in history.columns]
            found = []
            versions = self.history[history.name]
            for key in sorted(self.tables[history.of.name]):  # the current table's keys, as the SQL reads them
                if not all(key[at[c]] == v for c, v in where.items()):
                    continue
                positions, values = versions.get(key, ((), ()))
                i = bisect_right(positions, position)
                got = []
                for column in columns:
                    j, index = i, names.index(column)
                    while column == history.sparse and j and values[j - 1][index] is None:
                        j -= 1  # a sparse column: the last version that has it
                    got.append(values[j - 1][index] if j else None)
                found.append((*key, *got))
            return found

    def _clear(self) -> None:
        with self._lock:
            self.tables = {table.name: {} for table in TABLES}
            self.history = {h.name: {} for h in HISTORY.values()}
            self.tracking = 0
