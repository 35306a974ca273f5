"""What the ccxt translator tests share: the manual's markets, orders and trades, and shortcuts."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from adapters.translate.base import OrderFact, OrderRef
from adapters.translate.ccxt_unified import load_markets
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType

D = Decimal
T0 = 1502962946216  # ms, the manual's example times
T1 = 1502962956216


def line(value: Any) -> bytes:
    return json.dumps(value).encode()


# ------------------------------------------------------------------------------ markets (ccxt's structure)
def market(symbol: str, market_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    settle = settle.split("-")[0] or None
    m = {
        "id": market_id, "symbol": symbol, "base": base, "quote": quote, "settle": settle,
        "baseId": base.lower(), "quoteId": quote.lower(), "settleId": settle.lower() if settle else None,
        "active": True, "type": kind, "spot": kind == "spot", "margin": False, "swap": kind == "swap",
        "future": kind == "future", "option": kind == "option", "contract": kind != "spot",
        "contractSize": None, "linear": None, "inverse": None, "expiry": None, "expiryDatetime": None,
        "strike": None, "optionType": None, "taker": 0.001, "maker": 0.001, "percentage": True,
        "tierBased": False, "precision": {"amount": 0.0001, "price": 0.01}, "limits": {}, "info": {},
    }  # fmt: skip
    m.update(fields)
    return m


MARKETS = {
    "ETH/BTC": market("ETH/BTC", "ETHBTC", "spot", precision={"amount": 0.0001, "price": 0.000001}),
    "BTC/USDT": market("BTC/USDT", "BTCUSDT", "spot", precision={"amount": 0.00001, "price": 0.01}),
    "BTC/USDT:USDT": market("BTC/USDT:USDT", "BTCUSDT_PERP", "swap", linear=True, inverse=False, contractSize=0.001,
                            precision={"amount": 1.0, "price": 0.1}),
    "BTC/USD:BTC": market("BTC/USD:BTC", "BTCUSD_PERP", "swap", linear=False, inverse=True, contractSize=100,
                          precision={"amount": 1.0, "price": 0.5}),
    "BTC/USDT:USDT-260327": market("BTC/USDT:USDT-260327", "BTCUSDT_260327", "future", linear=True, inverse=False,
                                   contractSize=1, expiry=1774598400000, precision={"amount": 0.001, "price": 0.1}),
}  # fmt: skip
SPECS = load_markets(line(MARKETS))
INSTRUMENTS = {spec.symbol: spec for spec in SPECS}


def fact(cls: type[ev.OrderEvent], ts_ms: int, **fields: Any) -> ev.OrderEvent:
    return cls(account_id="", intent_id="", ts_event=ts_ms * 1_000_000, ts_recorded=0, **fields)


def order(status: str | None, **fields: Any) -> dict[str, Any]:
    """The manual's order structure."""
    o = {
        "id": "12345-67890:09876/54321", "clientOrderId": "abcdef-ghijklmnop-qrstuvwxyz",
        "datetime": "2017-08-17T12:42:26.216Z", "timestamp": T0, "lastTradeTimestamp": None,
        "lastUpdateTimestamp": None, "status": status, "symbol": "ETH/BTC", "type": "limit", "timeInForce": "GTC",
        "side": "buy", "price": 0.06917684, "average": None, "amount": 1.5, "filled": 0.0, "remaining": 1.5,
        "cost": 0.0, "trades": [], "fee": None, "fees": [], "reduceOnly": None, "postOnly": False,
        "stopPrice": None, "triggerPrice": None, "takeProfitPrice": None, "stopLossPrice": None,
        "info": {"orderId": 54321, "status": str(status).upper()},
    }  # fmt: skip
    o.update(fields)
    return o


def trade(**fields: Any) -> dict[str, Any]:
    """The manual's trade structure."""
    t = {
        "info": {"id": 1}, "id": "12345-67890:09876/54321", "timestamp": T0, "datetime": "2017-08-17T12:42:26.216Z",
        "symbol": "ETH/BTC", "order": "12345-67890:09876/54321", "type": "limit", "side": "buy",
        "takerOrMaker": "taker", "price": 0.06917684, "amount": 1.5, "cost": 0.10376526,
        "fee": {"cost": 0.0015, "currency": "ETH", "rate": 0.002}, "fees": [{"cost": 0.0015, "currency": "ETH"}],
    }  # fmt: skip
    t.update(fields)
    return t


EID = "12345-67890:09876/54321"
SPEC = ev.OrderSpec(symbol="ETH/BTC", side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("1.5"),
                    price=D("0.06917684"))  # fmt: skip
REF = OrderRef(symbol="ETH/BTC", client_order_id="abcdef-ghijklmnop-qrstuvwxyz", exchange_order_id=EID, order=SPEC)
ACCEPTED = OrderFact(REF, fact(ev.OrderAccepted, T0, exchange_order_id=EID))


def terms(ref: OrderRef, ts_ms: int) -> OrderFact:
    """The order's terms as a snapshot updated at `ts_ms` shows them: an amend if they changed."""
    assert ref.order is not None
    return OrderFact(ref, fact(ev.AmendAccepted, ts_ms, quantity=ref.order.quantity, price=ref.order.price,
                               exec_id=f"{ref.exchange_order_id}:AMENDED@{ts_ms}"), if_changed=True)  # fmt: skip
