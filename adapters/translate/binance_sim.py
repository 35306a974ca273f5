"""Deterministic Binance user data streams, for end-to-end tests and benchmarks.

`simulate_spot_day(seed, orders)` and `simulate_futures_day(seed, orders)` yield the raw messages (bytes, one
JSON event each, as `adapters.translate.binance` reads them) of one simulated trading day: the same seed and
order count give the same bytes. `spot_exchange_info(symbols)` and `futures_exchange_info(symbols)` give the
instrument files those streams trade.

The spot day: balanceUpdate deposits (USDT, BTC, ETH, BNB) and one withdrawal; per order a NEW, then one of:
filled in one to three TRADEs (commission in the bought asset, in the quote asset when selling, or in BNB),
partly filled then CANCELED, CANCELED, REJECTED, amended (REPLACED, reducing the quantity, sometimes under a new
client order id) then filled or canceled, an IOC partly filled then EXPIRED, a MARKET order filled or EXPIRED
for lack of liquidity, expired by self-trade prevention (TRADE_PREVENTION, EXPIRED_IN_MATCH), cut by a
DECREMENT self-trade prevention then filled, or left working at the end of the day. An outboundAccountPosition
follows every change of balances or of what orders lock, and a last one lists every asset. Some messages come
wrapped as the WebSocket API sends them (`{"subscriptionId": 0, "event": ...}`), a few as a combined stream's.

The futures day (USDⓈ-M perpetuals, one-way mode): ACCOUNT_UPDATE deposits (USDT, BNB), orders that open,
increase, reduce, close (reduce-only) and flip positions, filled in one or two TRADEs (commission in USDT or
BNB), CANCELED, EXPIRED (a post-only GTX that would take, an IOC remainder),
AMENDMENT (a new price and quantity), each fill followed by its ACCOUNT_UPDATE (reason ORDER), FUNDING_FEE
ACCOUNT_UPDATEs for open positions, TRADE_LITE copies of some trades (skipped by the translator), and a last
ACCOUNT_UPDATE listing every asset and every symbol. Position sizes after an increasing fill are chosen so that
the average entry price is an exact decimal: the exchange's numbers are then exactly the ledger's own. No
ACCOUNT_CONFIG_UPDATE: the ledger records every LeverageSet (it has no idempotency key), so a stream with one
would not record nothing when ingested twice.

What the ledger must end with is computed beside the stream, by the ledger's documented rules (not by its
code): pass an `Expected()` and it is filled in as the stream is generated (complete once the iterator is
exhausted), or call `expect_spot_day` / `expect_futures_day`. Spot balances: deposits + what fills exchange -
commissions; locked: what working orders hold (a BUY its remaining quantity at its price, a SELL its remaining
quantity). Futures wallet: deposits + realized PnL - commissions + funding, per asset; positions: the sum of
signed fills, with the average entry price of the ledger's netting position. Every number the exchange reports
(f, l, wb, pa, ep) is exactly the expected one, so a reconciliation after ingesting the stream shows no
difference.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext
from typing import Any

import msgspec

from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, StandardOrderStatus, TimeInForce

ZERO = Decimal(0)
START_MS = calendar.timegm((2026, 1, 5, 0, 0, 0)) * 1000  # 2026-01-05T00:00:00Z
DAY_MS = 86_400_000
EIGHT_PLACES = Decimal("0.00000001")
_ROUNDING = Context(prec=60, rounding=ROUND_HALF_EVEN)
_encode = msgspec.json.encode
S = StandardOrderStatus


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

SPOT_DEPOSITS = {"USDT": Decimal("2000000"), "BTC": Decimal("20"), "ETH": Decimal("400"), "BNB": Decimal("1000")}
FUTURES_DEPOSITS = {"USDT": Decimal("1000000"), "BNB": Decimal("50")}
# Position sizes (in lots) an increasing fill may reach: 2^a 5^b, so that the average entry price, a quotient
# by the size, is an exact short decimal.
MAX_WORKING = 20  # spot orders left working at once; the oldest is canceled beyond
ENTRY_PLACES = 8  # futures: an increase that would give the average entry price more places closes instead
NICE_LOTS = tuple(sorted(n for n in {2**a * 5**b for a in range(10) for b in range(5)} if n <= 1000))


# ------------------------------------------------------------------------------ expectations
@dataclass
class ExpectedOrder:
    client_order_id: str  # the id it was placed under (the key in `Expected.orders`)
    exchange_order_id: str
    order: ev.OrderSpec  # as placed, before any amend
    status: StandardOrderStatus  # the ledger's status once the whole stream is recorded
    quantity: Decimal  # what the exchange holds at the end (after amends and self-trade prevention)
    filled: Decimal = ZERO
    trades: int = 0
    fees: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Expected:
    """What the ledger must hold once the stream is recorded."""

    orders: dict[str, ExpectedOrder] = field(default_factory=dict)  # by the client order id placed under
    balances: dict[str, Decimal] = field(default_factory=dict)  # asset -> total (futures: the wallet balance)
    locked: dict[str, Decimal] = field(default_factory=dict)  # spot: what working orders hold
    positions: dict[str, Decimal] = field(default_factory=dict)  # futures: symbol -> signed quantity
    entry_prices: dict[str, Decimal | None] = field(default_factory=dict)  # futures: None when flat
    realized_pnl: Decimal = ZERO  # futures: net of settlement-asset commissions, all symbols
    funding: Decimal = ZERO  # futures: the sum of funding payments
    messages: int = 0
    skipped: int = 0  # messages the translator skips by design (TRADE_LITE)
    first_ts: int = 0  # ms
    last_ts: int = 0


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


# ------------------------------------------------------------------------------ futures
@dataclass
class _Position:
    lots: int = 0  # signed
    entry: Decimal | None = None
    realized: Decimal = ZERO  # cumulative, before commissions (Binance's "cr")


@dataclass
class _FuturesOrder:
    client_id: str
    order_id: int
    market: Market
    side: str
    kind: str
    tif: str
    quantity: Decimal
    price: Decimal
    reduce_only: bool
    filled: Decimal = ZERO
    quote: Decimal = ZERO
    status: str = "NEW"


class _FuturesDay:
    def __init__(self, seed: int, orders: int, expected: Expected, symbols: Iterable[str]):
        self.rng = rng = random.Random(seed)
        self.seed, self.orders, self.expected = seed, orders, expected
        self.markets = [FUTURES_MARKETS[s] for s in symbols]
        self.prices = {m.symbol: m.price for m in self.markets}
        self.positions = {m.symbol: _Position() for m in self.markets}
        self.clock = _Clock(rng, orders * 6 + 16)
        self.stream = _Stream(rng, expected, wrapped=0.0, combined=0.1)
        self.wallet: dict[str, Decimal] = {}
        self.next_order_id = 8_000_000_000 + rng.randrange(1_000_000)
        self.next_trade_id = {m.symbol: 400_000_000 + rng.randrange(1_000_000) for m in self.markets}
        self.bnb_price = Decimal("600.00")

    # -------------------------------------------------------------- account updates
    def account_update(self, reason: str, changes: dict[str, Decimal], assets: Iterable[str],
                       symbols: Iterable[str]) -> bytes:  # fmt: skip
        ts = self.clock.tick()
        balances = [{"a": a, "wb": _text(self.wallet.get(a, ZERO)), "cw": _text(self.wallet.get(a, ZERO)),
                     "bc": _text(changes.get(a, ZERO))} for a in dict.fromkeys(assets)]  # fmt: skip
        positions = []
        for symbol in dict.fromkeys(symbols):
            p, market = self.positions[symbol], FUTURES_MARKETS[symbol]
            amount = market.step * p.lots
            mark = self.prices[symbol]
            unrealized = ZERO if p.entry is None else amount * (mark - p.entry)
            positions.append({"s": symbol, "pa": _text(amount), "ep": _text(p.entry or ZERO),
                              "bep": _text(p.entry or ZERO), "cr": _text(p.realized), "up": _text(unrealized),
                              "mt": "cross", "iw": "0", "ps": "BOTH"})  # fmt: skip
        event = {"e": "ACCOUNT_UPDATE", "E": ts + 1, "T": ts, "a": {"m": reason, "B": balances, "P": positions}}
        return self.stream.out(event, ts + 1)

    def cash(self, reason: str, asset: str, amount: Decimal) -> bytes:
        self.wallet[asset] = self.wallet.get(asset, ZERO) + amount
        return self.account_update(reason, {asset: amount}, [asset], [])

    def funding(self) -> Iterator[bytes]:
        rate = self.rng.choice((Decimal("0.0001"), Decimal("0.00005"), Decimal("-0.00003")))
        for market in self.markets:
            p = self.positions[market.symbol]
            if p.lots:
                amount = _round8(-(market.step * p.lots) * self.prices[market.symbol] * rate)
                if amount:
                    self.expected.funding += amount
                    yield self.cash("FUNDING_FEE", "USDT", amount)

    # -------------------------------------------------------------- orders
    def report(self, o: _FuturesOrder, x: str, ts: int, last: Decimal = ZERO, price: Decimal = ZERO,
               fee: Decimal = ZERO, fee_asset: str = "", trade_id: int = 0, maker: bool = False,
               realized: Decimal = ZERO) -> bytes:  # fmt: skip
        average = _ROUNDING.divide(o.quote, o.filled) if o.filled else ZERO
        body: dict[str, Any] = {
            "s": o.market.symbol, "c": o.client_id, "S": o.side, "o": o.kind, "f": o.tif, "q": _text(o.quantity),
            "p": _text(o.price), "ap": _text(_round8(average)), "sp": "0", "x": x, "X": o.status, "i": o.order_id,
            "l": _text(last), "z": _text(o.filled), "L": _text(price),
        }  # fmt: skip
        if fee:
            body["N"], body["n"] = fee_asset, _text(fee)
        body.update({
            "T": ts, "t": trade_id, "b": "0", "a": "0", "m": maker, "R": o.reduce_only, "wt": "CONTRACT_PRICE",
            "ot": o.kind, "ps": "BOTH", "cp": False, "rp": _text(realized), "pP": False, "si": 0, "ss": 0,
            "V": "EXPIRE_TAKER", "pm": "NONE", "gtd": 0,
        })  # fmt: skip
        return self.stream.out({"e": "ORDER_TRADE_UPDATE", "E": ts + 1, "T": ts, "o": body}, ts + 1)

    def fill(self, o: _FuturesOrder, lots: int, price: Decimal, maker: bool) -> Iterator[bytes]:
        """One fill of `lots` lots: the position and the wallet move as the ledger folds them."""
        rng, market = self.rng, o.market
        step = market.step
        quantity = step * lots
        p = self.positions[market.symbol]
        signed = lots if o.side == "BUY" else -lots
        held = p.lots
        pnl = ZERO
        if held == 0 or (held > 0) == (signed > 0):  # opens or increases
            if held == 0 or p.entry is None:
                p.entry = price
            else:  # exact by the choice of sizes (NICE_LOTS); Inexact is trapped
                p.entry = (abs(held) * p.entry + lots * price) / (abs(held) + lots)
        else:
            closed = min(lots, abs(held))
            move = (price - p.entry) * step * closed  # type: ignore[operator]
            pnl = move if held > 0 else ZERO - move
            if abs(signed) >= abs(held):
                p.entry = None if abs(signed) == abs(held) else price
        p.lots = held + signed
        p.realized += pnl
        notional = quantity * price
        rate = Decimal("0.0002") if maker else Decimal("0.0004")
        if rng.random() < 0.25:
            fee_asset = "BNB"
            fee = _round8(_ROUNDING.divide(notional * rate * Decimal("0.9"), self.bnb_price))
        else:
            fee_asset, fee = "USDT", _round8(notional * rate)
        self.wallet["USDT"] = self.wallet.get("USDT", ZERO) + pnl
        self.wallet[fee_asset] = self.wallet.get(fee_asset, ZERO) - fee
        self.expected.realized_pnl += pnl - (fee if fee_asset == "USDT" else ZERO)
        o.filled += quantity
        o.quote += notional
        o.status = "FILLED" if o.filled == o.quantity else "PARTIALLY_FILLED"
        e = self.expected.orders[o.client_id]
        e.filled += quantity
        e.trades += 1
        e.fees[fee_asset] = e.fees.get(fee_asset, ZERO) + fee
        self.next_trade_id[market.symbol] += 1
        trade_id = self.next_trade_id[market.symbol]
        ts = self.clock.tick()
        if rng.random() < 0.2:
            lite = {"e": "TRADE_LITE", "E": ts, "T": ts, "s": market.symbol, "q": _text(o.quantity),
                    "p": _text(o.price), "m": maker, "c": o.client_id, "S": o.side, "L": _text(price),
                    "l": _text(quantity), "t": trade_id, "i": o.order_id}  # fmt: skip
            self.expected.skipped += 1
            yield self.stream.out(lite, ts)
        yield self.report(o, "TRADE", ts, quantity, price, fee, fee_asset, trade_id, maker, pnl)
        yield self.account_update("ORDER", {}, ["USDT", fee_asset], [market.symbol])

    def new_order(self, n: int) -> tuple[_FuturesOrder, list[int]]:
        """An order and the fills (in lots) it would get, chosen to open, increase, reduce, close or flip."""
        rng = self.rng
        market = rng.choice(self.markets)
        price = self.prices[market.symbol] = _walk(rng, self.prices[market.symbol], market.tick)
        held = self.positions[market.symbol].lots
        size = abs(held)
        action = "open" if held == 0 else rng.choices(("increase", "reduce", "close", "flip"), (30, 30, 15, 25))[0]
        reduce_only = False
        fills: list[int] = []
        if action in ("open", "increase") and size < NICE_LOTS[-1]:
            targets = [t for t in NICE_LOTS if t > size][:6]
            target = rng.choice(targets)
            middle = [t for t in NICE_LOTS if size < t < target]
            fills = [rng.choice(middle) - size, 0] if middle and rng.random() < 0.5 else [target - size]
            if len(fills) == 2:
                fills[1] = target - size - fills[0]
            if not self.short_entries(market.symbol, fills, price):
                fills, action = [], "close"
            side = rng.choice(("BUY", "SELL")) if held == 0 else ("BUY" if held > 0 else "SELL")
        elif action in ("open", "increase"):
            action = "reduce"
        if not fills:
            side = "SELL" if held > 0 else "BUY"
            if action == "reduce" and size > 1:
                lots = rng.randint(1, size - 1)
                fills = _lot_split(rng, lots)
            elif action == "flip":
                fills = [size, rng.choice(NICE_LOTS[:12])]  # closes, then opens the other way in one more fill
            else:
                fills, reduce_only = [size], True
        kind = "MARKET" if rng.random() < 0.3 else "LIMIT"
        self.next_order_id += 1
        o = _FuturesOrder(f"fsim{self.seed}-{n:06d}", self.next_order_id, market, side, kind, "GTC",
                          market.step * sum(fills), ZERO if kind == "MARKET" else price, reduce_only)  # fmt: skip
        return o, fills

    def short_entries(self, symbol: str, fills: list[int], price: Decimal) -> bool:
        """Whether increasing by `fills` at `price` keeps the average entry price within ENTRY_PLACES places."""
        p = self.positions[symbol]
        size, entry = abs(p.lots), p.entry
        for lots in fills:
            entry = price if entry is None else (size * entry + lots * price) / (size + lots)
            size += lots
            if entry.as_tuple().exponent < -ENTRY_PLACES:  # type: ignore[operator]
                return False
        return True

    def expect(self, o: _FuturesOrder) -> ExpectedOrder:
        tif = TimeInForce.IOC if o.tif == "IOC" else TimeInForce.GTC
        spec = ev.OrderSpec(symbol=o.market.symbol, side=OrderSide(o.side), order_type=OrderType(o.kind),
                            quantity=o.quantity, price=o.price or None, reduce_only=o.reduce_only,
                            time_in_force=tif, post_only=o.tif == "GTX")  # fmt: skip
        e = ExpectedOrder(o.client_id, str(o.order_id), spec, S.NEW, o.quantity)
        self.expected.orders[o.client_id] = e
        return e

    def run_order(self, n: int) -> Iterator[bytes]:
        rng = self.rng
        o, fills = self.new_order(n)
        outcome = "filled"
        if o.kind == "LIMIT":
            outcome = rng.choices(("filled", "cancel", "gtx_expired", "amend", "partial_cancel", "ioc"),
                                  (55, 12, 8, 10, 8, 7))[0]  # fmt: skip
            if outcome in ("partial_cancel", "ioc") and len(fills) < 2:
                outcome = "filled"
            if outcome == "gtx_expired":
                o.tif = "GTX"
            elif outcome == "ioc":
                o.tif = "IOC"
        e = self.expect(o)
        yield self.report(o, "NEW", self.clock.tick())
        if outcome == "gtx_expired":
            o.status, e.status = "EXPIRED", S.EXPIRED
            yield self.report(o, "EXPIRED", self.clock.tick())
            return
        if outcome == "cancel":
            o.status, e.status = "CANCELED", S.CANCELED
            yield self.report(o, "CANCELED", self.clock.tick())
            return
        if outcome == "amend":  # same quantity (the fills are planned), a better price
            o.price += o.market.tick * rng.randint(1, 5) * (1 if o.side == "BUY" else -1)
            e.quantity = o.quantity
            yield self.report(o, "AMENDMENT", self.clock.tick())
        maker = o.kind == "LIMIT" and rng.random() < 0.5
        price = o.price if o.kind == "LIMIT" else self.prices[o.market.symbol]
        if outcome in ("partial_cancel", "ioc"):
            yield from self.fill(o, fills[0], price, maker)
            o.status = "CANCELED" if outcome == "partial_cancel" else "EXPIRED"
            e.status = S.CANCELED if outcome == "partial_cancel" else S.EXPIRED
            yield self.report(o, o.status, self.clock.tick())
            return
        for lots in fills:
            yield from self.fill(o, lots, price, maker)
        e.status = S.FILLED

    def run(self) -> Iterator[bytes]:
        for asset, amount in FUTURES_DEPOSITS.items():
            yield self.cash("DEPOSIT", asset, amount)
        funding_every = max(1, self.orders // 5)
        for n in range(self.orders):
            if n and n % funding_every == 0:
                yield from self.funding()
            for asset, amount in FUTURES_DEPOSITS.items():
                if self.wallet.get(asset, ZERO) < amount / 4:
                    yield self.cash("DEPOSIT", asset, amount)
            yield from self.run_order(n)
        yield from self.funding()
        yield self.account_update("ORDER", {}, sorted(self.wallet), [m.symbol for m in self.markets])
        exp = self.expected
        exp.balances = dict(sorted(self.wallet.items()))
        for market in self.markets:
            p = self.positions[market.symbol]
            exp.positions[market.symbol] = market.step * p.lots
            exp.entry_prices[market.symbol] = p.entry


def _lot_split(rng: random.Random, lots: int) -> list[int]:
    if lots >= 2 and rng.random() < 0.5:
        first = rng.randint(1, lots - 1)
        return [first, lots - first]
    return [lots]


def simulate_futures_day(seed: int, orders: int, expected: Expected | None = None,
                         symbols: Iterable[str] = FUTURES_SYMBOLS) -> Iterator[bytes]:  # fmt: skip
    """The raw messages of one simulated Binance USDⓈ-M futures day with `orders` orders (see the module text);
    fills `expected` as it goes. Symbols must be in `FUTURES_MARKETS`."""
    yield from _exact(_FuturesDay(seed, orders, expected if expected is not None else Expected(), symbols).run())


# ------------------------------------------------------------------------------ exchangeInfo files
def _filters(m: Market) -> list[dict[str, Any]]:
    return [
        {"filterType": "PRICE_FILTER", "minPrice": _text(m.tick, 8), "maxPrice": "1000000.00000000",
         "tickSize": _text(m.tick, 8)},
        {"filterType": "LOT_SIZE", "minQty": _text(m.step, 8), "maxQty": "9000.00000000", "stepSize": _text(m.step, 8)},
        {"filterType": "MIN_NOTIONAL", "minNotional": "5.00000000", "applyToMarket": True, "avgPriceMins": 5},
    ]  # fmt: skip


def spot_exchange_info(symbols: Iterable[str] = SPOT_SYMBOLS) -> bytes:
    """A spot `GET /api/v3/exchangeInfo` answer listing `symbols` (from `SPOT_MARKETS`)."""
    entries = []
    for symbol in symbols:
        m = SPOT_MARKETS[symbol]
        entries.append({
            "symbol": m.symbol, "status": "TRADING", "baseAsset": m.base, "baseAssetPrecision": 8,
            "quoteAsset": m.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "filters": _filters(m),
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
        })  # fmt: skip
    return _encode({"timezone": "UTC", "serverTime": START_MS, "rateLimits": [], "exchangeFilters": [],
                    "symbols": entries})  # fmt: skip


def futures_exchange_info(symbols: Iterable[str] = (*FUTURES_SYMBOLS, QUARTERLY)) -> bytes:
    """A USDⓈ-M `GET /fapi/v1/exchangeInfo` answer listing `symbols` (from `FUTURES_MARKETS`, or `QUARTERLY`:
    the BTCUSDT contract delivered 2026-03-27)."""
    entries = []
    for symbol in symbols:
        quarterly = symbol == QUARTERLY
        m = FUTURES_MARKETS["BTCUSDT" if quarterly else symbol]
        entries.append({
            "symbol": symbol, "pair": m.symbol, "contractType": "CURRENT_QUARTER" if quarterly else "PERPETUAL",
            "deliveryDate": QUARTERLY_DELIVERY_MS if quarterly else PERPETUAL_DELIVERY_MS,
            "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000", "baseAsset": m.base, "quoteAsset": m.quote, "marginAsset": m.quote,
            "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
            "underlyingType": "COIN", "underlyingSubType": ["PoW"], "settlePlan": 0, "triggerProtect": "0.0500",
            "liquidationFee": "0.012500", "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
            "filters": _filters(m), "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                                                   "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        })  # fmt: skip
    return _encode({"timezone": "UTC", "serverTime": START_MS, "futuresType": "U_MARGINED", "rateLimits": [],
                    "exchangeFilters": [], "assets": [], "symbols": entries})  # fmt: skip
