"""The generated trading day (deterministic, seeded): one order's command script, the day as a stream of
ledger commands, and the live fills the single-append and live-lag figures append on its open orders."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ACCOUNT = "acc-bench"
SYMBOL = "BTCUSDT"
DAY_START_NS = 1_709_251_200 * 10**9  # 2024-03-01T00:00:00Z
SETUP_TS_NS = DAY_START_NS - 10**9  # the account is opened the second before the day
ACTIVE_ORDERS = 256  # orders in flight at once; the scheduler interleaves their commands
LOT = Decimal("0.001")
METHODS = ("place_intent", "start_submission", "record_accepted", "record_fill", "cancel_intent",
           "record_cancel_accepted")  # fmt: skip


@dataclass(slots=True)
class Cmd:
    method: str
    args: tuple
    kwargs: dict
    events: int  # what the ledger is expected to record (0 for a redelivered fill)
    effect: tuple = ()  # what it does to the simulated order: ("accepted",) / ("filled", qty) / ("terminal",)


@dataclass(slots=True)
class SimOrder:
    n: int
    intent_id: str
    quantity: Decimal
    price: Decimal
    script: list[Cmd]
    step: int = 0
    accepted: bool = False
    terminal: bool = False
    filled: Decimal = Decimal(0)


def _split(rng: random.Random, units: int, parts: int) -> list[int]:
    """`units` lots into `parts` positive integers."""
    parts = max(1, min(parts, units))
    cuts = sorted(rng.sample(range(1, units), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, units]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def _order(rng: random.Random, n: int) -> SimOrder:
    """One order's command script: placed, submitted, accepted, then filled / canceled / left resting."""
    intent_id = f"i{n:07d}"
    side = "BUY" if rng.random() < 0.5 else "SELL"
    market = rng.random() < 0.1
    units = rng.randint(4, 400)  # 0.004 .. 0.400 BTC
    qty = units * LOT
    price = Decimal(rng.randint(6_000_000, 6_400_000)) / 100  # 60000.00 .. 64000.00
    order: dict[str, Any] = {"symbol": SYMBOL, "side": side, "order_type": "MARKET" if market else "LIMIT",
                             "quantity": str(qty), "time_in_force": "IOC" if market else "GTC"}  # fmt: skip
    if not market:
        order["price"] = str(price)
    intent = {"intent_id": intent_id, "order": order, "created_at": 0, "updated_at": 0,
              "metadata": {"strategy": "mm-1", "level": rng.randint(0, 9)}}  # fmt: skip
    script = [
        Cmd("place_intent", (ACCOUNT, intent), {}, 1),
        Cmd("start_submission", (ACCOUNT, intent_id), {"client_order_id": f"c{n:07d}"}, 1),
        Cmd("record_accepted", (ACCOUNT, intent_id), {"exchange_order_id": f"x{n:09d}"}, 1, ("accepted",)),
    ]
    outcome = "filled" if market else rng.choices(("filled", "canceled", "resting"), (0.65, 0.2, 0.15))[0]
    if outcome == "filled":
        fills = _split(rng, units, rng.randint(1, 4))
    else:
        done = rng.randint(0, units - 1)
        fills = _split(rng, done, rng.randint(1, 3)) if done else []
    liquidity = "TAKER" if market else "MAKER"
    for j, lots in enumerate(fills):
        fill_qty = lots * LOT
        fill_price = price + Decimal(rng.randint(-50, 50)) / 100 if market else price
        fee = (fill_qty * fill_price * Decimal("0.001")).quantize(Decimal("0.00000001"))
        kwargs = {"trade_id": f"t{n:07d}-{j}", "quantity": str(fill_qty), "price": str(fill_price),
                  "fee": str(fee), "fee_asset": "USDT", "liquidity": liquidity}  # fmt: skip
        script.append(Cmd("record_fill", (ACCOUNT, intent_id), kwargs, 1, ("filled", fill_qty)))
        if rng.random() < 0.01:  # the same fill delivered again (websocket + REST poll): recorded once
            script.append(Cmd("record_fill", (ACCOUNT, intent_id), dict(kwargs), 0))
    if outcome == "canceled":
        script.append(Cmd("cancel_intent", (ACCOUNT, intent_id), {"reason": "requote"}, 1))
        script.append(Cmd("record_cancel_accepted", (ACCOUNT, intent_id), {}, 1, ("terminal",)))
    return SimOrder(n, intent_id, qty, price, script)


