"""The projections' arithmetic: the kernel's decimal contexts, and the canonical text of a decimal.

Python's `Decimal` follows the *thread's* context (28 digits unless someone changed it), so the same
fold could give different digits in two processes. Every fold here runs under `ARITHMETIC` instead
(`exact` wraps the public entry points), and every division goes through `div`. Both contexts are the
kernel's own (`kernel.order`), so an order folded here and in the kernel has the same digits:

- `ARITHMETIC`: 2 × (24 + 24) + 4 = 100 significant digits, ROUND_HALF_EVEN. Sums and products of the
  ledger's bounded inputs (at most 24 integer digits and 24 places each) are exact in it.
- `QUOTIENT`: 28 significant digits, ROUND_HALF_EVEN, for every quotient (average entry price, inverse
  PnL, a fee split pro rata, margin ÷ leverage, margin level, average fill price). A quotient is rounded
  once, to 28 significant digits, and is then an ordinary exact decimal in later sums and products.

Both trap InvalidOperation, DivisionByZero and Overflow: a fold never silently produces NaN or Infinity.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext
from functools import wraps
from typing import ParamSpec, TypeVar

from kernel.order import ARITHMETIC, QUOTIENT

__all__ = ["ARITHMETIC", "ONE", "QUOTIENT", "ZERO", "canonical_decimal", "div", "exact"]

ARITHMETIC_DIGITS = ARITHMETIC.prec
QUOTIENT_DIGITS = QUOTIENT.prec

ZERO = Decimal(0)
ONE = Decimal(1)

P = ParamSpec("P")
R = TypeVar("R")


def div(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator ÷ denominator, rounded once to `QUOTIENT_DIGITS` significant digits, half-even."""
    return QUOTIENT.divide(numerator, denominator)


def exact(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` under the `ARITHMETIC` context, whatever the caller's thread context is."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(ARITHMETIC):
            return fn(*args, **kwargs)

    return wrapper


_TEXTS: dict[Decimal, str] = {}  # value -> canonical text (equal values have one text, so a value is the key)
_TEXTS_MAX = 1 << 16


def canonical_decimal(number: Decimal) -> str:
    """The one text of a decimal value: plain notation (no exponent), no trailing zeros after the point,
    no point when whole, and zero without a sign. So `1.0`, `1.00` and `1` all read `"1"`, `-0.000` reads
    `"0"` and `1E+3` reads `"1000"`. Context-free: formatting with "f" and no precision never rounds.

    The text depends on the value only, and equal decimals are equal dict keys whatever their exponent,
    so the texts are memoized by value (a bounded cache: the hash runs it for every decimal of every
    order, and prices and quantities repeat)."""
    try:
        text = _TEXTS.get(number)
    except TypeError:  # a signaling NaN cannot be hashed
        return _canonical_text(number)
    if text is None:
        text = _canonical_text(number)
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        _TEXTS[number] = text
    return text


def _canonical_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
