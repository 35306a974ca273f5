"""A deterministic simulated trading day: the same seed gives the same commands and the same events.

Two accounts -- a spot account and a USDⓈ-M perpetual-futures account -- several symbols, limit and
market orders, partial fills, cancels, a reject, an amend, a duplicate fill, a fill that arrives
before its accept, fees in the quote asset and in BNB, deposits, leverage, hourly mark prices and a
funding payment. Time is simulated: every command carries its own `ts_event`, and the ledger's clock
is driven by the simulation so that `ts_recorded` is reproducible too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_SECOND
RECORD_DELAY_NS = 1_000_000  # the simulated ledger records each fact 1 ms after it happened
DAY_START_NS = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp()) * NS_PER_SECOND

SPOT, PERP = "demo-spot", "demo-perp"
# The scenarios every demo day contains at least once, in this order; the rest are drawn at random.
SPECIAL_SCENARIOS = ("reject", "amend", "fill_before_accept", "duplicate_fill", "bnb_fee",
                     "partial_then_cancel", "market", "expire")  # fmt: skip
RANDOM_SCENARIOS = ("full_fill", "full_fill", "partial_then_cancel", "cancel", "market", "bnb_fee", "resting")
ORDERS_MIN = len(SPECIAL_SCENARIOS)


@dataclass(frozen=True)
class Instrument:
    account_id: str
    symbol: str
    asset_id: str
    asset_type: str
    base: str
    quote: str
    price: Decimal  # opening price of the day
    tick: Decimal
    lot: Decimal
    contract_size: Decimal | None = None
    initial_margin_rate: Decimal | None = None
    maintenance_margin_rate: Decimal | None = None


INSTRUMENTS = (
    Instrument(SPOT, "BTCUSDT", "BTCUSDT", "SPOT", "BTC", "USDT", Decimal("60000"), Decimal("0.01"), Decimal("0.0001")),
    Instrument(SPOT, "ETHUSDT", "ETHUSDT", "SPOT", "ETH", "USDT", Decimal("3000"), Decimal("0.01"), Decimal("0.001")),
    Instrument(SPOT, "BNBUSDT", "BNBUSDT", "SPOT", "BNB", "USDT", Decimal("600"), Decimal("0.01"), Decimal("0.01")),
    Instrument(PERP, "BTCUSDT", "BTCUSDT-PERP", "PERPETUAL", "BTC", "USDT", Decimal("60010"), Decimal("0.1"),
               Decimal("0.001"), Decimal("1"), Decimal("0.05"), Decimal("0.004")),
    Instrument(PERP, "ETHUSDT", "ETHUSDT-PERP", "PERPETUAL", "ETH", "USDT", Decimal("3001"), Decimal("0.01"),
               Decimal("0.01"), Decimal("1"), Decimal("0.05"), Decimal("0.005")),
)  # fmt: skip


@dataclass(frozen=True, order=True)
class Step:
    """One ledger command at a simulated time: `getattr(ledger, method)(*args, **kwargs)`."""

    ts_event: int
    seq: int
    method: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    kwargs: dict[str, Any] = field(compare=False)


class DemoDay:
    """Generates the day's steps; `clock` is the ledger clock that follows the simulation."""

    def __init__(self, seed: int = 7, orders: int = 40):
        if orders < ORDERS_MIN:
            raise ValueError(f"--orders: at least {ORDERS_MIN} (one per special scenario), got {orders}")
        self.seed, self.orders = seed, orders
        self.rng = random.Random(seed)
        self.now_ns = DAY_START_NS
        self._steps: list[Step] = []
        self._prices = {(i.account_id, i.symbol): i.price for i in INSTRUMENTS}

    def clock(self) -> int:
        return self.now_ns + RECORD_DELAY_NS

    def first_intent_id(self) -> str:
        return self._intent_id(0)

    def _intent_id(self, n: int) -> str:
        return f"demo-s{self.seed}-{n:06d}"

    def _add(self, ts: int, method: str, *args: Any, **kwargs: Any) -> None:
        if method != "place_intent":  # an intent carries its own created_at
            kwargs["ts_event"] = ts
        self._steps.append(Step(ts, len(self._steps), method, args, kwargs))

    def steps(self) -> list[Step]:
        """All the day's steps in time order (ties broken by generation order)."""
        if not self._steps:
            self._setup()
            for n in range(self.orders):
                scenario = SPECIAL_SCENARIOS[n] if n < ORDERS_MIN else self.rng.choice(RANDOM_SCENARIOS)
                self._order(n, scenario)
            self._marks_and_funding()
        return sorted(self._steps)

    def run(self, execute: Callable[[Step], Any]) -> Iterator[tuple[Step, Any]]:
        """Drive `execute` through the day, advancing the clock to each step's time."""
        for step in self.steps():
            self.now_ns = step.ts_event
            yield step, execute(step)

    # ------------------------------------------------------------------ the day
    def _setup(self) -> None:
        t = DAY_START_NS
        self._add(t, "open_account", SPOT, exchange="binance", account_type="SPOT", base_currency="USDT")
        self._add(t, "open_account", PERP, exchange="binance-futures", account_type="FUTURES", base_currency="USDT")
        for i in INSTRUMENTS:
            asset = dict(asset_id=i.asset_id, symbol=i.symbol, asset_type=i.asset_type, name=f"{i.base}/{i.quote}",
                         tick_size=i.tick, lot_size=i.lot, contract_size=i.contract_size,
                         settlement_asset=i.quote if i.contract_size else None,
                         initial_margin_rate=i.initial_margin_rate, maintenance_margin_rate=i.maintenance_margin_rate)
            self._add(t, "register_asset", i.account_id, asset, base_asset=i.base, quote_asset=i.quote)
        for account_id, asset_id, amount in ((SPOT, "USDT", "250000"), (SPOT, "BNB", "20"), (PERP, "USDT", "100000")):
            self._add(t + NS_PER_SECOND, "adjust_balance", account_id, asset_id=asset_id, amount=amount,
                      reason="DEPOSIT", reference=f"demo-deposit-{account_id}-{asset_id}")
        for i in INSTRUMENTS:
            if i.contract_size:
                self._add(t + 2 * NS_PER_SECOND, "set_leverage", PERP, symbol_id=i.symbol, leverage="10")

    def _marks_and_funding(self) -> None:
        for hour in range(24):
            t = DAY_START_NS + hour * NS_PER_HOUR + 59 * 60 * NS_PER_SECOND
            for i in INSTRUMENTS:
                if i.contract_size:
                    self._add(t, "record_mark_price", PERP, symbol_id=i.symbol, price=self._walk(i))
        self._add(DAY_START_NS + 8 * NS_PER_HOUR, "adjust_balance", PERP, asset_id="USDT",
                  amount=f"-{self.rng.randint(100, 900) / 100:.2f}", reason="FUNDING", reference="demo-funding-08")

    def _walk(self, i: Instrument) -> Decimal:
        """The instrument's next price: a small seeded random walk, on its tick."""
        key = (i.account_id, i.symbol)
        step = Decimal(self.rng.randint(-20, 20)) * i.price / Decimal(20000)
        self._prices[key] = max(i.tick, (self._prices[key] + step).quantize(i.tick))
        return self._prices[key]

    def _order(self, n: int, scenario: str) -> None:
        rng = self.rng
        pool = [i for i in INSTRUMENTS if i.account_id == SPOT] if scenario == "bnb_fee" else list(INSTRUMENTS)
        inst = pool[n % len(pool)] if n < ORDERS_MIN else rng.choice(pool)
        a, intent_id = inst.account_id, self._intent_id(n)
        t = DAY_START_NS + 60 * NS_PER_SECOND + rng.randrange(22 * NS_PER_HOUR)
        side = rng.choice(("BUY", "SELL")) if inst.contract_size else ("BUY" if n % 3 else "SELL")
        lots = rng.randint(5, 40) if inst.lot < 1 else rng.randint(1, 4)
        qty = inst.lot * lots * (10 if inst.lot < Decimal("0.001") else 1)
        px = self._walk(inst)
        market = scenario == "market"
        order = dict(symbol=inst.symbol, side=side, order_type="MARKET" if market else "LIMIT", quantity=qty,
                     price=None if market else px, time_in_force="IOC" if scenario == "expire" else "GTC")
        coid = f"c-{intent_id}"
        eoid = f"{'9' if inst.contract_size else '8'}{self.seed:03d}{n:07d}"
        ms = 1_000_000
        self._add(t, "place_intent", a, dict(intent_id=intent_id, order=order, created_at=t, updated_at=t,
                                             metadata={"strategy": "demo", "scenario": scenario}))
        self._add(t + ms, "start_submission", a, intent_id, client_order_id=coid)
        if scenario == "reject":
            self._add(t + 5 * ms, "record_rejected", a, intent_id, reason="Insufficient margin (demo)")
            return
        accept_at = t + (40 * ms if scenario == "fill_before_accept" else 5 * ms)
        self._add(accept_at, "record_accepted", a, intent_id, exchange_order_id=eoid, exec_id=f"{eoid}-new")
        fee_asset = "BNB" if scenario == "bnb_fee" else inst.quote
        fill_px = px if not market else self._walk(inst)

        def fill(k: int, q: Decimal, at: int) -> None:
            notional = q * fill_px * (inst.contract_size or 1)
            fee = (notional * Decimal("0.0004")).quantize(Decimal("0.00000001"))
            if fee_asset == "BNB":
                fee = (fee / Decimal("600") * Decimal("0.75")).quantize(Decimal("0.00000001"))
            self._add(at, "record_fill", a, intent_id, trade_id=f"{eoid}-t{k}", quantity=q, price=fill_px,
                      fee=fee, fee_asset=fee_asset, liquidity="TAKER" if market else "MAKER")

        first = (qty / 2).quantize(inst.lot) if lots > 1 else qty
        if scenario in ("full_fill", "bnb_fee", "duplicate_fill", "fill_before_accept", "market"):
            fill(1, first, t + 10 * ms)
            if first < qty:
                fill(2, qty - first, t + 30 * ms + rng.randrange(60 * NS_PER_SECOND))
            if scenario == "duplicate_fill":  # the same trade delivered again (a reconnect replays it)
                fill(1, first, t + 90 * NS_PER_SECOND)
        elif scenario == "resting":  # still working at the close: it reserves funds (`locked`)
            fill(1, first, t + 10 * ms)
        elif scenario == "partial_then_cancel":
            fill(1, first, t + 10 * ms)
            self._add(t + 120 * NS_PER_SECOND, "cancel_intent", a, intent_id, reason="strategy: cancel rest")
            self._add(t + 120 * NS_PER_SECOND + 3 * ms, "record_cancel_accepted", a, intent_id, exec_id=f"{eoid}-cxl")
        elif scenario == "cancel":
            self._add(t + 60 * NS_PER_SECOND, "cancel_intent", a, intent_id, reason="strategy: stale quote")
            self._add(t + 60 * NS_PER_SECOND + 3 * ms, "record_cancel_accepted", a, intent_id, exec_id=f"{eoid}-cxl")
        elif scenario == "expire":
            fill(1, first, t + 6 * ms)
            if first < qty:
                self._add(t + 7 * ms, "record_expired", a, intent_id, exec_id=f"{eoid}-exp")
        elif scenario == "amend":
            new_qty, new_px = qty + inst.lot * 10, (px - inst.tick * 5)
            amended = {**order, "quantity": new_qty, "price": new_px}
            self._add(t + 30 * NS_PER_SECOND, "amend_intent", a, intent_id, order=amended)
            self._add(t + 30 * NS_PER_SECOND + 4 * ms, "record_amend_accepted", a, intent_id, quantity=new_qty,
                      price=new_px, exec_id=f"{eoid}-amd")
            fill_px = new_px
            fill(1, new_qty, t + 45 * NS_PER_SECOND)
