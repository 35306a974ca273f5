"""A fast path for the commonest check of an ingest: an order spec a translator built, which the ledger
holds to the rules of a placed order (`StandardOrder`, then the input bounds of its numbers).

Validating through pydantic costs tens of microseconds per new order. A spec whose fields already have
exactly the types `StandardOrder` would produce, and which keeps every rule, is accepted here; anything
else is left to the full path, which also says what is wrong. So this may only ever say "valid" where
the full path agrees (pinned by a property test), never refuse.
"""

from __future__ import annotations

from decimal import Decimal

from kernel import events as ev
from kernel.schema.order_spec import (
    PRICED_TYPES,
    STOP_TYPES,
    UINT64_MAX,
    OrderSide,
    OrderType,
    TimeInForce,
    check_input_bounds,
)


def plainly_valid(o: ev.OrderSpec) -> bool:
    """True only where `StandardOrder` and the input bounds accept the spec; False means "not sure"."""
    order_type, time_in_force = o.order_type, o.time_in_force
    if not (type(o.symbol) is str and o.symbol and type(o.side) is OrderSide and type(order_type) is OrderType
            and type(time_in_force) is TimeInForce and type(o.reduce_only) is bool
            and type(o.post_only) is bool):  # fmt: skip
        return False
    expire_at = o.expire_at
    if expire_at is None:
        if time_in_force is TimeInForce.GTD:
            return False
    elif not (type(expire_at) is int and 0 <= expire_at <= UINT64_MAX):
        return False
    price, stop_price = o.price, o.stop_price
    if order_type in PRICED_TYPES and price is None:
        return False
    if order_type is OrderType.MARKET and (price is not None or o.post_only):
        return False
    if order_type in STOP_TYPES and stop_price is None:
        return False
    if not _positive_in_bounds(o.quantity):
        return False
    return (price is None or _positive_in_bounds(price)) and (stop_price is None or _positive_in_bounds(stop_price))


def _positive_in_bounds(number: object) -> bool:
    if not (type(number) is Decimal and number.is_finite() and number > 0):
        return False
    try:
        check_input_bounds(number)
    except ValueError:
        return False
    return True
