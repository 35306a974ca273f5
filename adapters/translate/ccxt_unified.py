"""ccxt's unified structures (orders, trades, balances, positions) as JSON lines, and ccxt `markets` files.

One line is one JSON value, in one of three forms:

- wrapped: `{"type": "order" | "trade" | "balance" | "positions", "data": ..., "timestamp": ms}`; the
  optional `timestamp` (when the writer fetched the data) dates a balance or positions report that carries
  no time of its own.
- bare: a ccxt dict as `json.dumps` writes what ccxt returns, recognised by its keys:
  - order: has `id`, `status`, `side` and `amount` (a trade never has a status);
  - trade: has `id`, `order`, `side`, `price` and `amount`, and no `status`;
  - balance: has a `total` object;
  - position: has `symbol`, `contracts` and `side`; a non-empty list of positions is a positions report.
  A value matching no rule, or more than one, is untranslatable: wrap it to say what it is.
- raw: `{"exchange": "<ccxt id>", "type": "order" | "trade" | "balance", "raw": {...}, "symbol": "BTC/USDT"}`,
  an exchange's own payload, parsed by that exchange's ccxt parser (the optional `symbol` names the
  market when the payload does not). ccxt is an optional extra, imported on the first raw line only.
  The exchange's markets are built from the instruments `load_markets` made (their `metadata` keeps the
  ccxt market ids). ccxt's parsers return floats; see `_exact` for how the exchange's exact text is kept.

Numbers: ccxt writes them as JSON floats (`0.1`); they are decoded from the JSON text as `Decimal`, so
they are exactly what the line says, never a binary float. Times are ccxt's integer milliseconds; a fact
without its time is untranslatable (the translator never reads the clock).

What each structure records:

- An order is a snapshot of the order's state, not an event: `open` and `closed` record `OrderAccepted`
  (keyed by the exchange order id, so every later snapshot of the same order records nothing new),
  `canceled` adds `CancelAccepted`, `expired` adds `OrderExpired`, `rejected` records `OrderRejected`
  (the accept is dated by `timestamp`, the end by `lastUpdateTimestamp` when given).
  A snapshot's `filled` records no fill: it has no trade id, so nothing would tell a second snapshot's
  `filled` from new fills, and the ledger keys fills by trade id. Fills come as trades, alone or in the
  order's `trades` list (translated with the order, after its accept and before its cancel or expiry; a
  listed trade without its own time is dated by the order's `lastTradeTimestamp`).
- A trade records `OrderFilled` (trade id = ccxt `id`). Its `OrderRef` describes the order from the
  trade's side, type, amount and price when it has a type; the amount is only the trade's, so an order
  first seen through a trade is discovered with the trade's amount as its quantity (let order snapshots
  come first).
- A balance records `ExchangeBalancesReported` over the currencies in `total` (`used` is locked).
- Positions record `ExchangePositionsReported`, each signed (short < 0), netted per symbol.
  A report's id is its time and a digest of what it says: a redelivered report records once.

`instruments` is keyed by ccxt's unified symbol (`BTC/USDT`, `BTC/USDT:USDT`); facts name the
instrument's own `symbol` (the same, for instruments `load_markets` made).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from adapters.translate import Format, base
from adapters.translate.base import (
    UNSET,
    UNSTAMPED,
    AccountFact,
    Fact,
    Instruments,
    OrderFact,
    OrderRef,
    Translation,
    Untranslatable,
    decimal_of,
)
from kernel import events as ev
from kernel.schema.order_spec import (
    UINT64_MAX,
    AssetType,
    OrderSide,
    OrderType,
    TimeInForce,
    check_input_bounds,
)

_decoder = msgspec.json.Decoder(float_hook=Decimal)
_ZERO = Decimal(0)
_MS_MAX = UINT64_MAX // 1_000_000  # the latest ms whose ns fit the ledger's times
_KINDS = ("order", "trade", "balance", "positions")
_RAW_KINDS = ("order", "trade", "balance")
CCXT_EXTRA_MISSING = "raw ccxt payloads need the ccxt extra: pip install 'exchange-ledger[ccxt]'"


# ------------------------------------------------------------------------------ small strict readers
def _ms(value: object, field: str) -> int:
    """ccxt's integer milliseconds, as ns."""
    if value is None:
        raise Untranslatable(f"{field} is missing: a fact needs the time it happened")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MS_MAX:
        raise Untranslatable(f"{field} is not integer milliseconds: {value!r}")
    return value * 1_000_000


def _bounded(number: Decimal, field: str) -> Decimal:
    try:
        return check_input_bounds(number)
    except ValueError as e:
        raise Untranslatable(f"{field} is {e}") from None


def _positive(value: object, field: str) -> Decimal:
    if value is None:
        raise Untranslatable(f"{field} is missing")
    number = decimal_of(value, field)
    if number <= 0:
        raise Untranslatable(f"{field} must be > 0, got {number}")
    return _bounded(number, field)


