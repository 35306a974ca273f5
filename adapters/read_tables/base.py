"""The read tables' interface, and the one description of their rows that every backend shares.

Four tables of rows, one per key, each row the key columns, a few typed columns to query by, and `data`:
the seed model as JSON (`model_dump_json()`: decimals as strings, enums as values), which reads back to a
model equal to the one the books gave. One more table tracks how far the rows are:

    ledger_read_orders     (account_id, intent_id)  OrderView     status, symbol, quantities, is_open
    ledger_read_positions  (account_id, symbol)     Position      side, quantity, entry price, PnL, is_open
    ledger_read_balances   (account_id, asset_id)   Balance       total, available, locked
    ledger_read_accounts   (account_id)             AccountState  exchange, equity, margin, PnL
    ledger_read_tracking   (projection)             position: the last notification id the rows include

History: every version of a position, balance and account row, keyed by the notification id that made it
(`<table>_history`: the key columns, `position`, then the version's columns, see `HISTORY`). The projector
records a version after each event that changed the row (an unchanged row is not repeated), in the same
transaction as the rows and the tracking. So `positions_at(p)` / `balances_at(p)` / `accounts_at(p)` are
the books as of any p up to the tracking position, read by index instead of folded: the as-of queries a
risk tool makes. The versions are kept narrow, since there is about one per event: a position's is its
JSON; a balance's its total, locked amount (decimal text, exact) and `updated_at`; an account's its
`updated_at` and, only when they changed, its figures' JSON without balances and positions (those have
versions of their own; reading puts them back). Orders have no history: the books as of p need every open
order, which a fold from a snapshot gives (`projections.replay.state_at`).

Exactly once: `write` puts a batch's changed rows and the new tracking position in ONE transaction, after
checking that the stored position is still the one this object last read or wrote (else
`TrackingConflict`, and nothing is written: another projector moved the tables). So the rows always equal
the books folded up to the tracked position, whatever crashed when.

Column kinds map to each backend's types: `numeric` is PostgreSQL `numeric` (exact) and SQLite TEXT (the
decimal's text, exact; compare as numbers with CAST only where approximation is acceptable); `json` is
`jsonb` / TEXT; `bool` is `boolean` / INTEGER 0-1; `bigint` holds ns timestamps.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, Self

from pydantic import BaseModel

from kernel.errors import LedgerError
from kernel.exchange.models import AccountState, Balance, Position
from kernel.lifecycle import TERMINAL
from projections import BalanceBook, Books, Changes, OrderView
from projections.numbers import exact

PROJECTION = "books"  # the tracking row's name: one projection keeps all four tables
FORMAT = 2  # the rows' format; a change to the columns or to what `data` holds bumps it. 2: history
NOT_CREATED = "the read tables are not built yet: run `ledger project`"


class ReadTablesError(LedgerError):
    """The read tables cannot be used as they are (another format, ahead of the log, ...)."""


class TrackingConflict(ReadTablesError):
    """The tracking position moved under this writer: another projector is writing the same tables."""


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, kind) after the key columns, `data` last
    model: type[BaseModel]

    @property
    def all_columns(self) -> tuple[str, ...]:
        return (*self.key, *(name for name, _ in self.columns))

    def kind(self, column: str) -> str:
        return "text" if column in self.key else dict(self.columns)[column]


N, T, B, I, J = "numeric", "text", "bool", "bigint", "json"  # column kinds
ORDERS = Table("ledger_read_orders", ("account_id", "intent_id"), (
    ("symbol", T), ("side", T), ("order_type", T), ("status", T), ("reconciliation_status", T),
    ("exchange_order_id", T), ("client_order_id", T), ("is_open", B), ("quantity", N), ("price", N),
    ("filled_quantity", N), ("remaining_quantity", N), ("average_fill_price", N), ("updated_at", I), ("data", J),
), OrderView)  # fmt: skip
POSITIONS = Table("ledger_read_positions", ("account_id", "symbol"), (
    ("side", T), ("is_open", B), ("quantity", N), ("entry_price", N), ("mark_price", N), ("unrealized_pnl", N),
    ("realized_pnl", N), ("margin_used", N), ("updated_at", I), ("data", J),
), Position)  # fmt: skip
BALANCES = Table("ledger_read_balances", ("account_id", "asset_id"), (
    ("total", N), ("available", N), ("locked", N), ("updated_at", I), ("data", J),
), Balance)  # fmt: skip
ACCOUNTS = Table("ledger_read_accounts", ("account_id",), (
    ("exchange", T), ("total_equity", N), ("total_margin_used", N), ("total_available_margin", N),
    ("total_realized_pnl", N), ("total_unrealized_pnl", N), ("updated_at", I), ("data", J),
), AccountState)  # fmt: skip
TABLES = (ORDERS, POSITIONS, BALANCES, ACCOUNTS)


@dataclass(frozen=True)
class HistoryTable:
    """The versions of `of`'s rows: (key..., position, columns...). A `sparse` column is NULL in a version
    where it did not change: its value as of p is that of the last version at or before p that has one."""

    of: Table
    columns: tuple[tuple[str, str], ...]
    sparse: str | None = None

    @property
    def name(self) -> str:
        return f"{self.of.name}_history"

    @property
    def key(self) -> tuple[str, ...]:
        return self.of.key

    @property
    def all_columns(self) -> tuple[str, ...]:
        return (*self.of.key, "position", *(name for name, _ in self.columns))

    def kind(self, column: str) -> str:
        return "text" if column in self.key else "bigint" if column == "position" else dict(self.columns)[column]


HISTORY = {h.of.name: h for h in (
    HistoryTable(POSITIONS, (("data", J),)),
    HistoryTable(BALANCES, (("total", T), ("locked", T), ("updated_at", I))),  # decimals as their exact text
    HistoryTable(ACCOUNTS, (("updated_at", I), ("data", J)), sparse="data"),
)}  # fmt: skip
HISTORY_KEY_WIDTH = {h.name: len(h.key) for h in HISTORY.values()}  # a version row's position is at this index
TRACKING_TABLE = "ledger_read_tracking"
INDEXES = (  # (table, index suffix, columns): the queries `ledger query` makes
    (ORDERS, "open", ("account_id", "is_open")), (ORDERS, "symbol", ("symbol",)),
    (POSITIONS, "symbol", ("symbol",)),
)  # fmt: skip

Row = tuple[Any, ...]  # in `Table.all_columns` order; numerics as Decimal, json as its text


# ---------------------------------------------------------------------------------------- rows
def _order_row(key: tuple[str, str], v: OrderView) -> Row:
    s = v.state
    return (*key, v.order.symbol, str(v.order.side), str(v.order.order_type), str(s.status),
            str(s.reconciliation_status), s.exchange_order_id, v.client_order_id, s.status not in TERMINAL,
            v.quantity, v.price, v.filled_quantity, v.remaining_quantity, v.average_fill_price, v.updated_at,
            v.model_dump_json())  # fmt: skip


def _position_row(key: tuple[str, str], p: Position) -> Row:
    a = p.asset
    return (*key, p.side, a.quantity != 0, a.quantity, a.entry_price, a.mark_price, a.unrealized_pnl,
            a.realized_pnl, a.margin_used, p.updated_at, p.model_dump_json())  # fmt: skip


def _balance_row(key: tuple[str, str], b: Balance) -> Row:
    return (*key, b.total, b.available, b.locked, b.updated_at, b.model_dump_json())


def _account_row(key: str, s: AccountState) -> Row:
    return (key, s.exchange, s.total_equity, s.total_margin_used, s.total_available_margin, s.total_realized_pnl,
            s.total_unrealized_pnl, s.updated_at, s.model_dump_json())  # fmt: skip


@dataclass
class Rows:
    """What one batch writes: per table, rows to upsert and keys to delete (a key the books no longer have);
    per history table (by name), the versions to insert."""

    upserts: dict[str, list[Row]] = field(default_factory=lambda: {t.name: [] for t in TABLES})
    deletes: dict[str, list[tuple[str, ...]]] = field(default_factory=lambda: {t.name: [] for t in TABLES})
    history: dict[str, list[Row]] = field(default_factory=lambda: {h.name: [] for h in HISTORY.values()})

    def __len__(self) -> int:
        return sum(len(rows) for part in (self.upserts, self.deletes, self.history) for rows in part.values())


def rows_of(books: Books, changes: Changes) -> Rows:
    """The rows of the keys in `changes`, as the books have them now. An order key the books no longer hold
    (evicted: `Books.evict_closed`) is never deleted: its row keeps the order's last state."""
    rows = Rows()
    parts: tuple[tuple[Table, Sequence[Any], Callable[..., Any], Callable[..., Row]], ...] = (
        (ORDERS, changes.orders, books.order_view, _order_row),
        (POSITIONS, changes.positions, books.position, _position_row),
        (BALANCES, changes.balances, books.balance, _balance_row),
        (ACCOUNTS, changes.accounts, books.account_state, _account_row),
    )
    for table, keys, read, encode in parts:
        for key in keys:
            model = read(*key) if isinstance(key, tuple) else read(key)
            if model is None:
                if table is ORDERS:  # an order the books evicted (closed): its row stays as it was
                    continue
                rows.deletes[table.name].append(key if isinstance(key, tuple) else (key,))
            else:
                rows.upserts[table.name].append(encode(key, model))
    return rows


