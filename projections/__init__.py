"""Projections: pure, deterministic folds from the ledger's events to the books, and their state hash.

Imports `kernel` only. Everything here is a function of the events folded, in the order folded: no clock,
no randomness, no float arithmetic, no unordered iteration reaching an output.

The API
-------

    from projections import Books, state_hash

    books = Books()
    for notification_id, event in ledger.read():       # any paging: the result does not depend on it
        books.apply(event)                              # or books.apply_all(events); Books.of(events)
    books.account_state("acc")                          # -> AccountState | None (the seed model)
    state_hash(books)                                   # -> 64 hex chars

`Books` (projections.state) -- the whole projection state; one fold step, `apply(event)`:
  - `apply(event) -> None`, `apply_all(events) -> Books` (enters the decimal context once: the call for a
    page of events), `Books.of(events) -> Books`; raise
    `ProjectionError` (and change nothing) for an event the kernel would never have recorded (an order
    event before its order was placed; an order on a symbol its account never registered).
  - reads, every list sorted by its key:
    `order_view(account_id, intent_id) -> OrderView | None`, `order_views(account_id=None, *, open_only=False)`;
    `position(account_id, symbol) -> Position | None`, `positions(account_id=None, *, open_only=False)`;
    `balance(account_id, asset_id) -> Balance | None`, `balances(account_id) -> list[Balance]`;
    `locked(account_id) -> {asset_id: Decimal}`;
    `account_state(account_id) -> AccountState | None` (opened accounts only), `account_states()`;
    keys: `account_ids()`, `order_keys(...)`, `position_keys(...)`, `balance_keys(...)`.
  - `take_changes() -> Changes`: the (sorted) keys of orders, positions, balances and accounts touched
    since the last call -- what a read table rewrites after a batch.
  - `events_applied`: how many events were folded (the replay layer tracks notification ids itself).
  - the raw state, for snapshots and read tables: `orders` ((account, intent) -> kernel `Order`),
    `open_orders` (account -> intent -> Order, non-terminal only), `accounts` (account -> `AccountBook`),
    `position_books` ((account, symbol) -> `PositionBook`), `balance_books` ((account, asset) ->
    `BalanceBook`), `reserved` ((account, intent) -> (asset, amount) per reserving order).
    `copy.deepcopy(books)` / `pickle` make a snapshot that folds on identically.
Replay, as-of and trading days (projections.replay; snapshots in projections.snapshots):
  `replay(ledger, *, until_position=None, page_size=10_000, books=None, after=0, evict=True) -> Replayed(books, position)`,
  `fold_notification(ledger, books, notification) -> event` (revives an evicted order first),
  `position_at(ledger, ts_ns) -> int`, `state_at(ledger, *, position=None, ts_ns=None) -> Replayed`,
  `ensure_snapshots(ledger, *, every=20_000, cutoff="00:00", tz="UTC") -> [positions written]`,
  `day_bounds(ledger, day, cutoff="00:00", tz="UTC") -> (first, last) | None`,
  `replay_day(ledger, day, *, cutoff="00:00", tz="UTC") -> DayReplay(day, books, opening_position,
  closing_position, events)`, `TradingCalendar(cutoff, tz)`. Snapshots are msgspec data in the store's
  "snapshots" recorder (`projections.snapshots`), never pickles.
`OrderView` (projections.orders) -- the seed `OrderState` plus the intent, quantity, price, filled
  quantity, average fill price, remaining quantity, fees by asset, anomaly flags.
`state_hash(books) -> str`, `state_document(books) -> dict`, `encode_state(books) -> bytes`
  (projections.hashing) -- SHA-256 over a canonical JSON document of the whole state (orders as a count
  and a multiset digest, `order_digest(order) -> int`).

Where the semantics are written down
------------------------------------
- positions: `projections.positions` (netting, average entry, linear/inverse PnL, flips, fees pro rata,
  realized per life, unrealized, margin, liquidation estimate; derivatives only -- spot fills move
  balances);
- balances and `locked`: `projections.balances`;
- `AccountState` and the margin figures: `projections.accounts`;
- the decimal contexts (the kernel's: 100 digits for sums and products, 28 for quotients, half-even) and
  the canonical decimal text: `projections.numbers`;
- the hashed document: `projections.hashing`.

Decisions where DESIGN is silent (each explained where it is implemented)
-------------------------------------------------------------------------
- Only PERPETUAL, FUTURE and INVERSE_* instruments make positions; SPOT, MARGIN, CURRENCY and OPTION fills
  exchange assets (base/quote balances) and make none.
- Inverse contracts average their entry arithmetically (quantity-weighted), like linear ones.
- An order reserves from `SubmissionStarted` (or discovery) until terminal; MARKET orders (no price) and
  reduce-only derivative orders reserve nothing; a stop order without a limit reserves at its stop price.
- Initial margin: × the instrument's initial margin rate, else ÷ the symbol's leverage, else the whole
  notional. Margin used is valued at the mark, or at the entry until a mark is known.
- Account margin figures are in the account's base currency; positions settling in another asset are
  listed but not summed (`AccountState.metadata["realized_pnl_by_asset"]` has every asset's total).
- Flat positions show entry price None and side None; the liquidation estimate is None for inverse
  contracts and when it would not be a positive price.
- `available = total − locked` may be negative (an over-commitment is shown, not hidden).
- `updated_at` everywhere is the greatest `ts_event` of the events that changed the row.

Figures are exact decimals; a quotient carries 28 significant digits and what is summed from it may carry
more, so do further arithmetic on them under `projections.ARITHMETIC` (`decimal.localcontext(ARITHMETIC)`),
not under Python's default 28-digit context, or digits are lost.

Memory is bounded by accounts, instruments, positions and balance rows, plus the open orders:
`Books.evict_closed() -> int` drops terminal orders that reserve nothing (their count and multiset digest
stay in `closed_count`/`closed_digest`, so `state_hash` is unchanged: hash version 2 hashes the orders as
`{"orders_count", "orders_digest"}`), and `Books.revive(order)` takes one back. `apply` never evicts;
`replay`/`state_at`/`replay_day`/`ensure_snapshots` (`evict=True` by default) evict after every page and
at the end, and the projector after each batch's rows are written (an order's row stays in the read
tables). A late fact for an evicted order is folded by `projections.replay.fold_notification` (the one
place): it reloads the order's stream up to that fact and revives it first. `Books.of(events)` never
evicts. So after an evicting replay `order_views()` lists only the orders held (open ones, and closed
ones not evicted yet); every order is in the read tables (`ledger query orders`).

The CLI's choice: `ledger replay` (and the `ledger demo` summary) fold with `evict=False`, so their
`orders` list every order of the fold; as-of forms (`--day`, `--until`, `--position`, `query --as-of`)
start from a snapshot, which holds evicted books, so they list the open orders plus the closed orders of
the tail after that snapshot. The `state_hash` is the same either way.
"""

from projections.accounts import AccountBook
from projections.balances import BalanceBook
from projections.hashing import HASH_VERSION, encode_state, state_document, state_hash
from projections.numbers import ARITHMETIC, QUOTIENT, canonical_decimal
from projections.orders import OrderView
from projections.positions import PositionBook
from projections.state import Books, Changes, ProjectionError

__all__ = [
    "ARITHMETIC", "HASH_VERSION", "QUOTIENT", "AccountBook", "BalanceBook", "Books", "Changes", "OrderView",
    "PositionBook", "ProjectionError", "canonical_decimal", "encode_state", "state_document", "state_hash",
]  # fmt: skip