def _optional_positive(value: object, field: str) -> Decimal | None:
    """A number that may be absent (None); present, it must be a decimal; None unless it is > 0."""
    if value is None:
        return None
    number = decimal_of(value, field)
    return _bounded(number, field) if number > 0 else None


def _text(value: object, field: str) -> str:
    """An identifier: a non-empty string (an integer is taken as its digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    if value is None or value == "":
        raise Untranslatable(f"{field} is missing")
    raise Untranslatable(f"{field} is not a string: {value!r}")


def _instrument(symbol: object, instruments: Instruments, field: str = "symbol") -> ev.InstrumentSpec:
    if symbol is None:
        raise Untranslatable(f"{field} is missing")
    spec = instruments.get(symbol) if isinstance(symbol, str) else None
    if spec is None:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    return spec


def _dict(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Untranslatable(f"{field} is not an object: {_brief(value)}")
    return value


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_SIDES = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
_LIQUIDITY = {"taker": ev.Liquidity.TAKER, "maker": ev.Liquidity.MAKER, None: None}


def _side(value: object, field: str) -> OrderSide | None:
    if value is None:
        return None
    side = _SIDES.get(value) if isinstance(value, str) else None
    if side is None:
        raise Untranslatable(f"{field} is not 'buy' or 'sell': {value!r}")
    return side


# ------------------------------------------------------------------------------ the order's description
# ccxt type -> (ledger type, post only). Triggered orders are "limit" or "market" with a trigger price in
# ccxt 4; older parsers, and some exchanges, still name them. A take-profit is a triggered order too.
_TYPES: dict[str, tuple[OrderType, bool]] = {
    "limit": (OrderType.LIMIT, False),
    "market": (OrderType.MARKET, False),
    "limit_maker": (OrderType.LIMIT, True),
    "stop": (OrderType.STOP, False),
    "stop_market": (OrderType.STOP, False),
    "stop_loss": (OrderType.STOP, False),
    "take_profit": (OrderType.STOP, False),
    "take_profit_market": (OrderType.STOP, False),
    "stop_limit": (OrderType.STOP_LIMIT, False),
    "stop_loss_limit": (OrderType.STOP_LIMIT, False),
    "take_profit_limit": (OrderType.STOP_LIMIT, False),
}
_TRIGGERED = {OrderType.LIMIT: OrderType.STOP_LIMIT, OrderType.MARKET: OrderType.STOP}
_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_STOPS = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
# ccxt timeInForce -> (ledger time in force, post only); None is GTC. ccxt gives a GTD order no expiry,
# so a GTD order cannot be described (the ledger's GTD needs its expire_at).
_TIFS: dict[str | None, tuple[TimeInForce, bool]] = {
    None: (TimeInForce.GTC, False),
    "GTC": (TimeInForce.GTC, False),
    "IOC": (TimeInForce.IOC, False),
    "FOK": (TimeInForce.FOK, False),
    "PO": (TimeInForce.GTC, True),
    "DAY": (TimeInForce.DAY, False),
}
_TRIGGER_FIELDS = ("triggerPrice", "stopPrice", "stopLossPrice", "takeProfitPrice")


def _describe(d: dict[str, Any], symbol: str, quantity: Decimal | None, price: Decimal | None,
              stop_price: Decimal | None) -> ev.OrderSpec | None:  # fmt: skip
    """The order as the ledger's `OrderSpec`, or None when the message does not say enough to describe it
    (no side, a type or time in force the ledger has no name for, a missing quantity or price). A value
    that is there but malformed is untranslatable, never silently dropped."""
    side = _side(d.get("side"), "side")
    kind = d.get("type")
    if side is None or quantity is None or not isinstance(kind, str) or kind not in _TYPES:
        return None
    order_type, post_only = _TYPES[kind]
    if stop_price is not None and order_type in _TRIGGERED:
        order_type = _TRIGGERED[order_type]
    tif_name = d.get("timeInForce")
    tif = _TIFS.get(tif_name) if isinstance(tif_name, str | None) else None
    if tif is None:
        return None
    time_in_force, tif_post_only = tif
    post_only = post_only or tif_post_only or d.get("postOnly") is True
    if order_type in _PRICED and price is None or order_type in _STOPS and stop_price is None:
        return None
    if order_type not in _PRICED:
        price = None  # ccxt reports a market order's average as its price; the order had none
        post_only = False
    return ev.OrderSpec(
        symbol=symbol, side=side, order_type=order_type, quantity=quantity, price=price,
        stop_price=stop_price if order_type in _STOPS else None, time_in_force=time_in_force,
        reduce_only=d.get("reduceOnly") is True, post_only=post_only,
    )  # fmt: skip


def _stop_price(d: dict[str, Any]) -> Decimal | None:
    for field in _TRIGGER_FIELDS:
        value = _optional_positive(d.get(field), field)
        if value is not None:
            return value
    return None


# ------------------------------------------------------------------------------ trades
def _fee(t: dict[str, Any], field: str) -> tuple[Decimal, str | None]:
    """The fill's fee: ccxt's `fee`, else its `fees` summed per currency (in one currency only: the ledger
    keeps one fee per fill)."""
    fee = t.get("fee")
    if fee is not None and _dict(fee, f"{field}fee").get("cost") is not None:
        cost = decimal_of(fee["cost"], f"{field}fee.cost")
        currency = fee.get("currency")
    else:
        fees = t.get("fees") or []
        if not isinstance(fees, list):
            raise Untranslatable(f"{field}fees is not a list: {_brief(fees)}")
        totals: dict[object, Decimal] = {}
        for i, item in enumerate(fees):
            item = _dict(item, f"{field}fees[{i}]")
            if item.get("cost") is not None:
                currency = item.get("currency")
                if not isinstance(currency, str | None):
                    raise Untranslatable(f"{field}fees[{i}].currency is not a string: {_brief(currency)}")
                totals[currency] = totals.get(currency, _ZERO) + decimal_of(item["cost"], f"{field}fees[{i}].cost")
        if not totals:
            return _ZERO, None
        if len(totals) > 1:
            names = ", ".join(sorted(str(c) for c in totals))
            raise Untranslatable(f"{field}fees are in several currencies ({names}): the ledger keeps one fee per fill")
        [(currency, cost)] = totals.items()
    fee_asset = currency if isinstance(currency, str) and currency else None
    if cost and fee_asset is None:
        raise Untranslatable(f"{field}fee.currency is missing or not a string for a fee of {cost}: {currency!r}")
    return _bounded(cost, f"{field}fee.cost"), fee_asset


def _fill(t: dict[str, Any], instruments: Instruments, order: tuple[dict[str, Any], OrderRef] | None = None,
          field: str = "") -> OrderFact:  # fmt: skip
    """A ccxt trade as `OrderFilled`. `order` is the order snapshot whose `trades` list holds the trade, and
    its ref: its symbol and id stand in where the trade leaves them out."""
    trade_id = _text(t.get("id"), f"{field}id")
    symbol = t.get("symbol")
    if symbol is None and order is not None:
        symbol = order[0].get("symbol")
    spec = _instrument(symbol, instruments, f"{field}symbol")
    ts_ms = t.get("timestamp")
    if ts_ms is None and order is not None:  # an order's fills listed without their times (binance's
        ts_ms = order[0].get("lastTradeTimestamp") or order[0].get("timestamp")  # FULL order response)
    ts = _ms(ts_ms, f"{field}timestamp")
    quantity = _positive(t.get("amount"), f"{field}amount")
    price = _positive(t.get("price"), f"{field}price")
    fee, fee_asset = _fee(t, field)
    maker = t.get("takerOrMaker")
    if maker not in _LIQUIDITY:
        raise Untranslatable(f"{field}takerOrMaker is not 'taker' or 'maker': {maker!r}")
    order_id = t.get("order")
    if order is not None:
        ref = order[1]
        if order_id is not None and _text(order_id, f"{field}order") != ref.exchange_order_id:
            raise Untranslatable(f"{field}order is {order_id!r}, not the order {ref.exchange_order_id!r} listing it")
    elif order_id is None:
        raise Untranslatable(f"{field}order is missing: a trade must name the order it fills")
    else:
        ref = OrderRef(symbol=spec.symbol, exchange_order_id=_text(order_id, f"{field}order"),
                       order=_describe(t, spec.symbol, quantity, price, None))  # fmt: skip
    event = ev.OrderFilled(
        account_id=UNSET, intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, trade_id=trade_id,
        quantity=quantity, price=price, fee=fee, fee_asset=fee_asset, liquidity=_LIQUIDITY[maker],
    )  # fmt: skip
    return OrderFact(ref=ref, event=event)


def _trade(d: dict[str, Any], instruments: Instruments) -> Translation:
    return Translation(facts=(_fill(d, instruments),))


# ------------------------------------------------------------------------------ orders
def _order_ref(d: dict[str, Any], spec: ev.InstrumentSpec, exchange_order_id: str) -> OrderRef:
    client_order_id = d.get("clientOrderId")
    if client_order_id is not None and not isinstance(client_order_id, str):
        raise Untranslatable(f"clientOrderId is not a string: {client_order_id!r}")
    amount = _optional_positive(d.get("amount"), "amount")
    price = _optional_positive(d.get("price"), "price")
    described = _describe(d, spec.symbol, amount, price, _stop_price(d))
    return OrderRef(symbol=spec.symbol, client_order_id=client_order_id or "", exchange_order_id=exchange_order_id,
                    order=described)  # fmt: skip


_STATUSES = ("open", "closed", "canceled", "expired", "rejected")


def _order(d: dict[str, Any], instruments: Instruments) -> Translation:
    status = d.get("status")
    if status not in _STATUSES:
        if status is None:
            raise Untranslatable("status is missing: an order snapshot must say the order's status")
        raise Untranslatable(f"status {status!r} is not a ccxt order status ({', '.join(_STATUSES)})")
    spec = _instrument(d.get("symbol"), instruments)
    ts = _ms(d.get("timestamp"), "timestamp")
    updated = d.get("lastUpdateTimestamp")
    ts_done = ts if updated is None else _ms(updated, "lastUpdateTimestamp")
    order_id = d.get("id")
    if order_id is None and status == "rejected" and d.get("clientOrderId"):
        exchange_order_id = ""  # refused before the exchange numbered it; the client order id names it
    else:
        exchange_order_id = _text(order_id, "id")
    ref = _order_ref(d, spec, exchange_order_id)
    trades = d.get("trades") or []
    if not isinstance(trades, list):
        raise Untranslatable(f"trades is not a list: {_brief(trades)}")
    fills = tuple(_fill(_dict(t, f"trades[{i}]"), instruments, (d, ref), f"trades[{i}].") for i, t in enumerate(trades))
    common = dict(account_id=UNSET, intent_id=UNSET, ts_recorded=UNSTAMPED)
    if status == "rejected":
        reason = "rejected by the exchange (ccxt status 'rejected')"
        first: Fact = OrderFact(ref, ev.OrderRejected(**common, ts_event=ts_done, reason=reason,
                                                      exchange_order_id=exchange_order_id))  # fmt: skip
        return Translation(facts=(first, *fills))
    facts: list[Fact] = [OrderFact(ref, ev.OrderAccepted(**common, ts_event=ts, exchange_order_id=exchange_order_id))]
    facts += fills
    if status == "canceled":
        facts.append(OrderFact(ref, ev.CancelAccepted(**common, ts_event=ts_done)))
    elif status == "expired":
        facts.append(OrderFact(ref, ev.OrderExpired(**common, ts_event=ts_done)))
    return Translation(facts=tuple(facts))


# ------------------------------------------------------------------------------ account reports
def _report_id(kind: str, ts_ms: int, content: list[tuple[str, ...]]) -> str:
    """Stable across redeliveries of the same report; distinct for a report taken at another time or
    saying something else (two reports of the same millisecond, e.g. two accounts fetched together, must
    both record; so must a report repeating an earlier one's numbers at a later time)."""
    digest = hashlib.sha256(repr(content).encode()).hexdigest()[:16]
    return f"{kind}:{ts_ms}:{digest}"


def _canonical(number: Decimal) -> str:
    return str(number.normalize()) if number else "0"


def _report_ms(own: object, fallback: object, what: str) -> int:
    value = own if own is not None else fallback
    if value is None:
        raise Untranslatable(f"timestamp is missing: a {what} report needs the time it was taken "
                             f'(wrap it as {{"type": "{what}", "timestamp": ms, "data": ...}})')  # fmt: skip
    return _ms(value, "timestamp") // 1_000_000


def _balance(d: dict[str, Any], fallback_ms: object = None) -> Translation:
    totals = _dict(d.get("total"), "total")
    used = d.get("used") or {}
    free = d.get("free") or {}
    if not isinstance(used, dict) or not isinstance(free, dict):
        raise Untranslatable("used and free must be objects of currency -> amount")
    ts_ms = _report_ms(d.get("timestamp"), fallback_ms, "balance")
    balances = []
    for asset in sorted(totals):
        total = totals[asset]
        locked = used.get(asset)
        if total is None:  # ccxt leaves total unknown when the exchange gives free and used only
            if locked is None or free.get(asset) is None:
                raise Untranslatable(f"total[{asset!r}] is missing, and free and used do not give it")
            total = decimal_of(free[asset], f"free[{asset!r}]") + decimal_of(locked, f"used[{asset!r}]")
        balances.append(ev.ReportedBalance(
            asset_id=asset, total=_bounded(decimal_of(total, f"total[{asset!r}]"), f"total[{asset!r}]"),
            locked=_ZERO if locked is None else _bounded(decimal_of(locked, f"used[{asset!r}]"), f"used[{asset!r}]"),
        ))  # fmt: skip
    content = [(b.asset_id, _canonical(b.total), _canonical(b.locked)) for b in balances]
    event = ev.ExchangeBalancesReported(
        account_id=UNSET, ts_event=ts_ms * 1_000_000, ts_recorded=UNSTAMPED, balances=tuple(balances),
        report_id=_report_id("balance", ts_ms, content),
    )  # fmt: skip
    return Translation(facts=(AccountFact(event),))


def _positions(data: object, instruments: Instruments, fallback_ms: object = None) -> Translation:
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Untranslatable(f"positions is not a list or a position: {_brief(data)}")
    net: dict[str, list[Any]] = {}  # symbol -> [quantity, entry price, positions seen]
    times: list[object] = []
    for i, p in enumerate(items):
        p = _dict(p, f"positions[{i}]")
        spec = _instrument(p.get("symbol"), instruments, f"positions[{i}].symbol")
        contracts = p.get("contracts")
        if contracts is None:
            raise Untranslatable(f"positions[{i}].contracts is missing")
        quantity = _bounded(decimal_of(contracts, f"positions[{i}].contracts"), f"positions[{i}].contracts")
        side = p.get("side")
        if side == "short":
            quantity = -abs(quantity)
        elif side == "long":
            quantity = abs(quantity)
        elif side is not None or quantity:
            raise Untranslatable(f"positions[{i}].side is not 'long' or 'short': {side!r}")
        entry = _optional_positive(p.get("entryPrice"), f"positions[{i}].entryPrice")
        times.append(p.get("timestamp"))
        row = net.setdefault(spec.symbol, [_ZERO, None, 0])
        row[0] += quantity
        if quantity:
            row[1], row[2] = entry, row[2] + 1
    if times and all(t is not None for t in times):  # the report's time is its latest position's
        ts_ms = max(_ms(t, f"positions[{i}].timestamp") for i, t in enumerate(times)) // 1_000_000
    else:
        ts_ms = _report_ms(None, fallback_ms, "positions")
    # hedge mode: a long and a short of one symbol net to one position, whose entry price is then unknown
    positions = tuple(
        ev.ReportedPosition(symbol_id=symbol, quantity=quantity, entry_price=entry if seen == 1 else None)
        for symbol, (quantity, entry, seen) in sorted(net.items())
    )  # fmt: skip
    content = [(p.symbol_id, _canonical(p.quantity), str(p.entry_price)) for p in positions]
    event = ev.ExchangePositionsReported(
        account_id=UNSET, ts_event=ts_ms * 1_000_000, ts_recorded=UNSTAMPED, positions=positions,
        report_id=_report_id("positions", ts_ms, content),
    )  # fmt: skip
    return Translation(facts=(AccountFact(event, symbols=tuple(p.symbol_id for p in positions)),))


# ------------------------------------------------------------------------------ shapes
def _is_order(d: dict[str, Any]) -> bool:
    return "id" in d and "status" in d and "side" in d and "amount" in d


def _is_trade(d: dict[str, Any]) -> bool:
    return "status" not in d and "id" in d and "order" in d and "side" in d and "price" in d and "amount" in d


def _is_balance(d: dict[str, Any]) -> bool:
    return isinstance(d.get("total"), dict)


def _is_position(d: dict[str, Any]) -> bool:
    return "symbol" in d and "contracts" in d and "side" in d


_SHAPES = (("order", _is_order), ("trade", _is_trade), ("balance", _is_balance), ("positions", _is_position))


def _shape(value: object) -> str:
    if isinstance(value, list):
        if value and all(isinstance(p, dict) and _is_position(p) for p in value):
            return "positions"
        what = "a list that is not of ccxt positions" if value else "an empty list"
        raise Untranslatable(f'{what}: say what it is, e.g. {{"type": "positions", "data": [...]}}')
    if not isinstance(value, dict):
        raise Untranslatable(f"not a JSON object: {_brief(value)}")
    if not value:
        raise Untranslatable("an empty object: not a ccxt order, trade, balance or positions")
    kinds = [name for name, test in _SHAPES if test(value)]
    if len(kinds) == 1:
        return kinds[0]
    if kinds:
        raise Untranslatable(f"ambiguous: the object looks like a ccxt {' and a '.join(kinds)}; wrap it to say which")
    keys = ", ".join(sorted(value)[:8])
    raise Untranslatable(f"unknown shape: not a ccxt order, trade, balance or positions (keys: {keys})")


def _translate_kind(kind: str, data: Any, instruments: Instruments, fallback_ms: object = None) -> Translation:
    if kind == "trade":
        return _trade(_dict(data, "data"), instruments)
    if kind == "order":
        return _order(_dict(data, "data"), instruments)
    if kind == "balance":
        return _balance(_dict(data, "data"), fallback_ms)
    return _positions(data, instruments, fallback_ms)


def translate(raw: bytes, instruments: Instruments) -> Translation:
    """One JSON line (see the module text) to ledger facts."""
    try:
        value = _decoder.decode(raw)
    except msgspec.DecodeError as e:
        raise Untranslatable(f"invalid JSON: {e}") from None
    if isinstance(value, dict):
        kind = value.get("type")
        if "data" in value and kind in _KINDS:
            return _translate_kind(kind, value["data"], instruments, value.get("timestamp"))
        if "raw" in value and "exchange" in value:
            return _translate_raw(value, instruments)
    return _translate_kind(_shape(value), value, instruments)


# ------------------------------------------------------------------------------ raw payloads (ccxt extra)
class _Parser:
    """One ccxt exchange object per exchange id, its markets built from the instruments in use."""

    def __init__(self, exchange: Any):
        self.exchange = exchange
        self.instruments: Instruments | None = None
        self.count = -1
        self.lock = threading.Lock()


_parsers: dict[str, _Parser] = {}
_parsers_lock = threading.Lock()


def _ccxt() -> Any:
    try:
        import ccxt  # an optional extra, imported for raw payloads only
    except ImportError:
        raise Untranslatable(CCXT_EXTRA_MISSING) from None
    return ccxt


def _parser(exchange_id: object) -> _Parser:
    ccxt = _ccxt()
    if not isinstance(exchange_id, str) or exchange_id not in ccxt.exchanges:
        raise Untranslatable(f"unknown ccxt exchange {exchange_id!r}")
    with _parsers_lock:
        parser = _parsers.get(exchange_id)
        if parser is None:
            parser = _parsers[exchange_id] = _Parser(getattr(ccxt, exchange_id)())
    return parser


_MARKET_TYPES = {
    AssetType.SPOT: ("spot", None), AssetType.MARGIN: ("spot", None), AssetType.CURRENCY: ("spot", None),
    AssetType.PERPETUAL: ("swap", True), AssetType.INVERSE_PERPETUAL: ("swap", False),
    AssetType.FUTURE: ("future", True), AssetType.INVERSE_FUTURE: ("future", False), AssetType.OPTION: ("option", True),
}  # fmt: skip


def ccxt_market(symbol: str, spec: ev.InstrumentSpec) -> dict[str, Any] | None:
    """The ccxt market an instrument `load_markets` made stands for (None for another's instrument)."""
    metadata = spec.metadata
    market_id = metadata.get("id")
    if not isinstance(market_id, str):
        return None
    kind, linear = _MARKET_TYPES[spec.asset_type]
    if kind == "option":
        linear = spec.settlement_asset is None or spec.settlement_asset == spec.quote_asset
    contract = kind != "spot"
    market = {
        "id": market_id, "symbol": symbol, "base": spec.base_asset, "quote": spec.quote_asset,
        "settle": spec.settlement_asset, "type": kind, "spot": kind == "spot",
        "margin": spec.asset_type is AssetType.MARGIN, "swap": kind == "swap", "future": kind == "future",
        "option": kind == "option", "contract": contract,
        "linear": linear if contract else None, "inverse": (not linear) if contract else None,
        "contractSize": float(spec.contract_size) if spec.contract_size is not None else None,
        "expiry": spec.expiry_timestamp // 1_000_000 if spec.expiry_timestamp is not None else None, "active": True,
    }  # fmt: skip
    for key in ("baseId", "quoteId", "settleId", "optionType"):
        if key in metadata:
            market[key] = metadata[key]
    if "strike" in metadata:
        market["strike"] = float(metadata["strike"])
    return market


def _set_markets(parser: _Parser, instruments: Instruments) -> None:
    """(Re)build the exchange's markets when other instruments are passed. The same mapping object with the
    same length counts as unchanged."""
    if parser.instruments is instruments and parser.count == len(instruments):
        return
    exchange = parser.exchange
    markets = [exchange.safe_market_structure(m) for symbol, spec in instruments.items()
               if (m := ccxt_market(symbol, spec)) is not None]  # fmt: skip
    exchange.set_markets(markets)
    parser.instruments, parser.count = instruments, len(instruments)


def _exact(text: object, number: object) -> object:
    """Merge a parse in ccxt's string mode (`exchange.number = str`) with one in its default float mode.

    ccxt's parsers read an exchange's numbers as strings and hand them to `exchange.number` at the end, so
    in string mode a number is the exchange's own text, exactly. String mode is not what ccxt tests,
    though: a parser doing arithmetic on a parsed number would give nonsense (`"2" * 3`). So a string is
    taken only where it agrees with the float parse (`float(text) == number`); anywhere else the float is
    taken through its shortest repr (0.1 -> "0.1"), as the kernel's `Float` takes floats. `info` (the raw
    payload) is dropped."""
    if isinstance(number, float):
        if isinstance(text, str):
            try:
                if float(text) == number:
                    return Decimal(text)
            except (ValueError, InvalidOperation):
                pass
        return Decimal(repr(number))
    if isinstance(number, dict):
        other = text if isinstance(text, dict) else {}
        return {k: _exact(other.get(k), v) for k, v in number.items() if k != "info"}
    if isinstance(number, list):
        others = text if isinstance(text, list) and len(text) == len(number) else [None] * len(number)
        return [_exact(t, n) for t, n in zip(others, number, strict=True)]
    return number


def _parse(exchange: Any, kind: str, raw: Any, market: Any) -> Any:
    if kind == "order":
        return exchange.parse_order(raw, market)
    if kind == "trade":
        return exchange.parse_trade(raw, market)
    try:
        return exchange.parse_balance(raw)
    except Exception as e:  # ccxt's NotSupported; binance parses its balances with parse_balance_custom
        custom = getattr(exchange, "parse_balance_custom", None)
        if custom is None or type(e).__name__ != "NotSupported":
            raise
        return custom(raw, "spot")  # the ccxt format's accounts are spot accounts


def _as_text(value: Any) -> Any:
    """The raw payload as ccxt expects it from `json.loads`, except that a JSON float is its own text
    (`"0.10"`), which ccxt's parsers read as they read numbers sent as strings."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def _one_line(e: Exception) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())[:200]


def _translate_raw(line: dict[str, Any], instruments: Instruments) -> Translation:
    kind = line.get("type")
    if kind not in _RAW_KINDS:
        raise Untranslatable(f"type {kind!r} is not a raw kind ccxt parses ({', '.join(_RAW_KINDS)})")
    raw = line["raw"]
    if not isinstance(raw, dict | list):
        raise Untranslatable(f"raw is not a JSON object: {_brief(raw)}")
    raw = _as_text(raw)  # ccxt reads an exchange's numbers as text; a JSON number's text is kept exactly
    parser = _parser(line["exchange"])
    exchange = parser.exchange
    with parser.lock:
        _set_markets(parser, instruments)
        market = None
        symbol = line.get("symbol")
        if symbol is not None:
            if not isinstance(symbol, str) or symbol not in exchange.markets:
                raise Untranslatable(f"unknown symbol {symbol!r}")
            market = exchange.markets[symbol]
        try:
            exchange.number = str
            text = _parse(exchange, kind, raw, market)
        except Exception:  # the string mode is a refinement; the float parse below decides
            text = None
        finally:
            exchange.number = float
        try:
            number = _parse(exchange, kind, raw, market)
        except Exception as e:
            raise Untranslatable(f"ccxt {exchange.id} could not parse the {kind}: {_one_line(e)}") from None
    unified = _exact(text, number)
    return _translate_kind(kind, unified, instruments, line.get("timestamp"))


# ------------------------------------------------------------------------------ markets files
TICK_SIZE = 4  # ccxt's precisionMode constants
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
_MODES = {"TICK_SIZE": TICK_SIZE, "DECIMAL_PLACES": DECIMAL_PLACES, "SIGNIFICANT_DIGITS": SIGNIFICANT_DIGITS,
          TICK_SIZE: TICK_SIZE, DECIMAL_PLACES: DECIMAL_PLACES, SIGNIFICANT_DIGITS: SIGNIFICANT_DIGITS}  # fmt: skip


def _market_number(value: object, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(f"{where} is not a number: {_brief(value)}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where} is not a number: {_brief(value)}") from None
    if not number.is_finite():
        raise ValueError(f"{where} is not a finite number: {value!r}")
    return number


def _precision_mode(markets: list[dict[str, Any]], given: object) -> int:
    """The file's `precisionMode` when it carries one; else TICK_SIZE when any market's precision is not
    a whole number (a tick like 0.01), DECIMAL_PLACES when all are (counts of places like 2). Decided per
    file, not per value: a whole tick (1, 10) among fractional ones is a tick, not a count."""
    if given is not None:
        mode = _MODES.get(given) if isinstance(given, int | str) and not isinstance(given, bool) else None
        if mode is None:
            raise ValueError(f"precisionMode {given!r} is not TICK_SIZE (4), DECIMAL_PLACES (2) or "
                             "SIGNIFICANT_DIGITS (3)")
        return mode
    for m in markets:
        precision = m.get("precision") or {}
        for key in ("amount", "price"):
            value = _market_number(precision.get(key) if isinstance(precision, dict) else None,
                                   f"market {m.get('symbol')!r} precision.{key}")  # fmt: skip
            if value is not None and value != value.to_integral_value():
                return TICK_SIZE
    return DECIMAL_PLACES


def _step(value: Decimal | None, mode: int, where: str) -> Decimal | None:
    if value is None or mode == SIGNIFICANT_DIGITS:  # significant digits give no fixed step
        return None
    if mode == DECIMAL_PLACES:
        if value != value.to_integral_value():
            raise ValueError(f"{where} is {value}, not a whole number of decimal places")
        return Decimal(1).scaleb(-int(value))
    if value <= 0:
        raise ValueError(f"{where} must be a tick > 0, got {value}")
    return value


def _asset_type(m: dict[str, Any], where: str) -> AssetType:
    kind = m.get("type")
    if kind == "spot":
        return AssetType.SPOT
    if kind == "margin":
        return AssetType.MARGIN
    if kind not in ("swap", "future", "option"):
        raise ValueError(f"{where} type {kind!r} is not spot, margin, swap, future or option")
    if kind == "option":
        return AssetType.OPTION
    linear, inverse = m.get("linear"), m.get("inverse")
    if linear is None and inverse is None:  # older files: the settlement currency tells
        settle = m.get("settle")
        linear = settle is not None and settle == m.get("quote")
        inverse = settle is not None and settle == m.get("base")
    if linear is True:
        return AssetType.PERPETUAL if kind == "swap" else AssetType.FUTURE
    if inverse is True:
        return AssetType.INVERSE_PERPETUAL if kind == "swap" else AssetType.INVERSE_FUTURE
    raise ValueError(f"{where} is a {kind} neither linear nor inverse")


def _instrument_of(m: dict[str, Any], mode: int) -> ev.InstrumentSpec:
    symbol = m.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"a market has no symbol: {_brief(m)}")
    where = f"market {symbol!r}"
    market_id = m.get("id")
    if not isinstance(market_id, str) or not market_id:
        raise ValueError(f"{where} has no id")
    asset_type = _asset_type(m, where)
    precision = m.get("precision") or {}
    if not isinstance(precision, dict):
        raise ValueError(f"{where} precision is not an object")
    expiry = m.get("expiry")
    if expiry is not None and (isinstance(expiry, bool) or not isinstance(expiry, int) or expiry < 0):
        raise ValueError(f"{where} expiry is not integer milliseconds: {expiry!r}")
    contract_size = _market_number(m.get("contractSize"), f"{where} contractSize")
    if contract_size is not None and contract_size <= 0:
        raise ValueError(f"{where} contractSize must be > 0, got {contract_size}")
    strings = {}
    for key in ("base", "quote", "settle"):
        value = m.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where} {key} is not a string: {_brief(value)}")
        strings[key] = value or None
    metadata: dict[str, Any] = {"id": market_id}
    for key in ("baseId", "quoteId", "settleId", "optionType"):
        if isinstance(m.get(key), str):
            metadata[key] = m[key]
    if asset_type is AssetType.OPTION and m.get("strike") is not None:
        metadata["strike"] = str(_market_number(m["strike"], f"{where} strike"))
    return ev.InstrumentSpec(
        asset_id=symbol, symbol=symbol, asset_type=asset_type, name=symbol, base_asset=strings["base"],
        quote_asset=strings["quote"], settlement_asset=strings["settle"],
        contract_size=contract_size if asset_type not in (AssetType.SPOT, AssetType.MARGIN) else None,
        expiry_timestamp=expiry * 1_000_000 if expiry is not None else None,
        tick_size=_step(_market_number(precision.get("price"), f"{where} precision.price"), mode,
                        f"{where} precision.price"),
        lot_size=_step(_market_number(precision.get("amount"), f"{where} precision.amount"), mode,
                       f"{where} precision.amount"),
        metadata=metadata,
    )  # fmt: skip


def load_markets(data: bytes) -> list[ev.InstrumentSpec]:
    """A ccxt `markets` file as instruments, one per market, in the file's order: `exchange.markets` as JSON
    (symbol -> market), a list of markets (`fetch_markets()`), or `{"precisionMode": 4, "markets": ...}`
    to say how `precision` counts (see `_precision_mode` for the rule when it does not).

    spot -> SPOT, margin -> MARGIN; swap -> PERPETUAL (linear) or INVERSE_PERPETUAL; future -> FUTURE or
    INVERSE_FUTURE (expiry ms -> ns); option -> OPTION. `precision.price` is the tick, `precision.amount`
    the lot. The ccxt market id (and base/quote/settle ids) go in `metadata`, so raw payloads, which name
    markets by id, can be parsed against these instruments. A file that cannot be read raises ValueError."""
    try:
        value = _decoder.decode(data)
    except msgspec.DecodeError as e:
        raise ValueError(f"not a ccxt markets file: invalid JSON: {e}") from None
    mode_given = None
    if isinstance(value, dict) and isinstance(value.get("markets"), dict | list) and "symbol" not in value["markets"]:
        mode_given, value = value.get("precisionMode"), value["markets"]
    if isinstance(value, dict):
        markets = list(value.values())
        for key, m in value.items():
            if not isinstance(m, dict):
                raise ValueError(f"market {key!r} is not an object")
            if m.get("symbol") != key:
                raise ValueError(f"market {key!r} names another symbol: {m.get('symbol')!r}")
    elif isinstance(value, list):
        markets = value
        for i, m in enumerate(markets):
            if not isinstance(m, dict):
                raise ValueError(f"markets[{i}] is not an object")
    else:
        raise ValueError("not a ccxt markets file: expected an object of symbol -> market, or a list of markets")
    if not markets:
        raise ValueError("not a ccxt markets file: it lists no market")
    mode = _precision_mode(markets, mode_given)
    specs = [_instrument_of(m, mode) for m in markets]
    seen: set[str] = set()
    for spec in specs:
        if spec.symbol in seen:
            raise ValueError(f"market {spec.symbol!r} is listed twice")
        seen.add(spec.symbol)
    return specs


def instruments_by_symbol(specs: list[ev.InstrumentSpec]) -> Mapping[str, ev.InstrumentSpec]:
    """The `instruments` mapping translate takes, for instruments `load_markets` made."""
    return {spec.symbol: spec for spec in specs}


FORMAT = Format(name="ccxt", exchange="ccxt", account_type=ev.AccountType.SPOT, frame=base.lines,
                translate=translate, load_instruments=load_markets,
                order_ids_per_symbol=True)  # ccxt passes on what the venue numbers (per symbol on Binance)  # fmt: skip
