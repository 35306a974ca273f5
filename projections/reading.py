"""The books' read side: the keys they hold, the seed models built from them, and the keys changed since
the last look (`take_changes`). `BooksReading` is what `projections.state.Books` reads with (a mixin: it
holds no state of its own); every list is sorted by key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kernel.exchange.models import AccountState, Balance, Position
from kernel.order import Order
from projections.accounts import AccountBook
from projections.balances import BalanceBook, BalanceKey, LockedSum, Move, reservation
from projections.numbers import ZERO, exact
from projections.orders import OrderKey, OrderView
from projections.positions import PositionBook, PositionKey


@dataclass(frozen=True)
class Changes:
    """Keys whose rows may have changed since the last `Books.take_changes()`, each sorted: what a read
    table must rewrite after a batch. Over-approximate (a key may be listed with no change), never under."""

    orders: tuple[OrderKey, ...] = ()
    positions: tuple[PositionKey, ...] = ()
    balances: tuple[BalanceKey, ...] = ()
    accounts: tuple[str, ...] = ()
    # of `accounts`, those whose figures may have changed too (not only `updated_at`): an account event, a
    # fill, a cash move. The others changed only their `updated_at` (an order event).
    account_figures: tuple[str, ...] = ()

    @classmethod
    def union(cls, changes: Iterable[Changes]) -> Changes:
        """Every key any of `changes` lists, each sorted."""
        parts: tuple[set, ...] = (set(), set(), set(), set(), set())
        for c in changes:
            for part, keys in zip(parts, (c.orders, c.positions, c.balances, c.accounts, c.account_figures),
                                  strict=True):  # fmt: skip
                part.update(keys)
        return cls(*(tuple(sorted(part)) for part in parts))


class BooksReading:
    """The read methods of `Books` (see `projections.state` for what the attributes hold)."""

    orders: dict[OrderKey, Order]
    open_orders: dict[str, dict[str, Order]]
    accounts: dict[str, AccountBook]
    position_books: dict[PositionKey, PositionBook]
    balance_books: dict[BalanceKey, BalanceBook]
    _changed: tuple[set, set, set, set, set]
    _locked: dict[str, dict[str, LockedSum]]

    def take_changes(self) -> Changes:
        """The keys changed since the last call (sorted), and start collecting afresh."""
        changed, self._changed = self._changed, (set(), set(), set(), set(), set())
        return Changes(*(tuple(sorted(keys)) for keys in changed))

    def _reservation(self, account: AccountBook, order: Order) -> Move | None:
        """What `order` reserves now (asset, amount), or None: what the fold keeps in `reserved`."""
        intent = order.intent
        if intent is None or not order.submitted:  # unsent: `reservation` is None too
            return None
        symbol = intent.symbol
        spec = account.instruments.get(symbol)
        if spec is None:
            return None
        return reservation(order, spec, account.base_currency, account.leverage.get(symbol))

    # ------------------------------------------------------------------ reading: keys
    def account_ids(self) -> list[str]:
        """Accounts that were opened, sorted."""
        return sorted(a for a, book in self.accounts.items() if book.opened is not None)

    def order_keys(self, account_id: str | None = None, *, open_only: bool = False) -> list[OrderKey]:
        if open_only:
            accounts = [account_id] if account_id is not None else sorted(self.open_orders)
            return [(a, i) for a in accounts for i in sorted(self.open_orders.get(a, {}))]
        return sorted(k for k in self.orders if account_id is None or k[0] == account_id)

    def position_keys(self, account_id: str | None = None, *, open_only: bool = False) -> list[PositionKey]:
        return sorted(k for k, p in self.position_books.items()
                      if (account_id is None or k[0] == account_id) and (p.quantity != 0 or not open_only))  # fmt: skip

    def balance_keys(self, account_id: str | None = None) -> list[BalanceKey]:
        return sorted(k for k in self.balance_books if account_id is None or k[0] == account_id)

    # ------------------------------------------------------------------ reading: the seed models
    @exact
    def order_view(self, account_id: str, intent_id: str) -> OrderView | None:
        order = self.orders.get((account_id, intent_id))
        return OrderView.of(order) if order is not None else None

    @exact
    def order_views(self, account_id: str | None = None, *, open_only: bool = False) -> list[OrderView]:
        return [OrderView.of(self.orders[k]) for k in self.order_keys(account_id, open_only=open_only)]

    @exact
    def position(self, account_id: str, symbol: str) -> Position | None:
        book = self.position_books.get((account_id, symbol))
        if book is None:
            return None
        account = self.accounts[account_id]
        spec = account.instruments[symbol]
        return book.to_model(spec, account.marks.get(symbol), account.leverage.get(symbol))

    @exact
    def positions(self, account_id: str | None = None, *, open_only: bool = False) -> list[Position]:
        """Sorted by (account_id, symbol); flat rows included unless `open_only`."""
        return [self.position(*k) for k in self.position_keys(account_id, open_only=open_only)]  # type: ignore[misc]

    @exact
    def locked(self, account_id: str) -> dict[str, Decimal]:
        """What the account's open orders reserve now, by asset (summed in intent-id order; kept as the books
        fold, see `balances.LockedSum`), sorted by asset."""
        here = self._locked.get(account_id)
        if not here or account_id not in self.accounts:
            return {}
        return {asset: here[asset].value() for asset in sorted(here)}

    @exact
    def locked_in(self, account_id: str, asset_id: str) -> Decimal:
        """`locked(account_id)[asset_id]`, or 0, without the other assets."""
        here = self._locked.get(account_id)
        if not here or account_id not in self.accounts or asset_id not in here:
            return ZERO
        return here[asset_id].value()

    @exact
    def balance(self, account_id: str, asset_id: str) -> Balance | None:
        book = self.balance_books.get((account_id, asset_id))
        return book.to_model(self.locked_in(account_id, asset_id)) if book is not None else None

    @exact
    def balances(self, account_id: str) -> list[Balance]:
        """The account's balances, sorted by asset id."""
        locked = self.locked(account_id)
        return [self.balance_books[k].to_model(locked.get(k[1], ZERO)) for k in self.balance_keys(account_id)]

    @exact
    def account_state(self, account_id: str) -> AccountState | None:
        account = self.accounts.get(account_id)
        if account is None or account.opened is None:
            return None
        positions = [self.position_books[k] for k in self.position_keys(account_id)]
        return account.to_model(self.balances(account_id), positions)

    @exact
    def account_figures(self, account_id: str) -> AccountState | None:
        """`account_state` with only the base currency's balance in its list: the same figures for less
        work (the read tables' history keeps an account's figures after every event that touched it, and
        the balances and positions beside them)."""
        account = self.accounts.get(account_id)
        if account is None or account.opened is None:
            return None
        base = self.balance(account_id, account.base_currency)
        positions = [self.position_books[k] for k in self.position_keys(account_id)]
        return account.to_model([base] if base is not None else [], positions)

    @exact
    def account_states(self) -> list[AccountState]:
        """Every opened account's state, sorted by account id."""
        return [self.account_state(a) for a in self.account_ids()]  # type: ignore[misc]
