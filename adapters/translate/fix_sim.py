"""A simulated FIX 4.4 drop copy, deterministic from a seed: for end-to-end tests and the benchmark.

- `fix_message(fields)`: one message, BodyLength (9) and CheckSum (10) computed.
- `simulate_fix_day(seed, orders)`: a day of a venue's drop copy: Logon, Heartbeats every 30 s, then the
  orders' execution reports interleaved (a few orders live at a time), Logout. Among the orders: new acks
  (some after a pending new), partial fills and fills with commission, cancels (some after a pending
  cancel), replaces, rejects, expiries, OrderCancelRejects (no Symbol, as the standard has it), market
  orders, and one trade cancel (a bust). The first nine orders play each scenario once, in that order
  (`SCENARIOS`); the rest are drawn at random, busts excepted.
- `simulate_fix_day_expectations(seed, orders)`: what the ledger should hold of each order after
  ingesting that day, by the order's first ClOrdID: status, filled quantity, OrderID and fees. A busted
  fill stays counted: the ledger never rewrites a recorded fill, it flags the order.
- `instruments_exchange_info(symbols)`: a Binance spot exchangeInfo JSON for the symbols, for
  `ledger instruments load --format binance --exchange fix FILE`.

Every order has a ClOrdID `S<seed>-<n>` and an OrderID `<seed>-<n>`; cancel and replace requests have
ClOrdIDs `...-X` and `...-R`; ExecIDs are `<OrderID>-<k>`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

SENDER, TARGET = "SIMEX", "LEDGER-DC"
DAY_ZERO_NS = 1_704_153_600 * 1_000_000_000  # 2024-01-02 00:00:00 UTC; a seed's day is seed % 300 days on
HEARTBEAT_NS = 30 * 1_000_000_000
SCENARIOS = ("fill", "partial_cancel", "cancel", "replace", "reject", "expire", "cancel_reject", "bust", "market")
_RANDOM_SCENARIOS = ("fill", "market", "partial_cancel", "cancel", "replace", "reject", "expire", "cancel_reject")
_WEIGHTS = (50, 8, 10, 10, 6, 4, 4, 5)
FEE_RATES = {"1": Decimal("0.0008"), "2": Decimal("0.001")}  # by LastLiquidityInd: maker, taker
_FEE_PLACES = Decimal("0.00000001")
_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY")


class SymbolParams(NamedTuple):
    base: str
    quote: str
    tick: Decimal
    lot: Decimal
    mid: Decimal


KNOWN = {
    "BTCUSDT": SymbolParams("BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal(42000)),
    "ETHUSDT": SymbolParams("ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal(2300)),
}


def symbol_params(symbol: str) -> SymbolParams:
    known = KNOWN.get(symbol)
    if known is not None:
        return known
    quote = next((q for q in _QUOTES if symbol.endswith(q) and len(symbol) > len(q)), symbol[-4:])
    return SymbolParams(symbol[: -len(quote)], quote, Decimal("0.0001"), Decimal("0.1"), Decimal("1.5"))


class Expected(NamedTuple):
    """What the ledger should hold of one simulated order."""

    status: str  # a StandardOrderStatus name
    filled_quantity: Decimal
    exchange_order_id: str
    fees: Decimal  # in the quote asset (CommCurrency 479)


# ------------------------------------------------------------------------------ messages
def fix_message(fields: Iterable[tuple[int, object]], delimiter: bytes = b"\x01") -> bytes:
    """A message from its fields in order, with BodyLength (9) and CheckSum (10) computed. BeginString
    (8) is FIX.4.4 unless the first field gives it; the fields must not hold 9 or 10."""
    items = list(fields)
    begin = "FIX.4.4"
    if items and items[0][0] == 8:
        begin = str(items.pop(0)[1])
    if any(tag in (8, 9, 10) for tag, _ in items):
        raise ValueError("fix_message computes BodyLength (9) and CheckSum (10); BeginString (8) goes first")
    body = delimiter.join(f"{tag}={value}".encode() for tag, value in items) + delimiter
    head = f"8={begin}".encode() + delimiter + f"9={len(body)}".encode() + delimiter
    message = head + body
    return message + f"10={sum(message) & 0xFF:03d}".encode() + delimiter


_DATES: dict[int, str] = {}


def fix_time(ns: int) -> str:
    """ns since the epoch as a FIX UTCTimestamp with microseconds."""
    day, rest = divmod(ns, 86_400_000_000_000)
    date = _DATES.get(day)
    if date is None:
        date = _DATES[day] = time.strftime("%Y%m%d", time.gmtime(day * 86_400))
    seconds, fraction = divmod(rest, 1_000_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{date}-{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction // 1000:06d}"


# ------------------------------------------------------------------------------ one order's story
Step = tuple[str, list[tuple[int, str]]]  # (MsgType, body fields after the header, without TransactTime)


class _Order:
    """Builds the execution reports of one order as the venue would send them."""

    def __init__(self, seed: int, n: int, symbol: str, rng: random.Random, expire_ns: int):
        self.rng = rng
        self.params = p = symbol_params(symbol)
        self.symbol = symbol
        self.client_order_id = f"S{seed}-{n}"
        self.current_id = self.client_order_id
        self.order_id = f"{seed}-{n}"
        self.side = rng.choice("12")
        self.ord_type = "2"
        self.tif = "1"
        self.expire_ns = expire_ns
        unit = p.lot * 100
        self.quantity = unit * rng.randint(1, 500)
        ticks = int(p.mid / p.tick)
        self.price: Decimal | None = p.tick * (ticks + rng.randint(-500, 500))
        self.cum = Decimal(0)
        self.notional = Decimal(0)
        self.fees = Decimal(0)
        self.execs = 0
        self.steps: list[Step] = []

    def _order_fields(self) -> list[tuple[int, str]]:
        fields = [(55, self.symbol), (54, self.side), (38, str(self.quantity)), (40, self.ord_type)]
        if self.price is not None:
            fields.append((44, str(self.price)))
        fields.append((59, self.tif))
        if self.tif == "6":
            fields.append((126, fix_time(self.expire_ns)))
        return fields

    def report(self, exec_type: str, ord_status: str, *, cl_ord_id: str = "", orig: str = "",
               extra: Sequence[tuple[int, str]] = ()) -> str:  # fmt: skip
        """Append an ExecutionReport; returns its ExecID."""
        self.execs += 1
        exec_id = f"{self.order_id}-{self.execs}"
        fields = [(37, self.order_id), (11, cl_ord_id or self.current_id)]
        if orig:
            fields.append((41, orig))
        fields += [(17, exec_id), (150, exec_type), (39, ord_status), *self._order_fields()]
        leaves = self.quantity - self.cum if ord_status in "0126AE" else Decimal(0)
        average = (self.notional / self.cum).quantize(_FEE_PLACES, ROUND_HALF_EVEN) if self.cum else Decimal(0)
        fields += [(151, str(leaves)), (14, str(self.cum)), (6, str(average)), *extra]
        self.steps.append(("8", fields))
        return exec_id

    def pending_new(self) -> None:
        self.report("A", "A")

    def new(self) -> None:
        self.report("0", "0")

    def fill(self, quantity: Decimal) -> str:
        rng = self.rng
        p = self.params
        if self.price is None:  # a market order takes liquidity near the mid
            price = p.tick * (int(p.mid / p.tick) + rng.randint(-50, 50))
            liquidity = "2"
        else:
            price, liquidity = self.price, rng.choice("12")
        fee = (quantity * price * FEE_RATES[liquidity]).quantize(_FEE_PLACES, ROUND_HALF_EVEN)
        self.cum += quantity
        self.notional += quantity * price
        self.fees += fee
        status = "2" if self.cum >= self.quantity else "1"
        return self.report("F", status, extra=[(32, str(quantity)), (31, str(price)), (12, str(fee)), (13, "3"),
                                               (479, p.quote), (851, liquidity)])  # fmt: skip

    def fills(self, quantity: Decimal, parts: int) -> None:
        """Fill `quantity` in up to `parts` fills of whole lots."""
        lots = int(quantity / self.params.lot)
        parts = max(1, min(parts, lots))
        cuts = sorted(self.rng.sample(range(1, lots), parts - 1)) if parts > 1 else []
        for a, b in zip([0, *cuts], [*cuts, lots], strict=True):
            self.fill(self.params.lot * (b - a))

    def partial(self) -> None:
        """Fill part of what is left (at least one lot, never all)."""
        lots = int((self.quantity - self.cum) / self.params.lot)
        if lots > 1:
            self.fill(self.params.lot * self.rng.randint(1, lots - 1))

    def status_code(self) -> str:
        return "2" if self.cum >= self.quantity else "1" if self.cum else "0"


def _plan(seed: int, n: int, symbols: Sequence[str], day_ns: int) -> tuple[list[Step], str, Expected]:
    """One order's messages, its first ClOrdID and what the ledger should hold of it."""
    rng = random.Random(seed * 1_000_003 + n)
    scenario = SCENARIOS[n] if n < len(SCENARIOS) else rng.choices(_RANDOM_SCENARIOS, _WEIGHTS)[0]
    o = _Order(seed, n, symbols[rng.randrange(len(symbols))], rng, day_ns + 86_400_000_000_000)
    status = "FILLED"
    if scenario == "market":
        o.ord_type, o.tif, o.price = "1", "3", None
        o.new()
        o.fills(o.quantity, rng.randint(1, 2))
    elif scenario == "fill":
        if rng.random() < 0.3:
            o.pending_new()
        o.new()
        o.fills(o.quantity, rng.randint(1, 4))
    elif scenario in ("partial_cancel", "cancel"):
        o.new()
        if scenario == "partial_cancel":
            o.partial()
        cancel_id = o.current_id + "-X"
        if scenario == "cancel" or rng.random() < 0.5:
            o.report("6", "6", cl_ord_id=cancel_id, orig=o.current_id)
        o.report("4", "4", cl_ord_id=cancel_id, orig=o.current_id)
        status = "CANCELED"
    elif scenario == "replace":
        o.new()
        new_id = o.current_id + "-R"
        o.report("E", "E", cl_ord_id=new_id, orig=o.current_id)
        orig, o.current_id = o.current_id, new_id
        o.quantity += o.params.lot * 100 * rng.randint(1, 50)
        assert o.price is not None
        o.price += o.params.tick * rng.randint(-20, 20)
        o.report("5", "0", orig=orig)
        o.fills(o.quantity, rng.randint(1, 3))
    elif scenario == "reject":
        o.report("8", "8", extra=[(103, "3"), (58, "Order exceeds limit: notional above the account's cap")])
        status = "REJECTED"
    elif scenario == "expire":
        o.tif = "6"
        o.new()
        if rng.random() < 0.5:
            o.partial()
        o.report("C", "C")
        status = "EXPIRED"
    elif scenario == "cancel_reject":
        o.new()
        o.partial()
        response_to = rng.choice("12")
        request_id = o.current_id + ("-X" if response_to == "1" else "-R")
        o.steps.append(("9", [(37, o.order_id), (11, request_id), (41, o.current_id), (39, o.status_code()),
                              (434, response_to), (102, "0"), (58, "Too late: the order is filling")]))  # fmt: skip
        o.fills(o.quantity - o.cum, 1)
    elif scenario == "bust":
        o.new()
        exec_id = o.fill(o.quantity)
        o.cum, o.notional = Decimal(0), Decimal(0)  # what the venue says now; the ledger keeps the fill
        o.report("H", "0", extra=[(19, exec_id), (58, "Trade canceled by the venue")])
        o.cum = o.quantity
    else:  # pragma: no cover - the tables above name every scenario
        raise AssertionError(scenario)
    filled = o.cum if scenario != "bust" else o.quantity
    return o.steps, o.client_order_id, Expected(status, filled, o.order_id, o.fees)


