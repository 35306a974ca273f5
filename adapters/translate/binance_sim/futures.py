"""A simulated Binance USDⓈ-M futures day.

The futures day (USDⓈ-M perpetuals, one-way mode): ACCOUNT_UPDATE deposits (USDT, BNB), orders that open,
increase, reduce, close (reduce-only) and flip positions, filled in one or two TRADEs (commission in USDT or
BNB), CANCELED, EXPIRED (a post-only GTX that would take, an IOC remainder),
AMENDMENT (a new price and quantity), each fill followed by its ACCOUNT_UPDATE (reason ORDER), FUNDING_FEE
ACCOUNT_UPDATEs for open positions, TRADE_LITE copies of some trades (skipped by the translator), and a last
ACCOUNT_UPDATE listing every asset and every symbol. Position sizes after an increasing fill are chosen so that
the average entry price is an exact decimal: the exchange's numbers are then exactly the ledger's own. No
ACCOUNT_CONFIG_UPDATE: the ledger records every LeverageSet (it has no idempotency key), so a stream with one
would not record nothing when ingested twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapters.translate.binance_sim.expected import ZERO, Expected, ExpectedOrder
from adapters.translate.binance_sim.markets import FUTURES_MARKETS, FUTURES_SYMBOLS, Market
from adapters.translate.binance_sim.stream import _ROUNDING, S, _Clock, _exact, _round8, _Stream, _text, _walk
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, TimeInForce

FUTURES_DEPOSITS = {"USDT": Decimal("1000000"), "BNB": Decimal("50")}
# Position sizes (in lots) an increasing fill may reach: 2^a 5^b, so that the average entry price, a quotient
# by the size, is an exact short decimal.
ENTRY_PLACES = 8  # futures: an increase that would give the average entry price more places closes instead
NICE_LOTS = tuple(sorted(n for n in {2**a * 5**b for a in range(10) for b in range(5)} if n <= 1000))


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
