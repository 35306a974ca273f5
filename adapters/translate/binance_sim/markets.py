"""The simulated Binance markets: spot and USDⓈ-M futures symbols, their ticks, lots and starting prices."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Market:
    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    price: Decimal  # where the day starts
    min_lots: int
    max_lots: int


SPOT_MARKETS = {
    m.symbol: m
    for m in (
        Market("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("60000.00"), 10, 5000),
        Market("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("3000.00"), 10, 10000),
        Market("BNBUSDT", "BNB", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("600.00"), 10, 5000),
        Market("ETHBTC", "ETH", "BTC", Decimal("0.00001"), Decimal("0.0001"), Decimal("0.05000"), 10, 10000),
    )
}
SPOT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
FUTURES_MARKETS = {
    m.symbol: m
    for m in (
        Market("BTCUSDT", "BTC", "USDT", Decimal("0.1"), Decimal("0.001"), Decimal("60000.0"), 1, 1000),
        Market("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("3000.00"), 1, 1000),
    )
}
FUTURES_SYMBOLS = ("BTCUSDT", "ETHUSDT")
QUARTERLY = "BTCUSDT_260327"  # listed in futures_exchange_info beside the perpetuals
QUARTERLY_DELIVERY_MS = calendar.timegm((2026, 3, 27, 8, 0, 0)) * 1000
PERPETUAL_DELIVERY_MS = 4_133_404_800_000  # 2100-12-25, as Binance dates a perpetual's delivery
