"""The snapshot encoding of `Books`: msgspec MessagePack of typed structs (`BooksSnap`), and back.

    encode_books(books) -> bytes; decode_books(bytes) -> Books; check_codec(books=None)

Decoding builds plain data into the kernel's and the books' classes by their public attributes: reading
a snapshot never runs stored code (no pickle). Orders come back asleep (`RestoredOrder`): only their key
and status are read at once, the rest on first use.

The encoding is deterministic: every keyed collection is written sorted by key (dict keys too), so the
same books give the same bytes whatever order their dicts were filled in. A field added to `Order`,
`AccountBook`, `PositionBook`, `BalanceBook` or `Books` that this codec does not know makes `encode_books`
refuse (`SnapshotError`) rather than write a snapshot that would lose it: extend the structs and bump
`SNAPSHOT_VERSION`. Likewise, a change to what the fold computes from the same events must bump
`SNAPSHOT_VERSION` (or `HASH_VERSION`): a stored snapshot holds the old figures.
"""

from __future__ import annotations

import gc
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import msgspec

from kernel import events as ev
from kernel.order import Order
from kernel.schema.order_spec import StandardOrderStatus
from projections.accounts import AccountBook
from projections.balances import BalanceBook
from projections.positions import PositionBook
from projections.state import Books

SNAPSHOT_VERSION = 3  # 2: evicted orders' count and digest (`closed_count`, `closed_digest`); 3: zlib
SNAPSHOT_TOPIC = f"BooksSnapshot.v{SNAPSHOT_VERSION}"


class SnapshotError(Exception):
    """A snapshot cannot be written (the codec does not know a field) or read (wrong topic, bad bytes)."""


