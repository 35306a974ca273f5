"""The order specification and the exact scalar types the seed models are written in.

`Float` is the seed's name for a *number*, and here it is an exact decimal: `decimal.Decimal` in
Python, a decimal string on the wire. NaN and infinities are refused. Binary floats are accepted
only as input at the edges, through their shortest repr (`0.1` -> `Decimal("0.1")`), never stored.

`Uint64` is an unsigned 64-bit integer; every time in the ledger is one: nanoseconds since the
Unix epoch, UTC.
"""

from __future__ import annotations

import warnings
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    model_validator,
)

UINT64_MAX = 2**64 - 1
# Bounds on every decimal a caller gives the ledger (see check_input_bounds).
DECIMAL_DIGITS_MAX = 24  # integer digits
DECIMAL_PLACES_MAX = 24  # digits after the point


def to_decimal(value: Any) -> Decimal:
    """Parse an exact decimal; refuse NaN, infinities, booleans and non-numbers."""
    if isinstance(value, bool):
        raise ValueError("must be a decimal number, not a boolean")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr gives the shortest string that round-trips: 0.1 -> "0.1", not 0.1000000000000000055...
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"must be a decimal number, not {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"must be finite, got {value!r}")
    return number


def check_input_bounds(number: Decimal) -> Decimal:
    """What a caller may give the ledger: bounded, so that a product of two inputs (quantity x price)
    stays exact in the ledger's arithmetic and nothing can overflow it. Computed values (averages,
    ratios) are not held to this."""
    if number and number.adjusted() >= DECIMAL_DIGITS_MAX:
        raise ValueError(f"too large: at most {DECIMAL_DIGITS_MAX} integer digits, got {number}")
    if number.as_tuple().exponent < -DECIMAL_PLACES_MAX:  # type: ignore[operator]
        raise ValueError(f"more than {DECIMAL_PLACES_MAX} decimal places: {number}")
    return number


def to_uint64(value: Any) -> Any:
    """Integers and digit strings; never booleans or floats (a float timestamp has lost its nanoseconds)."""
    if isinstance(value, bool | float):
        raise ValueError(f"must be integer nanoseconds since the epoch, not {type(value).__name__}")
    return value


# The seed writes `Balance.borrowed: Float = Field(default=0.0)`: validating defaults turns that float
# into Decimal("0.0"). Inside `Float | None` the flag is meaningless and pydantic says so; silence that.
warnings.filterwarnings("ignore", message="The 'validate_default' attribute", module="pydantic")

Float = Annotated[
    Decimal,
    BeforeValidator(to_decimal),
    PlainSerializer(lambda d: str(d), return_type=str, when_used="json"),
    Field(validate_default=True),
]
"""An exact decimal (the seed's historic name for it): Decimal in Python, string in JSON."""

Uint64 = Annotated[int, BeforeValidator(to_uint64), Field(ge=0, le=UINT64_MAX)]
"""Unsigned 64-bit integer; for times: nanoseconds since the Unix epoch, UTC."""


class AssetType(StrEnum):
    CURRENCY = "CURRENCY"
    SPOT = "SPOT"
    MARGIN = "MARGIN"
    PERPETUAL = "PERPETUAL"
    FUTURE = "FUTURE"
    INVERSE_PERPETUAL = "INVERSE_PERPETUAL"
    INVERSE_FUTURE = "INVERSE_FUTURE"
    OPTION = "OPTION"


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"
    DAY = "DAY"


class StandardOrderStatus(StrEnum):
    """FIX 4.4 OrdStatus (tag 39) names; the allowed moves are `kernel.lifecycle.TRANSITIONS`."""

    PENDING_NEW = "PENDING_NEW"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


PRICED_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


class StandardOrder(BaseModel):
    """What a strategy asks the exchange for. Validated here, so a bad request never reaches a log."""

    model_config = {"extra": "forbid", "frozen": True}

    symbol: str = Field(min_length=1, description="Exchange symbol, e.g. BTCUSDT")
    side: OrderSide
    order_type: OrderType
    quantity: Float = Field(description="Order quantity in base units or contracts; > 0")
    price: Float | None = Field(default=None, description="Limit price; required for LIMIT, STOP_LIMIT")
    stop_price: Float | None = Field(default=None, description="Trigger price; required for STOP, STOP_LIMIT")
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    expire_at: Uint64 | None = Field(default=None, description="Expiry for GTD orders, ns since epoch UTC")

    @model_validator(mode="after")
    def _check_rules(self) -> StandardOrder:
        if self.quantity <= 0:
            raise ValueError("quantity: must be > 0")
        if self.order_type in PRICED_TYPES and self.price is None:
            raise ValueError(f"price: required for a {self.order_type} order")
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise ValueError("price: a MARKET order takes no price")
        if self.order_type in STOP_TYPES and self.stop_price is None:
            raise ValueError(f"stop_price: required for a {self.order_type} order")
        for name in ("price", "stop_price"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name}: must be > 0")
        if self.time_in_force is TimeInForce.GTD and self.expire_at is None:
            raise ValueError("expire_at: required for a GTD order")
        if self.post_only and self.order_type is OrderType.MARKET:
            raise ValueError("post_only: a MARKET order cannot be post-only")
        return self