def all_changes(books: Books) -> Changes:
    """Every key the books hold: what a full rewrite of the tables writes."""
    return Changes(tuple(books.order_keys()), tuple(books.position_keys()), tuple(books.balance_keys()),
                   tuple(books.account_ids()))  # fmt: skip


class PositionRow(NamedTuple):
    account_id: str
    symbol: str
    position: Position


class BalanceRow(NamedTuple):
    account_id: str
    asset_id: str
    balance: Balance


# ---------------------------------------------------------------------------------------- interface
class ReadTables(ABC):
    """The books kept in tables, with their tracking position. One writer at a time per set of tables.

    Writing: `create()` (idempotent), `position()`, `write(books, changes, position)`, `reset()`.
    Reading (sorted by key, each row's `data` decoded to the seed model): `orders`, `positions`,
    `balances`, `accounts`. `close()`, or use as a context manager. An object holds one connection: use
    one per thread (the memory tables are locked and may be shared)."""

    _expected: int | None = None  # the tracking position last read or written by this object

    # -- what a backend implements
    @abstractmethod
    def create(self) -> None:
        """Create the tables and the tracking row (position 0) where missing."""

    @abstractmethod
    def _read_tracking(self) -> tuple[int, int]:
        """(position, format) of the tracking row."""

    @abstractmethod
    def _commit(self, rows: Rows, expected: int, position: int) -> None:
        """In one transaction: check the tracking position is `expected` (else raise TrackingConflict),
        apply `rows`, set the position; all or nothing."""

    @abstractmethod
    def _select(self, table: Table, where: dict[str, Any]) -> list[tuple[Any, ...]]:
        """(key columns..., data) of the rows whose columns equal `where`, sorted by key; `data` is the
        JSON text or the parsed JSON value."""

    @abstractmethod
    def _select_at(self, history: HistoryTable, position: int, where: dict[str, Any],
                   columns: tuple[str, ...]) -> list[tuple[Any, ...]]:  # fmt: skip
        """(key columns..., `columns`...) of each key whose key columns equal `where`, from its last version
        at or before `position` (for `history.sparse` in `columns`: its last version with that column set),
        sorted by key; None for a key with no such version yet."""

    @abstractmethod
    def _clear(self) -> None:
        """Delete every row and set the tracking position to 0, in one transaction."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the shared part
    def position(self) -> int:
        """The last notification id the rows include (0: nothing projected yet)."""
        position, fmt = self._read_tracking()
        if fmt > FORMAT:
            raise ReadTablesError(f"the read tables are in format {fmt}, written by a newer version of the ledger "
                                  f"(this one writes format {FORMAT}): use that version")  # fmt: skip
        if fmt != FORMAT:
            raise ReadTablesError(f"the read tables are in format {fmt}, this version writes format {FORMAT}: "
                                  "run `ledger project`, which rebuilds them from the log")  # fmt: skip
        self._expected = position
        return position

    def stored_format(self) -> int:
        """The format the stored rows are in (`FORMAT` is what this version writes)."""
        return self._read_tracking()[1]

    def write(self, books: Books, changes: Changes, position: int, history: dict[str, list[Row]]) -> int:
        """Write the rows of `changes` as `books` has them, the `history` versions (`Versions.take()`: every
        version the events up to `position` made, or the as-of reads would answer wrong) and the tracking
        `position`, in one transaction. Returns the number of rows written or deleted."""
        expected = self.position() if self._expected is None else self._expected
        if position < expected:
            raise ReadTablesError(f"tracking cannot go back from {expected} to {position}")
        rows = rows_of(books, changes)
        for name, versions in history.items():
            if any(not expected < row[HISTORY_KEY_WIDTH[name]] <= position for row in versions):
                raise ReadTablesError(f"history rows of {name} outside the batch ({expected}, {position}]")
            rows.history[name] = versions
        if not rows and position == expected:
            return 0
        try:
            self._commit(rows, expected, position)
        except TrackingConflict:
            self._expected = None
            raise
        self._expected = position
        return len(rows)

    def reset(self) -> None:
        """Empty the tables; the tracking position goes back to 0 (the next projection rebuilds them)."""
        self._clear()
        self._expected = 0

    # -- reading
    def orders(self, account_id: str | None = None, *, symbol: str | None = None, open_only: bool = False,
               intent_id: str | None = None) -> list[OrderView]:  # fmt: skip
        where = _where(account_id=account_id, intent_id=intent_id, symbol=symbol, is_open=True if open_only else None)
        return [_decode(OrderView, r[-1]) for r in self._select(ORDERS, where)]

    def positions(self, account_id: str | None = None, *, symbol: str | None = None,
                  open_only: bool = False) -> list[PositionRow]:  # fmt: skip
        """Flat positions included unless `open_only` (as `Books.positions`)."""
        where = _where(account_id=account_id, symbol=symbol, is_open=True if open_only else None)
        return [PositionRow(a, s, _decode(Position, d)) for a, s, d in self._select(POSITIONS, where)]

    def balances(self, account_id: str | None = None) -> list[BalanceRow]:
        rows = self._select(BALANCES, _where(account_id=account_id))
        return [BalanceRow(a, asset, _decode(Balance, d)) for a, asset, d in rows]

    def accounts(self, account_id: str | None = None) -> list[AccountState]:
        return [_decode(AccountState, r[-1]) for r in self._select(ACCOUNTS, _where(account_id=account_id))]

    # -- reading as of a position (the history); each equals what the books folded to `position` give
    def covers(self, position: int) -> bool:
        """Whether the tables can answer as of `position` (the rows include it)."""
        return 0 <= position <= self.position()

    def _history(self, table: Table, position: int, where: dict[str, Any], *columns: str) -> list[tuple[Any, ...]]:
        if not self.covers(position):
            raise ReadTablesError(f"the read tables are at position {self._expected}, before {position}: "
                                  "run `ledger project`")  # fmt: skip
        found = self._select_at(HISTORY[table.name], position, where, columns)
        return [row for row in found if row[len(table.key)] is not None]  # a key with no version yet: left out

    def account_ids_at(self, position: int) -> list[str]:
        """The accounts opened as of `position`, sorted."""
        return [a for a, _ in self._history(ACCOUNTS, position, {}, "updated_at")]

    def positions_at(self, position: int, account_id: str | None = None, *, symbol: str | None = None,
                     open_only: bool = False) -> list[PositionRow]:  # fmt: skip
        rows = self._history(POSITIONS, position, _where(account_id=account_id, symbol=symbol), "data")
        found = [PositionRow(a, s, _decode(Position, d)) for a, s, d in rows]
        return [r for r in found if r.position.asset.quantity != 0] if open_only else found

    def balances_at(self, position: int, account_id: str | None = None) -> list[BalanceRow]:
        rows = self._history(BALANCES, position, _where(account_id=account_id), "total", "locked", "updated_at")
        return [BalanceRow(a, asset, balance_version(a, asset, total, locked, updated_at))
                for a, asset, total, locked, updated_at in rows]  # fmt: skip

    def accounts_at(self, position: int, account_id: str | None = None) -> list[AccountState]:
        """Each account's figures and `updated_at`, its balances and open positions as of `position` put back."""
        balances: dict[str, list[Balance]] = {}
        for row in self.balances_at(position, account_id):
            balances.setdefault(row.account_id, []).append(row.balance)
        positions: dict[str, list[Position]] = {}
        for p in self.positions_at(position, account_id, open_only=True):
            positions.setdefault(p.account_id, []).append(p.position)
        return [AccountState.model_validate({
            **(json.loads(data) if isinstance(data, str | bytes) else data),
            "updated_at": updated_at, "balances": balances.get(a, []), "positions": positions.get(a, []),
        }) for a, updated_at, data in self._history(ACCOUNTS, position, _where(account_id=account_id),
                                                     "updated_at", "data")]  # fmt: skip


@exact
def balance_version(account_id: str, asset_id: str, total: str, locked: str, updated_at: int) -> Balance:
    """The `Balance` a version holds, made as the books make it (`BalanceBook.to_model`)."""
    book = BalanceBook(account_id, asset_id)
    book.total, book.updated_at = Decimal(total), int(updated_at)
    return book.to_model(Decimal(locked))


def _where(**filters: Any) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v is not None}


def _decode(model: type[BaseModel], data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data
    if isinstance(data, str | bytes):
        return model.model_validate_json(data)
    return model.model_validate(data)


def as_text(value: Any) -> Any:
    """A column value for a backend without exact decimals (SQLite): Decimal -> its text."""
    return str(value) if isinstance(value, Decimal) else value
