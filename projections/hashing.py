"""`state_hash`: the SHA-256 of one canonical encoding of the whole projection state.

The document hashed (`state_document`) is, in this order of keys (the encoding sorts every object's keys):

    {"hash_version": 2,
     "orders":    {"orders_count": n, "orders_digest": hex}         every order ever seen, as a multiset
     "positions": [{"account_id", "symbol", "position": Position}]  sorted by (account_id, symbol), flat ones too
     "balances":  [{"account_id", "balance": Balance}]              sorted by (account_id, asset_id)
     "accounts":  [AccountState, ...]}                              sorted by account_id

`orders_digest` is (Σ over every order the books ever saw of int(SHA-256(canonical bytes of its OrderView)))
mod 2^256, as 64 hex digits (`order_digest`): a multiset hash, so it does not depend on the order orders
closed in nor on which of them the books still hold in memory (`Books.evict_closed` moves a terminal
order's digest into `Books.closed_digest`; `Books.revive` takes it back out). Version 1 listed every order.

each model as its `model_dump()` (the seed models' field names), then made canonical (`canonical`):
- a Decimal becomes its canonical text (`numbers.canonical_decimal`): equal values hash equal, so
  `Decimal("1.0")`, `Decimal("1.00")` and `Decimal("1")` are all `"1"`, and `-0` is `"0"`;
- an enum becomes its value; tuples become lists; mapping keys become strings;
- integers (ns timestamps), strings, booleans and None are kept; a float can only come from opaque
  user metadata decoded from the log, and is kept as msgspec writes it (shortest repr, deterministic).

The bytes are msgspec's JSON with object keys sorted; the hash is the hex SHA-256 of them. No
notification id and no wall-clock time is in the state (every time in it is an event's `ts_event`), so
the same events give the same hash on every store, batch size, process and machine. Any change to this
encoding or to what the state holds bumps `HASH_VERSION`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import msgspec

from projections.numbers import canonical_decimal, exact
from projections.orders import order_document

if TYPE_CHECKING:
    from kernel.order import Order
    from projections.state import Books

HASH_VERSION = 2
DIGEST_MODULUS = 1 << 256


def canonical(value: Any) -> Any:
    """A JSON-ready copy of `value` in which equal values are equal text (see the module text)."""
    kind = type(value)  # exact-type fast path first: this runs millions of times per replay
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is Decimal:
        return canonical_decimal(value)
    if kind is dict:
        return {str(canonical(k)): canonical(v) for k, v in value.items()}
    if kind is list:
        return [canonical(v) for v in value]
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, Mapping):
        return {str(canonical(k)): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def digest_of(order: Order) -> int:
    """`order_digest` without entering `ARITHMETIC`: for callers already in it (`Books.evict_closed`, once per
    order of the history). The document's arithmetic names its contexts, so the digits are the same."""
    return int.from_bytes(_sha256(_encode_sorted(order_document(order))).digest(), "big")


@exact
def order_digest(order: Order) -> int:
    """One order's term of the orders digest: int(SHA-256(canonical JSON of its OrderView)), big-endian. The
    canonical document is built straight from the order (`orders.order_document`), not through the model."""
    return digest_of(order)


_encode_sorted = msgspec.json.Encoder(order="sorted").encode  # = msgspec.json.encode(..., order="sorted")
_sha256 = hashlib.sha256


@exact
def state_document(books: Books) -> dict[str, Any]:
    """The canonical, JSON-ready document of the whole state (what `state_hash` hashes)."""
    return {
        "hash_version": HASH_VERSION,
        "orders": {
            "orders_count": len(books.orders) + books.closed_count,
            "orders_digest": format(
                (books.closed_digest + sum(order_digest(books.orders[k]) for k in books.order_keys())) % DIGEST_MODULUS,
                "064x"),
        },
        "positions": [
            {"account_id": account_id, "symbol": symbol, "position": canonical(position.model_dump())}
            for (account_id, symbol), position in zip(books.position_keys(), books.positions(), strict=True)
        ],
        "balances": [
            {"account_id": account_id, "balance": canonical(balance.model_dump())}
            for account_id in sorted({k[0] for k in books.balance_keys()})
            for balance in books.balances(account_id)
        ],
        "accounts": [canonical(state.model_dump()) for state in books.account_states()],
    }


def encode_state(books: Books) -> bytes:
    """The canonical bytes: msgspec JSON of `state_document`, object keys sorted."""
    return msgspec.json.encode(state_document(books), order="sorted")


def state_hash(books: Books) -> str:
    """Hex SHA-256 of `encode_state(books)`."""
    return hashlib.sha256(encode_state(books)).hexdigest()