# ---------------------------------------------------------------------------------------- the schema
class _Struct(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    pass


class OrderSnap(_Struct, frozen=True):
    """Every slot of `kernel.order.Order`, in its order."""

    account_id: str
    intent_id: str
    version: int
    status: StandardOrderStatus | None
    status_before_pending: StandardOrderStatus | None
    intent: ev.OrderSpec | None
    group_id: str | None
    metadata: dict[str, Any]
    created_at: int
    updated_at: int
    last_sync_at: int
    submitted: bool
    accepted: bool
    client_order_id: str
    exchange_order_id: str
    exchange_quantity: Decimal
    exchange_price: Decimal | None
    filled_quantity: Decimal
    filled_notional: Decimal
    fees: dict[str, Decimal]
    fills: dict[str, tuple[Decimal, Decimal]]
    ack_keys: list[tuple[str, ...]]  # a set in the Order; sorted here
    amend_requests: int
    cancel_requests: int
    error_message: str | None
    anomalies: list[str]
    external: bool


class AccountSnap(_Struct, frozen=True):
    account_id: str
    opened: ev.AccountOpened | None
    instruments: dict[str, ev.InstrumentSpec]
    marks: dict[str, Decimal]
    leverage: dict[str, Decimal]
    realized_pnl: dict[str, Decimal]
    reported: ev.ExchangeBalancesReported | None
    updated_at: int


class PositionSnap(_Struct, frozen=True):
    account_id: str
    symbol: str
    quantity: Decimal
    entry_price: Decimal | None
    realized_pnl: Decimal
    updated_at: int


class BalanceSnap(_Struct, frozen=True):
    account_id: str
    asset_id: str
    total: Decimal
    updated_at: int


class ReservedSnap(_Struct, frozen=True):
    account_id: str
    intent_id: str
    asset_id: str
    amount: Decimal


class BooksSnap(_Struct, frozen=True):
    """The whole books. `open_orders` names, per account, the intent ids of its open orders (the Order
    objects are those of `orders`: the index shares them, so does the restored one)."""

    events_applied: int
    orders: list[OrderSnap]
    open_orders: list[tuple[str, list[str]]]
    accounts: list[AccountSnap]
    positions: list[PositionSnap]
    balances: list[BalanceSnap]
    reserved: list[ReservedSnap]
    closed_count: int  # orders evicted from `orders` (Books.evict_closed)
    closed_digest: str  # their digest sum, 64 hex digits (MessagePack integers stop at 64 bits)


def _fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    return cls.__struct_fields__


# What each class holds, as the codec knows it; checked against the live classes before every encoding.
_KNOWN = {
    Order: _fields(OrderSnap),
    AccountBook: _fields(AccountSnap),
    PositionBook: _fields(PositionSnap),
    BalanceBook: _fields(BalanceSnap),
}
_BOOKS_ATTRIBUTES = frozenset(
    {"orders", "open_orders", "accounts", "position_books", "balance_books", "reserved", "events_applied",
     "closed_count", "closed_digest", "_changed",  # `_changed` is what `take_changes` collects since its last call: not state
     "_locked", "_closing"}  # derived from the state: rebuilt on decoding (`Books._derive`)
)  # fmt: skip

_encoder = msgspec.msgpack.Encoder(decimal_format="string", order="deterministic")
# Decoding leaves each order as its bytes (`msgspec.Raw`, a view: no copy) to be woken on first use.
_LazyBooksSnap = msgspec.defstruct(
    "_LazyBooksSnap",
    [(name, list[msgspec.Raw] if name == "orders" else hint) for name, hint in typing.get_type_hints(BooksSnap).items()],
    array_like=True, forbid_unknown_fields=True, frozen=True,
)  # fmt: skip
_decoder = msgspec.msgpack.Decoder(_LazyBooksSnap)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building or walking a snapshot allocates (or visits) one object per field of every order; the cyclic
    collector running meanwhile rescans the whole heap again and again (measured: most of the time). The
    work is bounded, so pause it for its length."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_codec(books: Books | None = None) -> None:
    """Refuse (`SnapshotError`) if a class the books are made of holds something this codec would drop."""
    for cls, known in _KNOWN.items():
        slots = tuple(getattr(cls, "__slots__", ()))
        if set(slots) != set(known):
            missing = sorted(set(slots) - set(known))
            raise SnapshotError(f"snapshot codec v{SNAPSHOT_VERSION} does not match {cls.__name__}: "
                                f"unknown {missing}, gone {sorted(set(known) - set(slots))}")  # fmt: skip
    names = set(vars(books if books is not None else Books()))
    if names != _BOOKS_ATTRIBUTES:
        raise SnapshotError(
            f"snapshot codec v{SNAPSHOT_VERSION} does not match Books: "
            f"unknown {sorted(names - _BOOKS_ATTRIBUTES)}, gone {sorted(_BOOKS_ATTRIBUTES - names)}"
        )


# ---------------------------------------------------------------------------------------- to builtins
def _order_snap(order: Order) -> OrderSnap | msgspec.Raw:
    if type(order) is RestoredOrder and order.asleep():  # unchanged since restored: its bytes as they were
        return order._raw
    values = {name: getattr(order, name) for name in _KNOWN[Order]}
    values["ack_keys"] = sorted(order.ack_keys)
    return OrderSnap(**values)


def _plain(obj: object, cls: type[msgspec.Struct]) -> msgspec.Struct:
    return cls(**{name: getattr(obj, name) for name in _fields(cls)})


def books_document(books: Books) -> BooksSnap:
    """The books as the snapshot's typed document (every collection sorted by key)."""
    check_codec(books)
    return BooksSnap(
        events_applied=books.events_applied,
        orders=[_order_snap(books.orders[key]) for key in sorted(books.orders)],
        open_orders=[(account_id, sorted(books.open_orders[account_id])) for account_id in sorted(books.open_orders)],
        accounts=[_plain(books.accounts[a], AccountSnap) for a in sorted(books.accounts)],  # type: ignore[misc]
        positions=[_plain(books.position_books[k], PositionSnap) for k in sorted(books.position_books)],  # type: ignore[misc]
        balances=[_plain(books.balance_books[k], BalanceSnap) for k in sorted(books.balance_books)],  # type: ignore[misc]
        reserved=[ReservedSnap(k[0], k[1], *books.reserved[k]) for k in sorted(books.reserved)],
        closed_count=books.closed_count,
        closed_digest=format(books.closed_digest, "064x"),
    )  # fmt: skip


def encode_books(books: Books) -> bytes:
    """Deterministic bytes of the whole books (MessagePack; decimals as their exact text)."""
    with _gc_paused():
        return _encoder.encode(books_document(books))


# ---------------------------------------------------------------------------------------- from builtins
def _restore(cls: type, snap: msgspec.Struct) -> Any:
    obj = cls.__new__(cls)
    for name in snap.__struct_fields__:
        setattr(obj, name, getattr(snap, name))
    return obj


def _filler(snap_cls: type[msgspec.Struct], **convert: Any) -> Any:
    """`fill(obj, snap)`: every field of `snap` set on `obj`, as straight-line code for one struct (an order
    is filled once per order woken: a loop of getattr/setattr over 27 fields cost most of it).
    `convert[name]` makes a field's value from the snapshot's (e.g. `set` from a list)."""
    lines = ["def fill(obj, snap):"]  # object.__setattr__: past `RestoredOrder.__setattr__`, which would wake it
    for name in snap_cls.__struct_fields__:
        assert name.isidentifier()
        value = f"convert_{name}(snap.{name})" if name in convert else f"snap.{name}"
        lines.append(f"    set_slot(obj, {name!r}, {value})")
    namespace: dict[str, Any] = {
        "set_slot": object.__setattr__,
        **{f"convert_{name}": f for name, f in convert.items()},
    }
    exec("\n".join(lines), namespace)  # noqa: S102 - code made from the struct's own field names
    return namespace["fill"]


_fill_order: Any = _filler(OrderSnap, ack_keys=set)
_order_decoder = msgspec.msgpack.Decoder(OrderSnap)


class RestoredOrder(Order):
    """An order restored from a snapshot, decoded on first use.

    Restoring books sets only each order's key and status (all `Books._derive` reads) and keeps the rest
    as the snapshot's bytes for that order (`_raw`, a view into the snapshot). The first read of any
    other field, or the first write of any field, decodes the whole order ("wakes" it); from then on it
    is an ordinary `Order`. Snapshots hold every open order and an as-of query touches few of them:
    measured on a 1,000,000-event history, decoding all 22,929 orders of a snapshot was most of a load.
    Encoding a snapshot writes a still-asleep order's bytes back unchanged (the codec is deterministic:
    the same bytes it would write again)."""

    __slots__ = ("_raw",)

    def __getattr__(self, name: str) -> Any:  # only for a slot not set: the order is asleep
        raw = getattr(self, "_raw", None) if name != "_raw" else None
        if raw is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        _wake(self, raw)
        return getattr(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "_raw":
            raw = getattr(self, "_raw", None)
            if raw is not None:  # asleep: wake first, or the write would be overwritten by the waking
                _wake(self, raw)
        object.__setattr__(self, name, value)

    def asleep(self) -> bool:
        return getattr(self, "_raw", None) is not None


def _wake(order: RestoredOrder, raw: msgspec.Raw) -> None:
    object.__setattr__(order, "_raw", None)
    _fill_order(order, _order_decoder.decode(raw))


class _OrderHead(msgspec.Struct, array_like=True):
    """The first fields of an `OrderSnap` (the rest of the array is skipped): what restoring reads now."""

    account_id: str
    intent_id: str
    version: int
    status: StandardOrderStatus | None


# The orders' heads, all in one decoding of the snapshot (the rest skipped): one call, not one per order.
_HeadsSnap = msgspec.defstruct(
    "_HeadsSnap",
    [(name, list[_OrderHead] if name == "orders" else msgspec.Raw) for name in BooksSnap.__struct_fields__],
    array_like=True, forbid_unknown_fields=True, frozen=True,
)  # fmt: skip
_heads_decoder = msgspec.msgpack.Decoder(_HeadsSnap)


def _asleep(head: _OrderHead, raw: msgspec.Raw) -> RestoredOrder:
    order = RestoredOrder.__new__(RestoredOrder)
    set_slot = object.__setattr__
    set_slot(order, "account_id", head.account_id)
    set_slot(order, "intent_id", head.intent_id)
    set_slot(order, "status", head.status)
    set_slot(order, "_raw", raw)
    return order


def books_from_document(doc: Any, heads: list[_OrderHead]) -> Books:
    """Books from a snapshot as `decode_books` reads it: its orders as `msgspec.Raw` and their `heads`
    beside them, restored asleep (see `RestoredOrder`)."""
    books = Books()
    books.events_applied = doc.events_applied
    orders = books.orders
    for head, raw in zip(heads, doc.orders, strict=True):
        orders[(head.account_id, head.intent_id)] = _asleep(head, raw)
    for account_id, intent_ids in doc.open_orders:
        books.open_orders[account_id] = {i: books.orders[(account_id, i)] for i in intent_ids}
    for a in doc.accounts:
        books.accounts[a.account_id] = _restore(AccountBook, a)
    for p in doc.positions:
        books.position_books[(p.account_id, p.symbol)] = _restore(PositionBook, p)
    for b in doc.balances:
        books.balance_books[(b.account_id, b.asset_id)] = _restore(BalanceBook, b)
    for r in doc.reserved:
        books.reserved[(r.account_id, r.intent_id)] = (r.asset_id, r.amount)
    books.closed_count = doc.closed_count
    books._derive()
    try:
        books.closed_digest = int(doc.closed_digest, 16)
    except ValueError:
        raise SnapshotError(f"not a {SNAPSHOT_TOPIC} snapshot: bad closed_digest") from None
    return books


def decode_books(data: bytes) -> Books:
    """Books from `encode_books` bytes; `SnapshotError` for bytes that are not such a snapshot."""
    try:
        with _gc_paused():
            return books_from_document(_decoder.decode(data), _heads_decoder.decode(data).orders)
    except (msgspec.DecodeError, KeyError) as e:
        raise SnapshotError(f"not a {SNAPSHOT_TOPIC} snapshot: {e}") from None
