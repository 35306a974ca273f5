"""What the Binance translator tests share: instruments, message builders and shortcuts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from adapters.translate.base import AccountFact, OrderFact, OrderRef, Translation
from adapters.translate.binance import (
    translate_futures,
    translate_spot,
)
from kernel import events as ev
from kernel.schema.order_spec import AssetType, OrderSide, OrderType, TimeInForce

D = Decimal
MS = 1_000_000  # ns per ms


def spec(symbol: str, side: str, order_type: str, quantity: str, price: str | None = None, stop: str | None = None,
         tif: str = "GTC", **flags: Any) -> ev.OrderSpec:  # fmt: skip
    return ev.OrderSpec(symbol=symbol, side=OrderSide(side), order_type=OrderType(order_type), quantity=D(quantity),
                        price=None if price is None else D(price), stop_price=None if stop is None else D(stop),
                        time_in_force=TimeInForce(tif), **flags)  # fmt: skip


def instrument(symbol: str, asset_type: AssetType = AssetType.SPOT) -> ev.InstrumentSpec:
    return ev.InstrumentSpec(asset_id=symbol, symbol=symbol, asset_type=asset_type, name=symbol)


SPOT = {s: instrument(s) for s in ("ETHBTC", "BTCUSDT")}
FUTURES = {s: instrument(s, AssetType.PERPETUAL) for s in ("BTCUSDT", "ETHUSDT")}
PLACEHOLDERS = {"account_id": "", "intent_id": "", "ts_recorded": 0}


def raw(message: dict[str, Any]) -> bytes:
    return msgspec.json.encode(message)


def spot(message: dict[str, Any]) -> Translation:
    return translate_spot(raw(message), SPOT)


def futures(message: dict[str, Any]) -> Translation:
    return translate_futures(raw(message), FUTURES)


def only(translation: Translation) -> OrderFact | AccountFact:
    assert len(translation.facts) == 1, translation
    return translation.facts[0]


def execution_report(**fields: Any) -> dict[str, Any]:
    """The docs' executionReport, field by field (values ours): a LIMIT BUY of 1.25 ETH at 0.03125 BTC."""
    message = {
        "e": "executionReport",            # Event type
        "E": 1767600000123,                # Event time
        "s": "ETHBTC",                     # Symbol
        "c": "web_cl1",                    # Client order ID
        "S": "BUY",                        # Side
        "o": "LIMIT",                      # Order type
        "f": "GTC",                        # Time in force
        "q": "1.25000000",                 # Order quantity
        "p": "0.03125000",                 # Order price
        "P": "0.00000000",                 # Stop price
        "F": "0.00000000",                 # Iceberg quantity
        "g": -1,                           # OrderListId
        "C": "",                           # Original client order ID; the ID of the order being canceled
        "x": "NEW",                        # Current execution type
        "X": "NEW",                        # Current order status
        "r": "NONE",                       # Order reject reason
        "i": 4293153,                      # Order ID
        "l": "0.00000000",                 # Last executed quantity
        "z": "0.00000000",                 # Cumulative filled quantity
        "L": "0.00000000",                 # Last executed price
        "n": "0",                          # Commission amount
        "N": None,                         # Commission asset
        "T": 1767600000120,                # Transaction time
        "t": -1,                           # Trade ID
        "I": 8641984,                      # Execution Id
        "w": True,                         # Is the order on the book?
        "m": False,                        # Is this trade the maker side?
        "M": False,                        # Ignore
        "O": 1767600000120,                # Order creation time
        "Z": "0.00000000",                 # Cumulative quote asset transacted quantity
        "Y": "0.00000000",                 # Last quote asset transacted quantity
        "Q": "0.00000000",                 # Quote Order Quantity
        "W": 1767600000120,                # Working Time
        "V": "EXPIRE_MAKER",               # SelfTradePreventionMode
    }  # fmt: skip
    message.update(fields)
    return message


T_NS = 1767600000120 * MS
LIMIT_BUY = spec("ETHBTC", "BUY", "LIMIT", "1.25", "0.03125")
REF = OrderRef(symbol="ETHBTC", client_order_id="web_cl1", exchange_order_id="4293153", order=LIMIT_BUY)


def order_update(**fields: Any) -> dict[str, Any]:
    """The docs' ORDER_TRADE_UPDATE, field by field (values ours): a LIMIT SELL of 0.010 BTCUSDT at 61000.5."""
    order = {
        "s": "BTCUSDT",                 # Symbol
        "c": "TEST",                    # Client Order Id
        "S": "SELL",                    # Side
        "o": "LIMIT",                   # Order Type
        "f": "GTC",                     # Time in Force
        "q": "0.010",                   # Original Quantity
        "p": "61000.5",                 # Original Price
        "ap": "0",                      # Average Price
        "sp": "0",                      # Stop Price
        "x": "NEW",                     # Execution Type
        "X": "NEW",                     # Order Status
        "i": 8886774,                   # Order Id
        "l": "0",                       # Order Last Filled Quantity
        "z": "0",                       # Order Filled Accumulated Quantity
        "L": "0",                       # Last Filled Price
        "T": 1767600000650,             # Order Trade Time
        "t": 0,                         # Trade Id
        "b": "0",                       # Bids Notional
        "a": "610.005",                 # Ask Notional
        "m": False,                     # Is this trade the maker side?
        "R": False,                     # Is this reduce only
        "wt": "CONTRACT_PRICE",         # Stop Price Working Type
        "ot": "LIMIT",                  # Original Order Type
        "ps": "BOTH",                   # Position Side
        "cp": False,                    # If Close-All, pushed with conditional order
        "rp": "0",                      # Realized Profit of the trade
        "pP": False,                    # If price protection is turned on
        "si": 0,                        # ignore
        "ss": 0,                        # ignore
        "V": "EXPIRE_TAKER",            # STP mode
        "pm": "NONE",                   # Price match mode
        "gtd": 0,                       # TIF GTD order auto cancel time
    }  # fmt: skip
    order.update(fields)
    return {"e": "ORDER_TRADE_UPDATE", "E": 1767600000651, "T": 1767600000650, "o": order}


F_NS = 1767600000650 * MS
LIMIT_SELL = spec("BTCUSDT", "SELL", "LIMIT", "0.010", "61000.5")
F_REF = OrderRef(symbol="BTCUSDT", client_order_id="TEST", exchange_order_id="8886774", order=LIMIT_SELL)
