"""Strict readers of the values in ccxt's JSON: a value missing or malformed is untranslatable, with a
one-line reason naming the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from adapters.translate.base import Instruments, Untranslatable, decimal_of
from kernel import events as ev
from kernel.schema.order_spec import UINT64_MAX, check_input_bounds

_decoder = msgspec.json.Decoder(float_hook=Decimal)
_ZERO = Decimal(0)
_MS_MAX = UINT64_MAX // 1_000_000  # the latest ms whose ns fit the ledger's times


# ------------------------------------------------------------------------------ small strict readers
def _ms(value: object, field: str) -> int:
    """ccxt's integer milliseconds, as ns."""
    if value is None:
        raise Untranslatable(f"{field} is missing: a fact needs the time it happened")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MS_MAX:
        raise Untranslatable(f"{field} is not integer milliseconds: {value!r}")
    return value * 1_000_000


def _bounded(number: Decimal, field: str) -> Decimal:
    try:
        return check_input_bounds(number)
    except ValueError as e:
        raise Untranslatable(f"{field} is {e}") from None


def _positive(value: object, field: str) -> Decimal:
    if value is None:
        raise Untranslatable(f"{field} is missing")
    number = decimal_of(value, field)
    if number <= 0:
        raise Untranslatable(f"{field} must be > 0, got {number}")
    return _bounded(number, field)


def _optional_positive(value: object, field: str) -> Decimal | None:
    """A number that may be absent (None); present, it must be a decimal; None unless it is > 0."""
    if value is None:
        return None
    number = decimal_of(value, field)
    return _bounded(number, field) if number > 0 else None


def _text(value: object, field: str) -> str:
    """An identifier: a non-empty string (an integer is taken as its digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    if value is None or value == "":
        raise Untranslatable(f"{field} is missing")
    raise Untranslatable(f"{field} is not a string: {value!r}")


def _instrument(symbol: object, instruments: Instruments, field: str = "symbol") -> ev.InstrumentSpec:
    if symbol is None:
        raise Untranslatable(f"{field} is missing")
    spec = instruments.get(symbol) if isinstance(symbol, str) else None
    if spec is None:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    return spec


def _dict(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Untranslatable(f"{field} is not an object: {_brief(value)}")
    return value


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
