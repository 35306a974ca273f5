"""The books: the whole projection state, and `Books.apply`, the one fold step every projection shares.

`Books.apply(event)` is pure: it reads only the event and the books (no clock, no randomness, no float),
runs under the `numbers.ARITHMETIC` decimal context whatever the caller's is, and every list the read
methods return is sorted by key. Folding the same events gives the same books, however they are chunked.

What it holds (all keyed, all plain dicts; `open_orders` is the only index):
- `orders`: (account_id, intent_id) -> `kernel.order.Order`, folded by the kernel's own `Order.apply`;
- `open_orders`: account_id -> intent_id -> the account's orders not FILLED/CANCELED/REJECTED/EXPIRED;
  what `locked` is computed from, so its cost follows the open orders, not the history;
- `accounts`: account_id -> `AccountBook` (instruments, marks, leverage, cumulative realized PnL);
- `position_books`: (account_id, symbol) -> `PositionBook`, derivatives only;
- `balance_books`: (account_id, asset_id) -> `BalanceBook`;
- `reserved`: (account_id, intent_id) -> (asset, amount) each open order reserves, kept current by the
  order events that change what it is a function of, and by `LeverageSet`, `AssetRegistered` and
  `AccountOpened`; it says which balance a fact touched, and `locked()` is its sum per (account, asset),
  kept as it changes (`balances.LockedSum`: the same digits as a sum afresh in intent-id order).
Derived from those (rebuilt by `_derive`, not in snapshots): the locked sums, and the keys of held
terminal orders that `evict_closed` looks at (so its cost follows what closed, not what is held).

Memory: `evict_closed()` drops the orders that are terminal and reserve nothing from `orders`, keeping
only their count (`closed_count`) and the sum of their digests (`closed_digest`, see
`hashing.order_digest`): the state hash covers every order through that multiset digest, so it does not
depend on what was evicted when. Nothing else reads a terminal order. Eviction is never done by `apply`:
the callers call it at page/batch boundaries (`projections.replay`, `adapters.projector`), once what a
batch changed has been read. `Books.of`/`apply_all` on their own never evict.

A later fact for an evicted order (a fill after a cancel, a late ack) cannot be folded by the books
alone: they forgot the order. The store-backed folds (`projections.replay.fold_notification`) reload the
order's stream up to that event and hand it back with `revive(order)` before applying the event; `apply`
on such an event without a revival raises `ProjectionError` ("before it was placed") and changes nothing.

Preconditions the kernel guarantees for a log it wrote, checked here and reported as `ProjectionError`
(never skipped silently): an order stream starts with `IntentPlaced` or `ExternalOrderDiscovered`, and
its symbol is registered on its account before the order is placed.

The read methods (keys, the seed models, `take_changes`) are in `projections.reading`.

Snapshots: `Books` is plain Python objects; `copy.deepcopy` and `pickle` give an independent copy that
folds on to the same state as the original.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from kernel import events as ev
from kernel.lifecycle import TERMINAL
from kernel.order import Order
from kernel.schema.order_spec import OrderSide
from projections.accounts import AccountBook
from projections.balances import (
    BalanceBook,
    BalanceKey,
    LockedSum,
    Move,
    derivative_fill_moves,
    reservation,
    settlement_fee,
)
from projections.hashing import DIGEST_MODULUS, digest_of
from projections.numbers import ONE, exact
from projections.orders import OrderKey
from projections.positions import (
    DERIVATIVE_TYPES,
    PositionBook,
    PositionKey,
    settlement_asset,
)
from projections.reading import BooksReading
from projections.reading import Changes as Changes  # what `take_changes` returns, importable from here too


class ProjectionError(Exception):
    """An event the books cannot fold: the log breaks a precondition the kernel guarantees."""


class NotHeld(ProjectionError):
    """An order event (not a placement) for an order the books do not hold: never placed, or evicted (the
    store-backed folds revive it and fold the event again). Raised before anything changes."""


_ORDER_EVENTS = frozenset(ev.ORDER_EVENTS)
_PLACEMENTS = (ev.IntentPlaced, ev.ExternalOrderDiscovered)
_FILLED = ev.OrderFilled
_BUY = OrderSide.BUY  # read once: a member read off its enum class costs a metaclass lookup


class Books(BooksReading):
    """The projection state. `apply` / `apply_all` fold events; the read methods (`reading.BooksReading`)
    give the seed models."""

    def __init__(self) -> None:
        self.orders: dict[OrderKey, Order] = {}
        self.open_orders: dict[str, dict[str, Order]] = {}
        self.accounts: dict[str, AccountBook] = {}
        self.position_books: dict[PositionKey, PositionBook] = {}
        self.balance_books: dict[BalanceKey, BalanceBook] = {}
        self.reserved: dict[OrderKey, Move] = {}  # what each reserving order reserved when last folded
        self.events_applied = 0
        self.closed_count = 0  # orders evicted (`evict_closed`) and not revived
        self.closed_digest = 0  # Σ order_digest of those orders, mod 2^256
        self._changed: tuple[set, set, set, set, set] = (set(), set(), set(), set(), set())  # see `Changes`
        # Derived from the state above (`_derive` rebuilds them; snapshots do not store them):
        self._locked: dict[str, dict[str, LockedSum]] = {}  # account -> asset -> the sum of `reserved` there
        self._closing: set[OrderKey] = set()  # held orders that may be terminal: what `evict_closed` looks at

    @classmethod
    def of(cls, events: Iterable[ev.Event]) -> Books:
        """New books with `events` folded in."""
        return cls().apply_all(events)

    # ------------------------------------------------------------------ the fold
    @exact
    def apply(self, event: ev.Event) -> None:
        """Fold one event (state' = apply(state, event))."""
        self._apply(event)

    @exact
    def apply_all(self, events: Iterable[ev.Event]) -> Books:
        """Fold events in order; returns the books. Same result as `apply` one at a time."""
        for event in events:
            self._apply(event)
        return self

    def _apply(self, e: ev.Event) -> None:
        if type(e) in _ORDER_EVENTS or isinstance(e, ev.OrderEvent):
            self._apply_order(e)
        elif isinstance(e, ev.AccountEvent):
            self._apply_account(e)
        else:
            raise ProjectionError(f"cannot fold {type(e).__name__}: not an order or account event")
        self.events_applied += 1

    def _derive(self) -> None:
        """Rebuild what is derived from the state (`_locked` from `reserved`, `_closing` from `orders`): for
        books whose state was set directly (a snapshot being restored)."""
        grouped: dict[str, dict[str, dict[str, Decimal]]] = {}
        for (account_id, intent_id), (asset, amount) in self.reserved.items():
            grouped.setdefault(account_id, {}).setdefault(asset, {})[intent_id] = amount
        self._locked = {account_id: {asset: LockedSum(amounts) for asset, amounts in here.items()}
                        for account_id, here in grouped.items()}  # fmt: skip
        self._closing = {key for key, order in self.orders.items() if order.status in TERMINAL}

    def _lock(self, account_id: str, asset: str) -> LockedSum:
        here = self._locked.get(account_id)
        if here is None:
            here = self._locked[account_id] = {}
        locked = here.get(asset)
        if locked is None:
            locked = here[asset] = LockedSum()
        return locked

    def _unlock(self, account_id: str, asset: str, intent_id: str) -> None:
        here = self._locked[account_id]
        locked = here[asset]
        locked.discard(intent_id)
        if not locked.amounts:
            del here[asset]
            if not here:
                del self._locked[account_id]

    def _account(self, account_id: str) -> AccountBook:
        account = self.accounts.get(account_id)
        if account is None:
            account = self.accounts[account_id] = AccountBook(account_id)
        self._changed[3].add(account_id)
        self._changed[4].add(account_id)
        return account

    def _instrument(self, e: ev.OrderEvent, order: Order | None) -> ev.InstrumentSpec:
        """The instrument an order event is about; refuses an event the fold cannot place."""
        if order is None or order.intent is None:
            if not isinstance(e, _PLACEMENTS):
                raise NotHeld(f"{type(e).__name__} for order {(e.account_id, e.intent_id)!r} before it "
                                      "was placed or discovered")  # fmt: skip
            symbol = e.order.symbol
        else:
            symbol = order.intent.symbol
        account = self.accounts.get(e.account_id)
        spec = account.instruments.get(symbol) if account is not None else None
        if spec is None:
            raise ProjectionError(f"order {e.intent_id!r} trades {symbol!r}, which is not registered on account "
                                  f"{e.account_id!r}")  # fmt: skip
        return spec

    def _apply_order(self, e: ev.OrderEvent) -> None:
        account_id, intent_id = e.account_id, e.intent_id
        key = (account_id, intent_id)
        order = self.orders.get(key)
        # the instrument, checked before anything changes (`_instrument`, inline for a held order)
        account = self.accounts.get(account_id)
        intent = order.intent if order is not None else None
        spec = account.instruments.get(intent.symbol) if intent is not None and account is not None else None
        if spec is None:
            spec = self._instrument(e, order)  # a placement's, or refused
            account = self.accounts[account_id]  # `_instrument` found the spec there
        assert account is not None
        changed_keys = self._changed
        changed_keys[3].add(account_id)
        ts_event = e.ts_event
        if ts_event > account.updated_at:
            account.updated_at = ts_event
        if order is None:
            order = self.orders[key] = Order(account_id, intent_id)
            order.apply(e)
            changed = order.submitted  # placed, not sent: it reserves nothing (discovered: it was sent)
            status = order.status
        else:
            # What the order's reservation is a function of (with the account's settings, which an order
            # event does not change): when none of it changed, neither did the reservation.
            submitted, was = order.submitted, order.status
            quantity, price, filled = order.exchange_quantity, order.exchange_price, order.filled_quantity
            order.apply(e)
            status = order.status
            changed = (submitted is not order.submitted
                       or (was is not status and (was in TERMINAL) is not (status in TERMINAL))
                       or quantity is not order.exchange_quantity or price is not order.exchange_price
                       or filled is not order.filled_quantity or intent is not order.intent)  # fmt: skip
        if type(e) is _FILLED:
            self._apply_fill(account, order, spec, e)  # type: ignore[arg-type]
        if changed:
            self._reserve(account, order, ts_event)
        open_here = self.open_orders.get(account_id)
        if open_here is None:
            open_here = self.open_orders[account_id] = {}
        if status in TERMINAL:
            open_here.pop(intent_id, None)
            self._closing.add(key)
        else:
            open_here[intent_id] = order
        changed_keys[0].add(key)

    def _apply_fill(self, account: AccountBook, order: Order, spec: ev.InstrumentSpec, e: ev.OrderFilled) -> None:
        intent = order.intent
        assert intent is not None
        side = intent.side
        if spec.asset_type not in DERIVATIVE_TYPES:
            # `spot_fill_moves`, inline: base and quote exchanged, then the fee
            account_id, ts_event, quantity = e.account_id, e.ts_event, e.quantity
            quote = spec.quote_asset or spec.settlement_asset or account.base_currency
            cost = quantity * e.price * (ONE if spec.contract_size is None else spec.contract_size)
            move = self._move
            if side is _BUY:
                move(account_id, spec.base_asset or spec.asset_id, quantity, ts_event)
                move(account_id, quote, -cost, ts_event)
            else:
                move(account_id, spec.base_asset or spec.asset_id, -quantity, ts_event)
                move(account_id, quote, cost, ts_event)
            if e.fee:
                move(account_id, e.fee_asset or quote, -e.fee, ts_event)
            return
        # a derivative
        settlement = settlement_asset(spec, account.base_currency)
        key = (e.account_id, order.intent.symbol)
        position = self.position_books.get(key)
        if position is None:
            position = self.position_books[key] = PositionBook(*key)
        realized = position.apply_fill(side, e.quantity, e.price, settlement_fee(e, settlement), spec)
        position.touch(e.ts_event)
        self._changed[1].add(key)
        self._changed[4].add(e.account_id)
        account.realize(settlement, realized)
        moves: list[Move] = derivative_fill_moves(settlement, realized, e)
        for asset, amount in moves:
            self._move(e.account_id, asset, amount, e.ts_event)

    def _apply_account(self, e: ev.AccountEvent) -> None:
        account = self._account(e.account_id)
        account.apply(e)
        if isinstance(e, ev.BalanceAdjusted):
            self._move(e.account_id, e.asset_id, e.amount, e.ts_event)
            return
        symbol = getattr(e, "symbol_id", None) or (e.asset.symbol if isinstance(e, ev.AssetRegistered) else None)
        position = self.position_books.get((e.account_id, symbol)) if symbol else None
        if position is not None:  # its mark, leverage or contract terms changed
            position.touch(e.ts_event)
            self._changed[1].add(position.key)
        if isinstance(e, ev.LeverageSet | ev.AssetRegistered):  # what open orders reserve may change
            open_here = self.open_orders.get(e.account_id, {})
            for intent_id in sorted(open_here):
                self._reserve(account, open_here[intent_id], e.ts_event)
        elif isinstance(e, ev.AccountOpened):  # the base currency (never after an order in a kernel's log)
            open_here = self.open_orders.get(e.account_id, {})
            for intent_id in sorted(open_here):
                self._reserve(account, open_here[intent_id], e.ts_event, touch=False)

    def _move(self, account_id: str, asset_id: str, amount: Decimal, ts_event: int) -> None:
        key = (account_id, asset_id)  # `_touch_balance(..., create=True)`, inline
        row = self.balance_books.get(key)
        if row is None:
            row = self.balance_books[key] = BalanceBook(account_id, asset_id)
        if ts_event > row.updated_at:
            row.updated_at = ts_event
        self._changed[2].add(key)
        self._changed[4].add(account_id)
        row.total += amount

    def _touch_balance(self, account_id: str, asset_id: str, ts_event: int, *, create: bool) -> BalanceBook | None:
        key = (account_id, asset_id)
        row = self.balance_books.get(key)
        if row is None:
            if not create:
                return None
            row = self.balance_books[key] = BalanceBook(*key)
        if ts_event > row.updated_at:
            row.updated_at = ts_event
        self._changed[2].add(key)
        return row

    def _reserve(self, account: AccountBook, order: Order, ts_event: int, *, touch: bool = True) -> None:
        """Bring the order's entry in `reserved` (and the locked sums) up to date; a balance whose reservation
        changed is touched (and created when the order now reserves something in an asset the account
        never held)."""
        account_id, intent_id = order.account_id, order.intent_id
        key = (account_id, intent_id)
        intent = order.intent  # `BooksReading._reservation(account, order)`, inline
        if intent is None or not order.submitted:
            now = None
        else:
            spec = account.instruments.get(intent.symbol)
            now = None if spec is None else reservation(order, spec, account.base_currency,
                                                        account.leverage.get(intent.symbol))  # fmt: skip
        reserved = self.reserved
        was = reserved.pop(key, None)
        if now is not None:
            reserved[key] = now
        # The cases of: unlock `was` if its asset is no longer reserved in; lock `now` unless the very same
        # amount is there already; when something changed (now != was), touch the balances concerned.
        if was is None:
            if now is None:
                return
            asset, amount = now
            self._lock(account_id, asset).put(intent_id, amount)
            if touch:
                self._touch_balance(account_id, asset, ts_event, create=amount != 0)
            return
        was_asset, was_amount = was
        if now is None:
            self._unlock(account_id, was_asset, intent_id)
            if touch:
                self._touch_balance(account_id, was_asset, ts_event, create=False)
            return
        asset, amount = now
        if asset != was_asset:
            self._unlock(account_id, was_asset, intent_id)
            self._lock(account_id, asset).put(intent_id, amount)
            if touch:
                self._touch_balance(account_id, was_asset, ts_event, create=False)
                self._touch_balance(account_id, asset, ts_event, create=amount != 0)
            return
        if amount is not was_amount:
            self._lock(account_id, asset).put(intent_id, amount)
            if amount == was_amount and (account_id, asset) in self.balance_books:
                self._changed[2].add((account_id, asset))  # the same amount in other digits: the locked text
        if touch and amount != was_amount:
            self._touch_balance(account_id, asset, ts_event, create=amount != 0)

    # ------------------------------------------------------------------ memory
    @exact
    def evict_closed(self) -> int:
        """Forget the orders that are terminal and reserve nothing, keeping their count and digest (the
        state hash does not change); returns how many were evicted. Call between events, never inside a
        fold step, and after the rows of what changed were read (their keys leave the changes too)."""
        orders, reserved = self.orders, self.reserved
        gone, kept = [], set()
        for key in self._closing:  # every held terminal order is in it (and maybe keys no longer held)
            order = orders.get(key)
            if order is None or order.status not in TERMINAL:
                continue
            if key in reserved:
                kept.add(key)
            else:
                gone.append(key)
        self._closing = kept
        digest = self.closed_digest
        for key in gone:
            digest += digest_of(orders.pop(key))  # `order_digest`, already under ARITHMETIC
            self._changed[0].discard(key)
        self.closed_digest = digest % DIGEST_MODULUS
        self.closed_count += len(gone)
        return len(gone)

    @exact
    def revive(self, order: Order) -> None:
        """Take back an evicted order, exactly as it was evicted (rebuilt from its stream): its digest
        leaves `closed_digest` and it is held in `orders` again (and `open_orders` if not terminal)."""
        key = (order.account_id, order.intent_id)
        if key in self.orders:
            raise ProjectionError(f"order {key!r} is not evicted: it cannot be revived")
        if self.closed_count <= 0:
            raise ProjectionError(f"order {key!r} cannot be revived: no order was evicted")
        self.closed_digest = (self.closed_digest - digest_of(order)) % DIGEST_MODULUS
        self.closed_count -= 1
        self.orders[key] = order
        if order.status not in TERMINAL:
            self.open_orders.setdefault(order.account_id, {})[order.intent_id] = order
        else:
            self._closing.add(key)
