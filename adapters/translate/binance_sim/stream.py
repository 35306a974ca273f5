"""What both simulated days share: the day's clock, the stream that wraps, encodes and counts messages, exact
decimal text, and random prices and quantities in whole ticks and lots."""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext
from typing import Any

import msgspec

from adapters.translate.binance_sim.expected import Expected
from adapters.translate.binance_sim.markets import Market
from kernel.schema.order_spec import StandardOrderStatus

START_MS = calendar.timegm((2026, 1, 5, 0, 0, 0)) * 1000  # 2026-01-05T00:00:00Z
DAY_MS = 86_400_000
EIGHT_PLACES = Decimal("0.00000001")
_ROUNDING = Context(prec=60, rounding=ROUND_HALF_EVEN)
_encode = msgspec.json.encode
S = StandardOrderStatus


# ------------------------------------------------------------------------------ shared
def _text(number: Decimal, places: int | None = None) -> str:
    """Plain decimal text; with `places`, padded to that many places as Binance does (never rounded)."""
    if places is not None and number == number.quantize(Decimal(1).scaleb(-places), context=_ROUNDING):
        return format(number.quantize(Decimal(1).scaleb(-places), context=_ROUNDING), "f")
    return format(number, "f")


def _round8(number: Decimal) -> Decimal:
    return number.quantize(EIGHT_PLACES, context=_ROUNDING)


class _Clock:
    def __init__(self, rng: random.Random, messages_expected: int):
        self.rng = rng
        self.now = START_MS + rng.randrange(1000)
        self.gap = max(2, DAY_MS // max(1, messages_expected))

    def tick(self) -> int:
        self.now += 1 + self.rng.randrange(self.gap)
        return self.now


class _Stream:
    """Wraps and encodes events; counts them."""

    def __init__(self, rng: random.Random, expected: Expected, wrapped: float, combined: float):
        self.rng, self.expected = rng, expected
        self.wrapped, self.combined = wrapped, combined

    def out(self, event: dict[str, Any], ts: int) -> bytes:
        exp = self.expected
        exp.messages += 1
        exp.first_ts = exp.first_ts or ts
        exp.last_ts = ts
        roll = self.rng.random()
        if roll < self.combined:
            return _encode({"stream": "userData", "data": event})
        if roll < self.combined + self.wrapped:
            return _encode({"subscriptionId": 0, "event": event})
        return _encode(event)


def _walk(rng: random.Random, price: Decimal, tick: Decimal) -> Decimal:
    """The next price: a small random move, in whole ticks."""
    ticks = int(rng.gauss(0, 0.002) * float(price / tick))
    return max(tick, price + tick * ticks)


def _lots(rng: random.Random, market: Market) -> Decimal:
    return market.step * rng.randint(market.min_lots, market.max_lots)


def _split(rng: random.Random, quantity: Decimal, step: Decimal, parts: int) -> list[Decimal]:
    """`quantity` in up to `parts` positive pieces, each a multiple of `step`."""
    lots = int(quantity / step)
    parts = max(1, min(parts, lots))
    cuts = sorted(rng.sample(range(1, lots), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, lots]
    return [step * (b - a) for a, b in zip(bounds, bounds[1:], strict=False)]


def _exact(messages: Iterator[bytes]) -> Iterator[bytes]:
    """Run the generator's arithmetic exactly: a rounding anywhere but where it is asked for is a bug."""
    while True:
        with localcontext() as ctx:
            ctx.prec, ctx.traps[Inexact] = 100, True
            try:
                message = next(messages)
            except StopIteration:
                return
        yield message
