"""The read tables' history: the versions the projector records (`Versions`) and the as-of query that
reads them (`history_sql`, the same SQL on PostgreSQL and SQLite). `base` describes the tables."""

from __future__ import annotations

from typing import Any

from adapters.read_tables.base import HISTORY, HistoryTable, Row
from projections import Books, Changes

_ACCOUNT_FIGURES_ONLY = {"balances", "positions", "updated_at"}  # the rest of an account's state


class Versions:
    """The history rows of a batch: after each event, `capture(books, changes, position)` with the keys
    that event changed (`Books.take_changes()`); a row equal to its key's last version is not repeated,
    and an account's figures are written only when they changed (`HistoryTable.sparse`). A key the books
    do not hold (an account not opened yet) has no version: the books never drop one they held."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, ...], Any] = {}  # per table and key: the last version's values
        self.rows: dict[str, list[Row]] = {h.name: [] for h in HISTORY.values()}

    def capture(self, books: Books, changes: Changes, position: int) -> None:
        last, (positions, balances, accounts) = self._last, self.rows.values()
        for key in changes.positions:
            model = books.position(*key)
            if model is not None and last.get(("p", *key)) != (data := model.model_dump_json()):
                last["p", *key] = data
                positions.append((*key, position, data))
        for key in changes.balances:
            book = books.balance_books.get(key)
            if book is None:
                continue
            values = (str(book.total), str(books.locked_in(*key)), book.updated_at)
            if last.get(("b", *key)) != values:
                last["b", *key] = values
                balances.append((*key, position, *values))
        recompute = set(changes.account_figures)
        for account_id in changes.accounts:
            seen_at, seen = last.get(("a", account_id), (None, None))
            if seen is not None and account_id not in recompute:  # only its `updated_at` moved (`Changes`)
                updated_at, figures = books.accounts[account_id].updated_at, seen
            else:
                state = books.account_figures(account_id)
                if state is None:
                    continue
                updated_at, figures = state.updated_at, state.model_dump_json(exclude=_ACCOUNT_FIGURES_ONLY)
            if (updated_at, figures) != (seen_at, seen):
                last["a", account_id] = (updated_at, figures)
                accounts.append((account_id, position, updated_at, figures if figures != seen else None))

    def take(self) -> dict[str, list[Row]]:
        """The rows captured since the last call (the last versions are kept, to compare with)."""
        rows, self.rows = self.rows, {h.name: [] for h in HISTORY.values()}
        return rows


def history_sql(history: HistoryTable, where: dict[str, Any], columns: tuple[str, ...], mark: str, *,
                prefix: str = "", collate: str = "") -> str:  # fmt: skip
    """The as-of query both databases run. For each key of the current table (a key once there stays: the
    books never drop a position, balance or opened account), each of `columns` from its last version at
    or before the position (a sparse column: the last version that has it), NULL for a key with no version
    yet: one backward probe of the history's primary key per key and column. Parameters: the position once
    per column, then `where`'s values. `mark`: the placeholder; `prefix`: the tables' schema and a dot; `collate`: for ORDER BY."""
    match = " AND ".join(f"h.{c} = k.{c}" for c in history.key)
    probes = []
    for column in columns:
        only = f" AND h.{column} IS NOT NULL" if column == history.sparse else ""
        probes.append(f"(SELECT h.{column} FROM {prefix}{history.name} h WHERE {match} AND h.position <= {mark}"
                      f"{only} ORDER BY h.position DESC LIMIT 1) AS {column}")  # fmt: skip
    filters = "".join(f" AND k.{column} = {mark}" for column in where)
    return (
        f"SELECT {', '.join(f'k.{c}' for c in history.key)}, {', '.join(probes)} "
        f"FROM {prefix}{history.of.name} k WHERE TRUE{filters} "
        f"ORDER BY {', '.join(f'k.{c}{collate}' for c in history.key)}"
    )
