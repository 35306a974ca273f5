"""A deterministic simulated trading day in ccxt's unified structures, as the JSON lines the `ccxt` format
reads, with what the ledger should make of it.

`simulate_ccxt_day(seed, orders)` yields the lines: for each order its snapshots and its trades, all
orders interleaved in time; then one balance report. The day has what a poller of `fetch_order` and
`fetch_my_trades` sees: orders that stay open (some partly filled), fill (closed), are canceled (some
after partial fills), expire (IOC remainders) or are rejected; market and limit orders; fees in the
quote currency and in BNB; lines wrapped (`{"type": ..., "data": ...}`) and bare; and duplicates: a
stale snapshot polled again, a trade line delivered twice, a closed order listing its trades again.

`expect_ccxt_day(seed, orders)` says what the ledger should hold after ingesting them: each order's
status and filled quantity by exchange order id, the number of distinct trades, and the final balance
report's numbers.

Balances: ccxt's structures carry no deposits, so the ledger's spot balances start at zero and move only
by fills and fees. The simulated exchange reports exactly that (its totals are what the fills made them,
some negative, e.g. the USDT spent on buys), so the report agrees with the ledger's books; a real
exchange's report also holds the account's starting balance, which must reach the ledger another way.
`used` is what the day's open orders hold, as the ledger computes it: a buy reserves `remaining × price`
of the quote currency, a sell `remaining` of the base.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

DAY_START_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z
SYMBOLS = ("BTC/USDT", "ETH/USDT", "ETH/BTC")
OTHER_FEE_ASSET = "BNB"
# symbol -> (reference price, tick, lot, BNB price in the quote currency)
_MARKETS = {
    "BTC/USDT": (Decimal("60000"), Decimal("0.01"), Decimal("0.00001"), Decimal("600")),
    "ETH/USDT": (Decimal("3000"), Decimal("0.01"), Decimal("0.0001"), Decimal("600")),
    "ETH/BTC": (Decimal("0.05"), Decimal("0.00001"), Decimal("0.0001"), Decimal("0.01")),
}
_FEE_RATE = Decimal("0.001")
_BNB_FEE_RATE = Decimal("0.00075")
_FEE_STEP = Decimal("0.00000001")
_ORDER_GAP_MS = 30_000  # mean time between two orders' first snapshots
_encoder = msgspec.json.Encoder(decimal_format="number")
# fate -> (weight, ledger status); market orders always close
_FATES = {
    "open": (10, "NEW"),
    "open_partial": (10, "PARTIALLY_FILLED"),
    "closed": (35, "FILLED"),
    "canceled": (20, "CANCELED"),
    "expired": (10, "EXPIRED"),
    "rejected": (5, "REJECTED"),
}


@dataclass(frozen=True)
class CcxtDayExpectations:
    statuses: dict[str, str]  # exchange order id -> the ledger's status name (StandardOrderStatus)
    filled: dict[str, Decimal]  # exchange order id -> filled quantity
    trades: int  # distinct trade ids
    balances: dict[str, tuple[Decimal, Decimal]]  # asset -> (total, used) of the final balance report
    lines: int  # lines yielded, duplicates included


def _split(symbol: str) -> tuple[str, str]:
    pair = symbol.split(":")[0]
    b, q = pair.split("/")
    return b, q


def markets_json(symbols: tuple[str, ...] = SYMBOLS) -> bytes:
    """ccxt's `exchange.markets` (symbol -> market, TICK_SIZE precision) for the simulated symbols."""
    markets: dict[str, Any] = {}
    for symbol in symbols:
        _, tick, lot, _ = _MARKETS[symbol]
        base, quote = _split(symbol)
        markets[symbol] = {
            "id": base + quote, "symbol": symbol, "base": base, "quote": quote, "settle": None, "baseId": base,
            "quoteId": quote, "settleId": None, "type": "spot", "spot": True, "margin": False, "swap": False,
            "future": False, "option": False, "active": True, "contract": False, "linear": None, "inverse": None,
            "taker": _FEE_RATE, "maker": _FEE_RATE, "contractSize": None, "expiry": None, "expiryDatetime": None,
            "strike": None, "optionType": None, "precision": {"amount": lot, "price": tick},
            "limits": {"amount": {"min": lot, "max": None}, "price": {"min": tick, "max": None}},
            "info": {"symbol": base + quote, "status": "TRADING"},
        }  # fmt: skip
    return _encoder.encode(_floats(markets))


def _floats(value: Any) -> Any:
    """Decimals written as ccxt writes numbers (JSON floats: 12.0, 0.1), exactly."""
    if isinstance(value, Decimal):
        d = value.normalize()
        return d.quantize(Decimal("0.1")) if d == d.to_integral_value() else d
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