class TradingDay:
    """A deterministic stream of ledger commands, `n_events` events long, generated lazily in chunks."""

    def __init__(self, seed: int, n_events: int):
        self.rng = random.Random(seed)
        self.n_events = n_events
        self.events = 0  # expected events emitted so far
        self.commands = 0
        self.orders = 0  # orders placed so far
        self._live: dict[int, SimOrder] = {}  # not (yet) filled or canceled; the others are forgotten
        self._active: list[SimOrder] = []
        self.last_ts = DAY_START_NS
        self.by_method: dict[str, int] = {}

    def _next(self) -> Cmd | None:
        if self.events >= self.n_events:
            return None
        rng = self.rng
        while len(self._active) < ACTIVE_ORDERS:
            order = _order(rng, self.orders)
            self.orders += 1
            self._live[order.n] = order
            self._active.append(order)
        i = rng.randrange(len(self._active))
        order = self._active[i]
        cmd = order.script[order.step]
        order.step += 1
        if order.step == len(order.script):
            self._active[i] = self._active[-1]
            self._active.pop()
            order.script = []  # keep only what the single-append phase needs: the heap is measured too
        self.last_ts += rng.randint(1_000, 2_000_000)
        if cmd.method == "place_intent":
            cmd.args[1]["created_at"] = cmd.args[1]["updated_at"] = self.last_ts
        else:
            cmd.kwargs["ts_event"] = self.last_ts
        if cmd.effect:
            kind = cmd.effect[0]
            if kind == "accepted":
                order.accepted = True
            elif kind == "filled":
                order.filled += cmd.effect[1]
                order.terminal = order.terminal or order.filled >= order.quantity
            elif kind == "terminal":
                order.terminal = True
            if order.terminal:
                self._live.pop(order.n, None)
        self.events += cmd.events
        self.commands += 1
        self.by_method[cmd.method] = self.by_method.get(cmd.method, 0) + 1
        return cmd

    def chunks(self, size: int) -> Iterator[list[Cmd]]:
        while True:
            chunk: list[Cmd] = []
            while len(chunk) < size:
                cmd = self._next()
                if cmd is None:
                    break
                chunk.append(cmd)
            if not chunk:
                return
            yield chunk

    def open_orders(self) -> list[SimOrder]:
        """Accepted, not canceled, not fully filled: where a live fill can land."""
        return [o for o in self._live.values() if o.accepted and not o.terminal and o.quantity - o.filled >= LOT]


def live_fills(open_orders: Sequence[SimOrder], n: int, *, tag: str, ts0: int) -> list[tuple[str, dict]]:
    """`n` small fills spread over the open orders (round robin), far below what any of them has left."""
    out = []
    for k in range(n):
        order = open_orders[k % len(open_orders)]
        out.append((order.intent_id, {"trade_id": f"{tag}-{k}", "quantity": "0.000001", "price": str(order.price),
                                      "fee": "0", "ts_event": ts0 + k}))  # fmt: skip
    return out


def single_sets(day: TradingDay, n: int) -> tuple[list[SimOrder], list[SimOrder]]:
    """Open orders at the end of the day, split in two disjoint sets (warm, cold) so that the warm and
    the cold ledger never write the same stream (which would make one of them conflict and re-read)."""
    open_orders = day.open_orders()
    if len(open_orders) < 2:
        raise SystemExit("too few open orders at the end of the day for the single-append figures; raise --events")
    half = min(len(open_orders) // 2, n)
    return open_orders[half:], open_orders[:half]


def cmd_ts(cmd: Cmd) -> int:
    """The simulated time of a command (set by `TradingDay` as it hands the command out)."""
    return cmd.args[1]["created_at"] if cmd.method == "place_intent" else cmd.kwargs["ts_event"]


def ledger_setup(ledger: Any) -> None:
    ts = SETUP_TS_NS
    ledger.open_account(ACCOUNT, exchange="binance", account_type="SPOT", base_currency="USDT", ts_event=ts)
    ledger.register_asset(
        ACCOUNT, {"asset_id": SYMBOL, "symbol": SYMBOL, "asset_type": "SPOT", "name": "Bitcoin / Tether",
                  "tick_size": "0.01", "lot_size": "0.000001"},
        base_asset="BTC", quote_asset="USDT", ts_event=ts,
    )  # fmt: skip
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="100000000", reason="DEPOSIT", reference="dep-1",
                          ts_event=ts)  # fmt: skip

