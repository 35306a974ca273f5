"""Deterministic Binance user data streams, for end-to-end tests and benchmarks.

`simulate_spot_day(seed, orders)` and `simulate_futures_day(seed, orders)` yield the raw messages (bytes, one
JSON event each, as `adapters.translate.binance` reads them) of one simulated trading day: the same seed and
order count give the same bytes. `spot_exchange_info(symbols)` and `futures_exchange_info(symbols)` give the
instrument files those streams trade.

`spot` and `futures` generate the two days (each module says what its day holds), `expected` is what the
ledger must end with, `markets` the simulated symbols and `exchange_info` their instrument files; `stream`
holds what both days share (the clock, the message envelopes, exact decimal text).
"""

from __future__ import annotations

from adapters.translate.binance_sim.exchange_info import futures_exchange_info, spot_exchange_info
from adapters.translate.binance_sim.expected import Expected, ExpectedOrder
from adapters.translate.binance_sim.futures import simulate_futures_day
from adapters.translate.binance_sim.markets import (
    FUTURES_MARKETS,
    FUTURES_SYMBOLS,
    QUARTERLY,
    QUARTERLY_DELIVERY_MS,
    SPOT_MARKETS,
    SPOT_SYMBOLS,
    Market,
)
from adapters.translate.binance_sim.spot import simulate_spot_day

__all__ = [
    "FUTURES_MARKETS",
    "FUTURES_SYMBOLS",
    "QUARTERLY",
    "QUARTERLY_DELIVERY_MS",
    "SPOT_MARKETS",
    "SPOT_SYMBOLS",
    "Expected",
    "ExpectedOrder",
    "Market",
    "expect_futures_day",
    "expect_spot_day",
    "futures_exchange_info",
    "simulate_futures_day",
    "simulate_spot_day",
    "spot_exchange_info",
]


def expect_spot_day(seed: int, orders: int) -> Expected:
    expected = Expected()
    for _ in simulate_spot_day(seed, orders, expected):
        pass
    return expected


def expect_futures_day(seed: int, orders: int) -> Expected:
    expected = Expected()
    for _ in simulate_futures_day(seed, orders, expected):
        pass
    return expected