class _Day:
    def __init__(self, seed: int, orders: int, symbols: tuple[str, ...]):
        self.rng = random.Random(seed)
        self.symbols = symbols
        self.lines: list[tuple[int, int, Any]] = []  # (emit at ms, sequence, JSON value)
        self.statuses: dict[str, str] = {}
        self.filled: dict[str, Decimal] = {}
        self.totals: dict[str, Decimal] = {}
        self.used: dict[str, Decimal] = {}
        self.trade_ids: set[str] = set()
        for k in range(orders):
            self._order(seed, k)
        self._balance()

    # ------------------------------------------------------------------ emitting
    def _emit(self, at_ms: int, kind: str, data: dict[str, Any]) -> None:
        value = {"type": kind, "data": data} if self.rng.random() < 0.25 else data
        self.lines.append((at_ms, len(self.lines), _floats(value)))

    def _move(self, asset: str, amount: Decimal) -> None:
        self.totals[asset] = self.totals.get(asset, Decimal(0)) + amount

    # ------------------------------------------------------------------ one order
    def _order(self, seed: int, k: int) -> None:
        rng = self.rng
        symbol = rng.choice(self.symbols)
        reference, tick, lot, bnb_price = _MARKETS[symbol]
        base, quote = _split(symbol)
        side = rng.choice(("buy", "sell"))
        is_market = rng.random() < 0.15
        amount = lot * rng.randint(10, 2000)
        offset = reference * Decimal(rng.randint(-200, 200)) / 10_000
        price = (reference + offset).quantize(tick)
        names = list(_FATES)
        fate = "closed" if is_market else rng.choices(names, weights=[_FATES[n][0] for n in names])[0]
        eid = str(8_000_000 + k)
        t0 = DAY_START_MS + k * _ORDER_GAP_MS + rng.randint(0, _ORDER_GAP_MS - 1)
        order: dict[str, Any] = {
            "id": eid, "clientOrderId": f"sim{seed}-{k}", "datetime": _iso(t0), "timestamp": t0,
            "lastTradeTimestamp": None, "lastUpdateTimestamp": t0, "status": "open", "symbol": symbol,
            "type": "market" if is_market else "limit", "timeInForce": "IOC" if fate == "expired" else "GTC",
            "side": side, "price": None if is_market else price, "average": None, "amount": amount,
            "filled": Decimal(0), "remaining": amount, "cost": Decimal(0), "trades": [], "fee": None, "fees": [],
            "reduceOnly": None, "postOnly": False, "stopPrice": None, "triggerPrice": None, "takeProfitPrice": None,
            "stopLossPrice": None, "info": {"orderId": int(eid), "symbol": base + quote, "status": "NEW"},
        }  # fmt: skip
        self.statuses[eid] = _FATES[fate][1]
        if fate == "rejected":
            rejected = {**order, "status": "rejected", "remaining": Decimal(0),
                        "info": {**order["info"], "status": "REJECTED"}}  # fmt: skip
            self._emit(t0, "order", rejected)
            if rng.random() < 0.3:
                self._emit(t0 + rng.randint(1_000, 60_000), "order", rejected)  # polled again
            self.filled[eid] = Decimal(0)
            return
        if fate == "closed":
            fill_qty = amount
        elif fate == "open_partial" or fate in ("canceled", "expired") and rng.random() < 0.5:
            fill_qty = lot * rng.randint(1, int(amount / lot) - 1)  # partly filled
        else:
            fill_qty = Decimal(0)
        if not is_market:
            self._emit(t0, "order", order)  # the accept; a market order is first seen closed
        trades = self._trades(order, fill_qty, t0, reference, tick, lot, bnb_price)
        last = trades[-1]["timestamp"] if trades else t0
        done = last + rng.randint(1, 5_000)
        filled = sum((t["amount"] for t in trades), Decimal(0))
        cost = sum((t["amount"] * t["price"] for t in trades), Decimal(0))
        self.filled[eid] = filled
        final_status = {"open": "open", "open_partial": "open", "closed": "closed", "canceled": "canceled",
                        "expired": "expired"}[fate]  # fmt: skip
        final = {
            **order, "status": final_status, "lastUpdateTimestamp": done, "filled": filled,
            "remaining": amount - filled, "cost": cost, "average": (cost / filled).quantize(tick) if filled else None,
            "lastTradeTimestamp": last if trades else None,
            "info": {**order["info"], "status": final_status.upper(), "executedQty": filled},
        }  # fmt: skip
        if trades and rng.random() < 0.4:
            final["trades"] = trades  # listed again: the same trade ids record once
        if is_market or fate != "open" or rng.random() < 0.5:
            self._emit(t0 if is_market else done, "order", final)
        if rng.random() < 0.2:
            self._emit(done + rng.randint(1_000, 120_000), "order", order)  # a stale snapshot polled again
        if final_status == "open":
            remaining = amount - filled
            if side == "buy":
                self.used[quote] = self.used.get(quote, Decimal(0)) + remaining * price
            else:
                self.used[base] = self.used.get(base, Decimal(0)) + remaining

    def _trades(self, order: dict[str, Any], quantity: Decimal, t0: int, reference: Decimal, tick: Decimal,
                lot: Decimal, bnb_price: Decimal) -> list[dict[str, Any]]:  # fmt: skip
        rng = self.rng
        symbol, side, eid = order["symbol"], order["side"], order["id"]
        base, quote = _split(symbol)
        lots = int(quantity / lot)
        parts = min(lots, rng.randint(1, 3))
        cuts = sorted(rng.sample(range(1, lots), parts - 1)) if parts > 1 else []
        sizes = [b - a for a, b in zip([0, *cuts], [*cuts, lots], strict=True)] if lots else []
        trades = []
        at = t0
        for j, size in enumerate(sizes):
            at += rng.randint(1, 20_000)
            amount = lot * size
            if order["type"] == "market":
                price = (reference * (1 + Decimal(rng.randint(-50, 50)) / 10_000)).quantize(tick)
                maker = "taker"
            else:
                price = order["price"]
                maker = rng.choice(("maker", "taker"))
            cost = amount * price
            if rng.random() < 0.3:
                fee = {"cost": (cost * _BNB_FEE_RATE / bnb_price).quantize(_FEE_STEP, ROUND_HALF_EVEN),
                       "currency": OTHER_FEE_ASSET}  # fmt: skip
            else:
                fee = {"cost": (cost * _FEE_RATE).quantize(_FEE_STEP, ROUND_HALF_EVEN), "currency": quote,
                       "rate": _FEE_RATE}  # fmt: skip
            trade_id = f"{eid}-{j}"
            trade = {
                "info": {"id": trade_id, "orderId": int(eid), "qty": amount, "price": price},
                "timestamp": at, "datetime": _iso(at), "symbol": symbol, "id": trade_id, "order": eid,
                "type": order["type"], "side": side, "takerOrMaker": maker, "price": price, "amount": amount,
                "cost": cost, "fee": fee, "fees": [fee],
            }  # fmt: skip
            trades.append(trade)
            self.trade_ids.add(trade_id)
            self._emit(at, "trade", trade)
            if rng.random() < 0.1:
                self._emit(at + rng.randint(1, 60_000), "trade", trade)  # delivered twice
            sign = 1 if side == "buy" else -1
            self._move(base, sign * amount)
            self._move(quote, -sign * cost)
            self._move(fee["currency"], -fee["cost"])
        return trades

    # ------------------------------------------------------------------ the report
    def _balance(self) -> None:
        at = max((line[0] for line in self.lines), default=DAY_START_MS) + 1_000
        assets = sorted(set(self.totals) | set(self.used))
        total = {a: self.totals.get(a, Decimal(0)) for a in assets}
        used = {a: self.used.get(a, Decimal(0)) for a in assets}
        free = {a: total[a] - used[a] for a in assets}
        report: dict[str, Any] = {"info": {"updateTime": at, "accountType": "SPOT"}, "timestamp": at,
                                  "datetime": _iso(at)}  # fmt: skip
        for a in assets:
            report[a] = {"free": free[a], "used": used[a], "total": total[a]}
        report.update(free=free, used=used, total=total)
        self.lines.append((at, len(self.lines), _floats(report)))
        self.balances = {a: (total[a], used[a]) for a in assets}

    def encoded(self) -> Iterator[bytes]:
        for _, _, value in sorted(self.lines, key=lambda line: (line[0], line[1])):
            yield _encoder.encode(value)


def simulate_ccxt_day(seed: int = 1, orders: int = 100, symbols: tuple[str, ...] = SYMBOLS) -> Iterator[bytes]:
    """The day's JSON lines (without line endings), in time order; the same seed gives the same bytes."""
    return _Day(seed, orders, symbols).encoded()


def expect_ccxt_day(seed: int = 1, orders: int = 100, symbols: tuple[str, ...] = SYMBOLS) -> CcxtDayExpectations:
    """What the ledger should hold after ingesting `simulate_ccxt_day(seed, orders, symbols)`."""
    day = _Day(seed, orders, symbols)
    return CcxtDayExpectations(statuses=day.statuses, filled=day.filled, trades=len(day.trade_ids),
                               balances=day.balances, lines=len(day.lines))  # fmt: skip