# ------------------------------------------------------------------------------ the day
def _day_ns(seed: int) -> int:
    return DAY_ZERO_NS + (seed % 300) * 86_400_000_000_000


def simulate_fix_day(seed: int, orders: int, *, symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT"),
                     delimiter: bytes = b"\x01") -> Iterator[bytes]:  # fmt: skip
    """The drop copy of a simulated day, one message at a time (deterministic from the seed)."""
    rng = random.Random(seed)
    day = _day_ns(seed)
    now = day + 1_000_000_000
    seq = 0
    d = delimiter

    def message(msg_type: str, body: Sequence[tuple[int, object]], transact: bool = False) -> bytes:
        nonlocal seq
        seq += 1
        stamp = fix_time(now)
        fields: list[tuple[int, object]] = [(35, msg_type), (49, SENDER), (56, TARGET), (34, seq), (52, stamp),
                                            *body]  # fmt: skip
        if transact:
            fields.append((60, stamp))
        return fix_message(fields, d)

    yield message("A", [(98, 0), (108, 30)])
    now += 1_000_000
    yield message("0", [])
    last_heartbeat = now
    live: list[Iterator[Step]] = []
    started = 0
    window = 4
    while live or started < orders:
        while len(live) < window and started < orders:
            steps, _, _ = _plan(seed, started, symbols, day)
            live.append(iter(steps))
            started += 1
        now += rng.randint(1_000, 50_000) * 1000  # 1 to 50 ms
        if now - last_heartbeat >= HEARTBEAT_NS:
            last_heartbeat = now
            yield message("0", [])
        k = rng.randrange(len(live))
        step = next(live[k], None)
        if step is None:
            live.pop(k)
            window = rng.randint(2, 6)
            continue
        yield message(step[0], step[1], transact=True)
    now += 1_000_000
    yield message("5", [(58, "end of day")])


