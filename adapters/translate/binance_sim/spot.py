"""A simulated Binance spot day.

The spot day: balanceUpdate deposits (USDT, BTC, ETH, BNB) and one withdrawal; per order a NEW, then one of:
filled in one to three TRADEs (commission in the bought asset, in the quote asset when selling, or in BNB),
partly filled then CANCELED, CANCELED, REJECTED, amended (REPLACED, reducing the quantity, sometimes under a new
client order id) then filled or canceled, an IOC partly filled then EXPIRED, a MARKET order filled or EXPIRED
for lack of liquidity, expired by self-trade prevention (TRADE_PREVENTION, EXPIRED_IN_MATCH), cut by a
DECREMENT self-trade prevention then filled, or left working at the end of the day. An outboundAccountPosition
follows every change of balances or of what orders lock, and a last one lists every asset. Some messages come
wrapped as the WebSocket API sends them (`{"subscriptionId": 0, "event": ...}`), a few as a combined stream's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from adapters.translate.binance_sim.expected import ZERO, Expected, ExpectedOrder
from adapters.translate.binance_sim.markets import SPOT_MARKETS, SPOT_SYMBOLS, Market
from adapters.translate.binance_sim.stream import (
    _ROUNDING,
    S,
    _Clock,
    _exact,
    _lots,
    _round8,
    _split,
    _Stream,
    _text,
    _walk,
)
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, TimeInForce

SPOT_DEPOSITS = {"USDT": Decimal("2000000"), "BTC": Decimal("20"), "ETH": Decimal("400"), "BNB": Decimal("1000")}
MAX_WORKING = 20  # spot orders left working at once; the oldest is canceled beyond


# ------------------------------------------------------------------------------ spot
@dataclass
class _SpotOrder:
    client_id: str  # current (changes with an amend under a new id)
    placed_id: str  # the key in Expected.orders
    order_id: int
    market: Market
    side: str
    kind: str  # Binance order type
    tif: str
    quantity: Decimal
    price: Decimal  # 0 for MARKET
    stop: Decimal
    created: int
    filled: Decimal = ZERO
    quote: Decimal = ZERO
    status: str = "NEW"
    prevented: Decimal = ZERO


_SPOT_TYPES = {"LIMIT": (OrderType.LIMIT, False), "MARKET": (OrderType.MARKET, False),
               "LIMIT_MAKER": (OrderType.LIMIT, True), "STOP_LOSS_LIMIT": (OrderType.STOP_LIMIT, False)}  # fmt: skip


class _SpotDay:
    def __init__(self, seed: int, orders: int, expected: Expected, symbols: Iterable[str]):
        self.rng = rng = random.Random(seed)
        self.orders, self.expected = orders, expected
        self.markets = [SPOT_MARKETS[s] for s in symbols]
        self.prices = {m.symbol: m.price for m in self.markets}
        self.clock = _Clock(rng, orders * 7 + 16)
        self.stream = _Stream(rng, expected, wrapped=0.25, combined=0.05)
        self.totals: dict[str, Decimal] = {}
        self.working: dict[int, _SpotOrder] = {}
        self.next_order_id = 1_000_000 + rng.randrange(1_000_000)
        self.next_trade_id = {m.symbol: 100_000 + rng.randrange(100_000) for m in self.markets}
        self.next_execution_id = 5_000_000 + rng.randrange(1_000_000)
        self.seed = seed

    # -------------------------------------------------------------- balances
    def locked(self) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for o in self.working.values():
            remaining = o.quantity - o.prevented - o.filled
            if o.side == "SELL":
                held[o.market.base] = held.get(o.market.base, ZERO) + remaining
            elif o.kind != "MARKET":
                held[o.market.quote] = held.get(o.market.quote, ZERO) + remaining * o.price
        return held

    def position(self, assets: Iterable[str]) -> bytes:
        ts = self.clock.tick()
        locked = self.locked()
        balances = [{"a": a, "f": _text(self.totals.get(a, ZERO) - locked.get(a, ZERO), 8),
                     "l": _text(locked.get(a, ZERO), 8)} for a in dict.fromkeys(assets)]  # fmt: skip
        event = {"e": "outboundAccountPosition", "E": ts + 1, "u": ts, "B": balances}
        return self.stream.out(event, ts + 1)

    def move(self, asset: str, amount: Decimal) -> None:
        self.totals[asset] = self.totals.get(asset, ZERO) + amount

    def balance_update(self, asset: str, delta: Decimal) -> Iterator[bytes]:
        ts = self.clock.tick()
        self.move(asset, delta)
        yield self.stream.out({"e": "balanceUpdate", "E": ts + 2, "a": asset, "d": _text(delta, 8), "T": ts}, ts + 2)
        yield self.position([asset])

    # -------------------------------------------------------------- orders
    def report(self, o: _SpotOrder, x: str, ts: int, **extra: Any) -> bytes:
        """An executionReport in the docs' field order."""
        self.next_execution_id += 1
        last_qty, last_price = extra.pop("l", ZERO), extra.pop("L", ZERO)
        fee, fee_asset, trade_id = extra.pop("n", ZERO), extra.pop("N", None), extra.pop("t", -1)
        event: dict[str, Any] = {
            "e": "executionReport", "E": ts + 1, "s": o.market.symbol, "c": extra.pop("c", o.client_id),
            "S": o.side, "o": o.kind, "f": o.tif, "q": _text(o.quantity, 8), "p": _text(o.price, 8),
            "P": _text(o.stop, 8), "F": "0.00000000", "g": -1, "C": extra.pop("C", ""), "x": x, "X": o.status,
            "r": extra.pop("r", "NONE"), "i": o.order_id, "l": _text(last_qty, 8), "z": _text(o.filled, 8),
            "L": _text(last_price, 8), "n": _text(fee, 8) if fee else "0", "N": fee_asset, "T": ts, "t": trade_id,
            "I": self.next_execution_id, "w": o.status in ("NEW", "PARTIALLY_FILLED") and o.kind != "MARKET",
            "m": extra.pop("m", False), "M": False, "O": o.created, "Z": _text(o.quote, 8),
            "Y": _text(last_qty * last_price, 8), "Q": "0.00000000", "W": o.created, "V": "EXPIRE_MAKER",
        }  # fmt: skip
        event.update(extra)
        return self.stream.out(event, ts + 1)

    def new_order(self, n: int) -> _SpotOrder:
        rng = self.rng
        market = rng.choice(self.markets)
        price = self.prices[market.symbol] = _walk(rng, self.prices[market.symbol], market.tick)
        kind = rng.choices(("LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS_LIMIT"), (70, 15, 10, 5))[0]
        quantity = _lots(rng, market)
        available = self.totals.get(market.base, ZERO) - self.locked().get(market.base, ZERO)
        side = "SELL" if rng.random() < 0.5 and available >= quantity * 2 else "BUY"
        offset = market.tick * rng.randint(0, 20)
        limit = price - offset if side == "BUY" else price + offset
        stop = (price + offset + market.tick) if kind == "STOP_LOSS_LIMIT" else ZERO
        self.next_order_id += 1
        ts = self.clock.tick()
        cid = f"sim{self.seed}-{n:06d}"
        return _SpotOrder(cid, cid, self.next_order_id, market, side, kind, "GTC", quantity,
                          ZERO if kind == "MARKET" else limit, stop, ts)  # fmt: skip

    def expect(self, o: _SpotOrder) -> ExpectedOrder:
        kind, post_only = _SPOT_TYPES[o.kind]
        spec = ev.OrderSpec(symbol=o.market.symbol, side=OrderSide(o.side), order_type=kind, quantity=o.quantity,
                            price=o.price or None, stop_price=o.stop or None, time_in_force=TimeInForce(o.tif),
                            post_only=post_only)  # fmt: skip
        e = ExpectedOrder(o.placed_id, str(o.order_id), spec, S.NEW, o.quantity)
        self.expected.orders[o.placed_id] = e
        return e

    def trade(self, o: _SpotOrder, quantity: Decimal, price: Decimal, maker: bool) -> Iterator[bytes]:
        rng, market = self.rng, o.market
        o.filled += quantity
        o.quote += quantity * price
        o.status = "FILLED" if o.filled == o.quantity - o.prevented else "PARTIALLY_FILLED"
        notional = quantity * price
        roll = rng.random()
        if roll < 0.3:
            fee_asset = "BNB"
            fee = _round8(_ROUNDING.divide(notional * Decimal("0.00075"), self.prices.get("BNBUSDT", Decimal(600))))
            if market.quote == "BTC":
                fee = _round8(quantity * Decimal("0.00001"))
        elif o.side == "BUY":
            fee_asset, fee = market.base, _round8(quantity * Decimal("0.001"))
        else:
            fee_asset, fee = market.quote, _round8(notional * Decimal("0.001"))
        base_move, quote_move = (quantity, -notional) if o.side == "BUY" else (-quantity, notional)
        self.move(market.base, base_move)
        self.move(market.quote, quote_move)
        self.move(fee_asset, -fee)
        e = self.expected.orders[o.placed_id]
        e.filled += quantity
        e.trades += 1
        e.fees[fee_asset] = e.fees.get(fee_asset, ZERO) + fee
        self.next_trade_id[market.symbol] += 1
        if o.status == "FILLED":
            self.working.pop(o.order_id, None)
        ts = self.clock.tick()
        yield self.report(o, "TRADE", ts, l=quantity, L=price, n=fee, N=fee_asset,
                          t=self.next_trade_id[market.symbol], m=maker)  # fmt: skip
        yield self.position([market.base, market.quote, fee_asset])

    def fills(self, o: _SpotOrder, quantity: Decimal, parts: int) -> Iterator[bytes]:
        maker = o.kind != "MARKET" and self.rng.random() < 0.6
        for piece in _split(self.rng, quantity, o.market.step, parts):
            price = o.price if o.kind != "MARKET" else self.prices[o.market.symbol]
            if not maker and o.kind != "MARKET" and self.rng.random() < 0.5:  # a taker may get a better price
                better = o.price - o.market.tick if o.side == "BUY" else o.price + o.market.tick
                price = better if better > 0 else price
            yield from self.trade(o, piece, price, maker)

    def end(self, o: _SpotOrder, x: str, status: str, ledger: S, **extra: Any) -> Iterator[bytes]:
        o.status = status
        self.working.pop(o.order_id, None)
        self.expected.orders[o.placed_id].status = ledger
        yield self.report(o, x, self.clock.tick(), **extra)
        yield self.position([o.market.base, o.market.quote])

    def top_up(self) -> Iterator[bytes]:
        """Deposits before an asset runs short (a real account is funded; the ledger does not care)."""
        locked = self.locked()
        for asset, amount in SPOT_DEPOSITS.items():
            if self.totals.get(asset, ZERO) - locked.get(asset, ZERO) < amount / 4:
                yield from self.balance_update(asset, amount)

    def cancel_oldest(self) -> Iterator[bytes]:
        """The strategy cancels its oldest working order when too many work at once."""
        while len(self.working) > MAX_WORKING:
            o = next(iter(self.working.values()))
            yield from self.end(o, "CANCELED", "CANCELED", S.CANCELED, c=f"cancel-{o.placed_id}", C=o.client_id)

    def run_order(self, n: int) -> Iterator[bytes]:
        rng = self.rng
        yield from self.top_up()
        o = self.new_order(n)
        e = self.expect(o)
        if o.kind == "MARKET":
            outcome = rng.choices(("filled", "no_liquidity"), (85, 15))[0]
        else:
            outcome = rng.choices(
                ("filled", "partial_cancel", "cancel", "rejected", "amend", "ioc", "stp_expire", "stp_decrement",
                 "open"), (35, 12, 12, 5, 12, 6, 4, 4, 10))[0]  # fmt: skip
        if outcome == "rejected":
            o.status = "REJECTED"
            e.status = S.REJECTED
            yield self.report(o, "REJECTED", self.clock.tick(), r="INSUFFICIENT_BALANCES")
            return
        if outcome == "ioc":
            o.tif = "IOC"
            e.order = msgspec.structs.replace(e.order, time_in_force=TimeInForce.IOC)
        self.working[o.order_id] = o
        yield self.report(o, "NEW", o.created)
        yield self.position([o.market.base, o.market.quote])
        lot = o.market.step
        if outcome == "filled":
            yield from self.fills(o, o.quantity, rng.randint(1, 3))
            e.status = S.FILLED
        elif outcome == "no_liquidity":
            part = lot * rng.randint(1, int(o.quantity / lot) - 1)
            yield from self.fills(o, part, 1)
            yield from self.end(o, "EXPIRED", "EXPIRED", S.EXPIRED, eR="INSUFFICIENT_LIQUIDITY")
        elif outcome in ("partial_cancel", "cancel"):
            if outcome == "partial_cancel":
                yield from self.fills(o, lot * rng.randint(1, int(o.quantity / lot) - 1), 2)
            yield from self.end(o, "CANCELED", "CANCELED", S.CANCELED, c=f"cancel{self.seed}-{n:06d}", C=o.client_id)
        elif outcome == "amend":
            new_quantity = lot * rng.randint(1, int(o.quantity / lot) - 1)
            new_id = f"sim{self.seed}-{n:06d}a" if rng.random() < 0.5 else o.client_id
            before, o.client_id, o.quantity = o.client_id, new_id, new_quantity
            e.quantity = new_quantity
            yield self.report(o, "REPLACED", self.clock.tick(), C=before)
            yield self.position([o.market.base, o.market.quote])
            if rng.random() < 0.6:
                yield from self.fills(o, o.quantity, rng.randint(1, 2))
                e.status = S.FILLED
            else:
                yield from self.end(o, "CANCELED", "CANCELED", S.CANCELED, c=f"cancel{self.seed}-{n:06d}",
                                    C=o.client_id)  # fmt: skip
        elif outcome == "ioc":
            yield from self.fills(o, lot * rng.randint(1, int(o.quantity / lot) - 1), 1)
            yield from self.end(o, "EXPIRED", "EXPIRED", S.EXPIRED, eR="UNFILLED_IOC_QUANTITY_EXPIRED")
        elif outcome == "stp_expire":
            prevented = o.quantity - o.filled
            o.prevented = prevented
            yield from self.end(o, "TRADE_PREVENTION", "EXPIRED_IN_MATCH", S.EXPIRED, v=self.rng.randrange(1, 99),
                                A=_text(prevented, 8), B=_text(prevented, 8), u=1, U=o.order_id + 7,
                                Cs=o.market.symbol, pl=_text(prevented, 8), pL=_text(o.price, 8),
                                pY=_text(prevented * o.price, 8), V="EXPIRE_TAKER")  # fmt: skip
        elif outcome == "stp_decrement":
            prevented = lot * rng.randint(1, int(o.quantity / lot) - 1)
            o.prevented = prevented
            e.quantity = o.quantity - prevented
            yield self.report(o, "TRADE_PREVENTION", self.clock.tick(), v=self.rng.randrange(1, 99),
                              A=_text(prevented, 8), B=_text(prevented, 8), u=1, U=o.order_id + 7,
                              Cs=o.market.symbol, pl=_text(prevented, 8), pL=_text(o.price, 8),
                              pY=_text(prevented * o.price, 8), V="DECREMENT")  # fmt: skip
            yield self.position([o.market.base, o.market.quote])
            yield from self.fills(o, o.quantity - prevented, 1)
            e.status = S.FILLED
        else:  # open: working at the end of the day, perhaps partly filled
            if rng.random() < 0.5:
                yield from self.fills(o, lot * rng.randint(1, int(o.quantity / lot) - 1), 1)
            e.status = S.PARTIALLY_FILLED if o.filled else S.NEW
            yield from self.cancel_oldest()

    def run(self) -> Iterator[bytes]:
        for asset, amount in SPOT_DEPOSITS.items():
            yield from self.balance_update(asset, amount)
        for n in range(self.orders):
            if n == self.orders // 2:
                yield from self.balance_update("USDT", Decimal("-1234.5"))
            yield from self.run_order(n)
        yield self.position(sorted(self.totals))
        exp = self.expected
        exp.balances = dict(sorted(self.totals.items()))
        locked = self.locked()
        exp.locked = {asset: locked.get(asset, ZERO) for asset in exp.balances}


def simulate_spot_day(seed: int, orders: int, expected: Expected | None = None,
                      symbols: Iterable[str] = SPOT_SYMBOLS) -> Iterator[bytes]:  # fmt: skip
    """The raw messages of one simulated Binance spot day with `orders` orders (see the module text); fills
    `expected` as it goes. Symbols must be in `SPOT_MARKETS` and quoted in USDT or BTC."""
    yield from _exact(_SpotDay(seed, orders, expected if expected is not None else Expected(), symbols).run())
