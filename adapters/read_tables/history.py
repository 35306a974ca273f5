"""The read tables' history: the versions the projector records (`Versions`) and the as-of query that
reads them (`history_sql`, the same SQL on PostgreSQL and SQLite). `base` describes the tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from adapters.read_tables.base import ACCOUNTS, BALANCES, HISTORY, POSITIONS, HistoryTable, Row, Table
from kernel.exchange.models import AccountState
from projections import Books, Changes


def _account_version(state: AccountState) -> str:
    return state.model_dump_json(exclude={"balances", "positions"})  # they have versions of their own


class Versions:
    """The history rows of a batch: after each event, `capture(books, changes, position)` with the keys
    that event changed (`Books.take_changes()`); a row equal to its key's last version is not repeated."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, tuple[str, ...]], str | None] = {}
        self.rows: dict[str, list[Row]] = {h.name: [] for h in HISTORY.values()}

    def capture(self, books: Books, changes: Changes, position: int) -> None:
        parts: tuple[tuple[Table, Sequence[Any], Callable[..., Any], Callable[[Any], str]], ...] = (
            (POSITIONS, changes.positions, books.position, BaseModel.model_dump_json),
            (BALANCES, changes.balances, books.balance, BaseModel.model_dump_json),
            (ACCOUNTS, changes.accounts, books.account_figures, _account_version),
        )
        last = self._last
        for table, keys, read, dump in parts:
            name = HISTORY[table.name].name
            for key in keys:
                key = key if isinstance(key, tuple) else (key,)
                model = read(*key)
                data = None if model is None else dump(model)
                seen = last.get((name, key), _NEVER)
                if seen == data or (seen is _NEVER and data is None):
                    continue
                last[(name, key)] = data
                self.rows[name].append((*key, position, data))

    def take(self) -> dict[str, list[Row]]:
        """The rows captured since the last call (the last versions are kept, to compare with)."""
        rows, self.rows = self.rows, {h.name: [] for h in HISTORY.values()}
        return rows


_NEVER: Any = object()


def history_sql(history: HistoryTable, where: dict[str, Any], mark: str, *, prefix: str = "",
                collate: str = "") -> str:  # fmt: skip
    """The as-of query both databases run: for each key of the current table (a key once there stays: the
    books never drop a position, balance or opened account), its last version at or before the position
    (the first parameter, then `where`'s values): one backward probe of the history's primary key per key.
    `mark`: the placeholder; `prefix`: the tables' schema and a dot; `collate`: after each ORDER BY column."""
    keys = ", ".join(f"k.{c}" for c in history.key)
    match = " AND ".join(f"h.{c} = k.{c}" for c in history.key)
    filters = "".join(f" AND k.{column} = {mark}" for column in where)
    latest = (f"(SELECT h.data FROM {prefix}{history.name} h WHERE {match} AND h.position <= {mark} "
              "ORDER BY h.position DESC LIMIT 1)")
    return (f"SELECT * FROM (SELECT {keys}, {latest} AS data FROM {prefix}{history.of.name} k "
            f"WHERE TRUE{filters}) v WHERE v.data IS NOT NULL "
            f"ORDER BY {', '.join(f'v.{c}{collate}' for c in history.key)}")
