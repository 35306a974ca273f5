"""The commands' input checks: each turns a bad value into a one-line `RequestRefused` naming the field
(the edge of the ledger: nothing is decided on a value these did not pass)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from pydantic import ValidationError

from kernel import events as ev
from kernel.errors import RequestRefused
from kernel.schema.order_spec import UINT64_MAX, StandardOrder, check_input_bounds, to_decimal
from kernel.spec_check import plainly_valid


def decimal_field(name: str, value: Any, *, positive: bool = False, non_negative: bool = False) -> Decimal:
    try:
        number = check_input_bounds(value if type(value) is Decimal and value.is_finite() else to_decimal(value))
    except ValueError as e:
        raise RequestRefused(name, str(e)) from None
    if positive and number <= 0:
        raise RequestRefused(name, f"must be > 0, got {number}")
    if non_negative and number < 0:
        raise RequestRefused(name, f"must be >= 0, got {number}")
    return number


def ns_field(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT64_MAX:
        raise RequestRefused(name, f"must be integer nanoseconds since the epoch (0..2^64-1), got {value!r}")
    return value


def text_field(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestRefused(name, f"must be a non-empty string, got {value!r}")
    return value


def from_pydantic(model: type, data: Any, prefix: str = "") -> Any:
    """Validate with a pydantic model; the first error becomes a one-line `RequestRefused`."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)  # type: ignore[attr-defined]
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        field, sep, rest = msg.partition(": ")
        if sep and " " not in field:  # our validators say "field: reason"
            loc, msg = ".".join(p for p in (loc, field) if p), rest
        raise RequestRefused(prefix + loc if loc else prefix.rstrip(".") or "input", msg) from None


def order_spec(order: StandardOrder) -> ev.OrderSpec:
    """The stored form of an order, its numbers held to the same input bounds as the fills against it."""
    check_order_bounds(order)
    return ev.OrderSpec.from_standard(order)


def check_order_spec(order: ev.OrderSpec) -> None:
    """An order spec in its stored form (a translator's) checked like a placed order's: as a
    `StandardOrder`, then its numbers' bounds. A spec plainly valid (exact types, every rule kept) passes
    without pydantic; anything else takes the full path, which says what is wrong."""
    if not plainly_valid(order):
        check_order_bounds(from_pydantic(StandardOrder, msgspec.to_builtins(order), "order."))


def check_order_bounds(order: StandardOrder | ev.OrderSpec) -> None:
    for name in ("quantity", "price", "stop_price"):
        value = getattr(order, name)
        if value is not None:
            try:
                check_input_bounds(value)
            except ValueError as e:
                raise RequestRefused(f"order.{name}", str(e)) from None