def simulate_fix_day_expectations(seed: int, orders: int, *, symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT"),
                                  ) -> dict[str, Expected]:  # fmt: skip
    """What the ledger should hold of each order of `simulate_fix_day(seed, orders, symbols=...)`, by its
    first ClOrdID (status, filled quantity, OrderID, fees in the quote asset)."""
    day = _day_ns(seed)
    result = {}
    for n in range(orders):
        _, client_order_id, expected = _plan(seed, n, symbols, day)
        result[client_order_id] = expected
    return result


# ------------------------------------------------------------------------------ instruments
def _text(number: Decimal) -> str:
    return f"{number:.8f}"


def instruments_exchange_info(symbols: Sequence[str] = ("BTCUSDT", "ETHUSDT")) -> bytes:
    """A Binance spot exchangeInfo JSON naming the symbols (status TRADING, PRICE_FILTER, LOT_SIZE)."""
    entries = []
    for symbol in symbols:
        p = symbol_params(symbol)
        entries.append({
            "symbol": symbol, "status": "TRADING", "baseAsset": p.base, "baseAssetPrecision": 8,
            "quoteAsset": p.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": _text(p.tick), "maxPrice": "1000000.00000000",
                 "tickSize": _text(p.tick)},
                {"filterType": "LOT_SIZE", "minQty": _text(p.lot), "maxQty": "9000.00000000",
                 "stepSize": _text(p.lot)},
            ],
            "permissions": ["SPOT"],
        })  # fmt: skip
    info = {"timezone": "UTC", "serverTime": DAY_ZERO_NS // 1_000_000, "rateLimits": [], "exchangeFilters": [],
            "symbols": entries}  # fmt: skip
    return json.dumps(info, indent=1).encode()
