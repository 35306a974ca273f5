"""Binance user data streams to ledger facts: spot (`binance`) and USDⓈ-M futures (`binance-futures`), and
their exchangeInfo files to instruments.

Input is one JSON message per line, as the stream sends it: a bare event, one wrapped by the WebSocket API
(`{"subscriptionId": n, "event": {...}}`) or by a combined stream (`{"stream": ..., "data": {...}}`). JSON is
decoded with Decimal for every number (Binance sends decimals as strings anyway); a number that is not a
decimal, a missing field or an enum value the docs do not define makes the message untranslatable, with
a one-line reason naming the field, e.g. `q (order quantity) is not a decimal number: 'abc'`.

Spot `executionReport` (and the futures `ORDER_TRADE_UPDATE` "o" object), by execution type `x`:

  NEW               OrderAccepted; with order status X=PENDING_NEW (the pending leg of an order list) an
                    ExecutionReported(PENDING_NEW) instead: the order is in the engine but not working yet
  TRADE             OrderFilled(trade_id=t, quantity=l, price=L, fee=n, fee_asset=N, liquidity=m: MAKER/TAKER)
  CALCULATED        (futures) a liquidation or ADL execution: an OrderFilled like TRADE. An exchange-made order
                    (c `autoclose-...`, `adl_autoclose`, `settlement_autoclose-...`) has no intent: the ingest
                    records it as discovered from `OrderRef.order`. Without a trade id (t <= 0) its trade id is
                    `<i>:CALCULATED:<T>`
  CANCELED          CancelAccepted
  REJECTED          (spot) OrderRejected(reason=r)
  EXPIRED           OrderExpired (X is EXPIRED or EXPIRED_IN_MATCH; the expiry reason `eR`/`er` is not kept)
  TRADE_PREVENTION  (spot) self-trade prevention. When it ends the order (X=EXPIRED_IN_MATCH or EXPIRED), an
                    OrderExpired whose exec id names TRADE_PREVENTION (the catalogue's OrderExpired has no
                    reason field; the exec id is where the reason is kept). When the order stays open (STP mode
                    DECREMENT/TRANSFER), the exchange has cut its quantity: AmendAccepted(quantity = q - A,
                    the cumulative prevented quantity), so the ledger's remaining quantity agrees
  REPLACED          (spot, order amend keep-priority) AmendAccepted(quantity=q, price=p)
  AMENDMENT         (futures, order modify) AmendAccepted(quantity=q, price=p)

Idempotency keys. Binance has no FIX ExecID. A fill's key is its trade id `t` (unique per symbol; the
ledger keys fills per order). Every other answer carries `exec_id = "<i>:<x>:<I>"`: order id, execution type
and the spot Execution Id `I` (documented as "Ignore" before 2025-01, "Execution Id" since; it was always the
engine's execution id, the same on every connection and every redelivery). Without `I` (futures, older
captures) it is `"<i>:<x>@<T>"` with T the order's transaction time (engine time, the same on every
connection; unlike E, the time the push was generated). Two answers of one order with the same execution type
in the same millisecond would share a key; Binance does not produce them (one NEW, one CANCELED per order;
an amend takes longer than a millisecond).

How a message names its order (`OrderRef`): `client_order_id` is the id the order was placed under as far as
the message tells, `orig_client_order_id` the other one it carries. On spot a cancel's message carries the
cancel request's own id in `c` and the order's in `C` (likewise an amend: the new id in `c`, the one before in
`C`), so the ref is `(C, c)` when C is set and `(c, "")` otherwise; futures messages name the order by `c`
alone. `exchange_order_id` is `i` (Binance order ids are unique per symbol, not per account). `order` is the
order as the message describes it, for an order no intent created; None when the message cannot describe a
valid order (a quote-quantity MARKET order with q = 0, a trailing stop without a trigger price yet, a
close-all order): such a fact is recorded only against an intent the ingest finds by id.

Order types: spot LIMIT, MARKET, STOP_LOSS -> STOP, STOP_LOSS_LIMIT -> STOP_LIMIT, TAKE_PROFIT -> STOP,
TAKE_PROFIT_LIMIT -> STOP_LIMIT, LIMIT_MAKER -> LIMIT post-only (take-profit orders trigger on the other side
of the market; the ledger's order types do not say which side a stop triggers on). Futures (the original type
`ot` when given, else `o`): LIMIT, MARKET, STOP -> STOP_LIMIT (a futures STOP has a limit price),
STOP_MARKET -> STOP, TAKE_PROFIT -> STOP_LIMIT, TAKE_PROFIT_MARKET -> STOP, TRAILING_STOP_MARKET -> STOP
triggered at its activation price `AP` (the trailing distance is not kept), LIQUIDATION -> MARKET. Time in
force GTC, IOC, FOK; futures also GTX -> GTC post-only and GTD (expiring at `gtd`). `R` is reduce-only.
A price or stop price of 0 means "none". Futures hedge-mode orders (ps LONG/SHORT) are translated; the ledger
nets them into one position per symbol.

Timestamps: an order fact's ts_event is its transaction time T (the futures order's own T), else E; a
balance report's is E; a balance change's is its clear/transaction time T.

Account messages:
  spot outboundAccountPosition  ExchangeBalancesReported(total = f + l, locked = l)
  spot balanceUpdate            BalanceAdjusted(amount = d, DEPOSIT when d > 0 else WITHDRAWAL; a transfer
                                to or from another Binance wallet looks the same and is recorded the same),
                                reference `balanceUpdate:<a>:<T>:<d>` (clear time and delta as sent: two
                                deposits of one asset cleared in one batch both record)
  futures ACCOUNT_UPDATE        per balance B with a cash reason m and bc != 0 a BalanceAdjusted (reference
                                `ACCOUNT_UPDATE:<m>:<a>:<T>:<wb>`: the wallet balance after the change tells
                                apart two changes in one millisecond, e.g. the funding of two cross-margin
                                positions, whose messages do not name the symbol), then
                                ExchangeBalancesReported(total = wb,
                                locked = 0: futures reports no locked amount), then, when P lists positions,
                                ExchangePositionsReported(quantity = pa signed, entry_price = ep, None when flat)
  futures ACCOUNT_CONFIG_UPDATE LeverageSet(symbol, leverage) for `ac`; the multi-assets switch `ai` is skipped
Cash reasons: DEPOSIT, ADMIN_DEPOSIT, COIN_SWAP_DEPOSIT -> DEPOSIT; WITHDRAW, ADMIN_WITHDRAW,
COIN_SWAP_WITHDRAW, WITHDRAW_REJECT (the return of a refused withdrawal: positive) -> WITHDRAWAL; FUNDING_FEE ->
FUNDING (bc is the funding amount, signed: the docs' "balance change except PnL and commission");
MARGIN_TRANSFER, ASSET_TRANSFER, AUTO_EXCHANGE, MARGIN_TYPE_CHANGE -> TRANSFER; ADJUSTMENT, INSURANCE_CLEAR,
OPTIONS_PREMIUM_FEE, OPTIONS_SETTLE_PROFIT -> CORRECTION. ORDER moves no cash here: a fill's realized PnL and
commission are what the ledger computes from OrderFilled (Binance's own realized profit `rp` is not recorded).
An unknown reason with a nonzero bc is untranslatable (a cash move is never guessed).
Positions: only one-way mode (ps BOTH) is reported. A hedge-mode entry (ps LONG/SHORT) with a nonzero amount
makes the message untranslatable: ACCOUNT_UPDATE lists only the side that changed, so the net position cannot
be known from it; an empty hedge-mode side (pa = 0) is ignored.
Report ids: `<event>:<time>:<crc32 of the listed balances/positions>` (spot: u, the time of the account
update; futures: T), so a redelivered report records once and two different reports in one millisecond both
record.

Skipped by design (no ledger fact): spot listStatus (each order of a list has its own executionReport),
externalLockUpdate (moves free to locked, not the total; the next outboundAccountPosition shows it),
eventStreamTerminated, listenKeyExpired; futures MARGIN_CALL (a warning), TRADE_LITE (a lighter copy of the
TRADE ORDER_TRADE_UPDATE, without the fee), listenKeyExpired, STRATEGY_UPDATE, GRID_UPDATE,
CONDITIONAL_ORDER_TRIGGER_REJECT, ALGO_UPDATE (conditional orders before they trigger; the order one places is
reported by ORDER_TRADE_UPDATE); and WebSocket API responses (`{"id": ..., "status": ...}`).

Instruments (`load_spot_exchange_info`, `load_futures_exchange_info`): one InstrumentSpec per entry of
`symbols`, asset_id = symbol = the exchange symbol, tick size from PRICE_FILTER.tickSize and lot size from
LOT_SIZE.stepSize (0 means none), metadata {"status": ...}. Spot: SPOT, name "BASE/QUOTE". USDⓈ-M futures:
contract size 1, settled in marginAsset, margin rates requiredMarginPercent / 100 and maintMarginPercent / 100;
a PERPETUAL contract (any contractType naming PERPETUAL) is PERPETUAL, named "BASE/QUOTE:MARGIN"; a delivery
contract (CURRENT_QUARTER, NEXT_QUARTER, CURRENT_MONTH, NEXT_MONTH, or a settled one, contractType "") is FUTURE
expiring at deliveryDate, named "BASE/QUOTE:MARGIN-YYMMDD". (COIN-M inverse contracts are another format.)
"""

from __future__ import annotations

import time
import zlib
from decimal import Context, Decimal, Inexact
from typing import Any

import msgspec

from adapters.translate import Format
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
    lines,
    ms_to_ns,
)
from kernel import events as ev
from kernel.schema.order_spec import AssetType, OrderSide, OrderType, TimeInForce, check_input_bounds

ZERO = Decimal(0)
EXACT = Context(prec=100, traps=[Inexact])
"""Sums and differences of two bounded inputs (24 digits either side of the point) are exact in it; Python's
default 28-digit context would round them."""
_decode = msgspec.json.Decoder(float_hook=Decimal).decode
_encode = msgspec.json.encode

# What each field is called in Binance's docs, for the reasons given when one is bad.
_LABELS = {
    "e": "event type", "E": "event time", "T": "transaction time", "s": "symbol", "c": "client order id",
    "C": "original client order id", "S": "side", "o": "order type", "ot": "original order type",
    "f": "time in force", "q": "order quantity", "p": "order price", "P": "stop price", "sp": "stop price",
    "AP": "activation price", "x": "execution type", "X": "order status", "r": "reject reason", "i": "order id",
    "l": "last executed quantity", "L": "last executed price", "n": "commission", "N": "commission asset",
    "t": "trade id", "I": "execution id", "m": "maker flag", "A": "prevented quantity", "gtd": "GTD cancel time",
    "u": "time of last account update", "B": "balances", "a": "asset", "d": "balance delta", "wb": "wallet balance",
    "bc": "balance change", "pa": "position amount", "ep": "entry price", "ps": "position side",
    "R": "reduce only flag", "ac": "account configuration", "leverage": "leverage",
}  # fmt: skip


_NAMED = {key: f"{key} ({name})" for key, name in _LABELS.items()}


def _label(key: str) -> str:
    return _NAMED.get(key, key)


# ------------------------------------------------------------------------------ field readers
def _get(obj: dict[str, Any], key: str, label: str = "") -> Any:
    try:
        return obj[key]
    except KeyError:
        raise Untranslatable(f"{label or _label(key)} is missing") from None


def _text(obj: dict[str, Any], key: str, label: str = "") -> str:
    value = _get(obj, key, label)
    if type(value) is not str:
        raise Untranslatable(f"{label or _label(key)} is not a string: {value!r}")
    return value


def _opt_text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if type(value) is not str:
        raise Untranslatable(f"{_label(key)} is not a string: {value!r}")
    return value


def _dec(obj: dict[str, Any], key: str, label: str = "") -> Decimal:
    """The decimal in `obj[key]`; `label` names the field in a reason (default: its name in the docs)."""
    value = _get(obj, key, label)
    if type(value) is str and len(value) <= 24 and value.isascii():
        # The fast path for what Binance sends: plain ASCII decimal text short enough to be within the ledger's
        # input bounds (at most 24 digits before and after the point).
        digits = value[1:] if value[:1] == "-" else value
        if digits.replace(".", "", 1).isdigit():
            return Decimal(value)
    number = decimal_of(value, label or _label(key))
    try:
        return check_input_bounds(number)
    except ValueError as e:
        raise Untranslatable(f"{label or _label(key)} is {e}") from None


def _positive(obj: dict[str, Any], key: str) -> Decimal:
    number = _dec(obj, key)
    if number <= 0:
        raise Untranslatable(f"{_label(key)} must be > 0, got {number}")
    return number


def _int(obj: dict[str, Any], key: str) -> int:
    value = _get(obj, key)
    if type(value) is not int:
        raise Untranslatable(f"{_label(key)} is not an integer: {value!r}")
    return value


def _ms(obj: dict[str, Any], key: str) -> int:
    value = _get(obj, key)
    if type(value) is int and value >= 0:
        return value * 1_000_000
    return ms_to_ns(value, _label(key))


def _enum(table: dict[str, Any], obj: dict[str, Any], key: str) -> Any:
    value = _text(obj, key)
    try:
        return table[value]
    except KeyError:
        raise Untranslatable(f"unknown {_LABELS[key]} {value!r}") from None


def _digest(content: object) -> str:
    """A short, process-independent digest of a report's content (crc32 of its JSON)."""
    return f"{zlib.crc32(_encode(content)):08x}"


# ------------------------------------------------------------------------------ messages
def _message(raw: bytes) -> dict[str, Any]:
    """The event object of one message, unwrapped from the WebSocket API or combined-stream envelope."""
    try:
        obj = _decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise Untranslatable(f"invalid JSON: {e}") from None
    if type(obj) is not dict:
        raise Untranslatable(f"not a Binance event: a JSON {type(obj).__name__}, not an object")
    if "e" in obj:
        return obj
    if "event" in obj and "subscriptionId" in obj:
        inner = obj["event"]
    elif "data" in obj and "stream" in obj:
        inner = obj["data"]
    else:
        raise Untranslatable("not a Binance event: no event type field 'e'")
    if type(inner) is not dict or "e" not in inner:
        raise Untranslatable("not a Binance event: the wrapped event has no event type field 'e'")
    return inner


def _is_api_response(raw: bytes) -> bool:
    try:
        obj = _decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return type(obj) is dict and "e" not in obj and "id" in obj and ("status" in obj or "result" in obj)


SIDES = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}
# Binance order type -> (ledger order type, post-only)
SPOT_ORDER_TYPES = {
    "LIMIT": (OrderType.LIMIT, False),
    "MARKET": (OrderType.MARKET, False),
    "STOP_LOSS": (OrderType.STOP, False),
    "STOP_LOSS_LIMIT": (OrderType.STOP_LIMIT, False),
    "TAKE_PROFIT": (OrderType.STOP, False),
    "TAKE_PROFIT_LIMIT": (OrderType.STOP_LIMIT, False),
    "LIMIT_MAKER": (OrderType.LIMIT, True),
}
FUTURES_ORDER_TYPES = {
    "LIMIT": (OrderType.LIMIT, False),
    "MARKET": (OrderType.MARKET, False),
    "STOP": (OrderType.STOP_LIMIT, False),
    "STOP_MARKET": (OrderType.STOP, False),
    "TAKE_PROFIT": (OrderType.STOP_LIMIT, False),
    "TAKE_PROFIT_MARKET": (OrderType.STOP, False),
    "TRAILING_STOP_MARKET": (OrderType.STOP, False),
    "LIQUIDATION": (OrderType.MARKET, False),
}
# Binance time in force -> (ledger time in force, post-only)
SPOT_TIME_IN_FORCE = {"GTC": (TimeInForce.GTC, False), "IOC": (TimeInForce.IOC, False),
                      "FOK": (TimeInForce.FOK, False)}  # fmt: skip
FUTURES_TIME_IN_FORCE = {**SPOT_TIME_IN_FORCE, "GTX": (TimeInForce.GTC, True), "GTD": (TimeInForce.GTD, False)}
SPOT_EXECUTION_TYPES = frozenset({"NEW", "CANCELED", "REPLACED", "REJECTED", "TRADE", "EXPIRED", "TRADE_PREVENTION"})
FUTURES_EXECUTION_TYPES = frozenset({"NEW", "CANCELED", "CALCULATED", "EXPIRED", "TRADE", "AMENDMENT"})
ORDER_STATUSES = frozenset({"NEW", "PENDING_NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL",
                            "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"})  # fmt: skip
_ENDED = frozenset({"EXPIRED", "EXPIRED_IN_MATCH", "FILLED", "CANCELED", "REJECTED"})

_PRICED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
_STOPS = (OrderType.STOP, OrderType.STOP_LIMIT)


def _spec(symbol: str, side: OrderSide, kind: OrderType, post_only: bool, tif: TimeInForce, quantity: Decimal,
          price: Decimal, stop: Decimal, reduce_only: bool = False, expire_at: int | None = None,
          ) -> ev.OrderSpec | None:  # fmt: skip
    """The order as the message describes it, or None when that is not a valid order (the same rules as
    `StandardOrder`): a price or stop price of 0 means none."""
    if quantity <= 0:
        return None
    if kind in _PRICED:
        if price <= 0:
            return None
    else:
        price = None  # type: ignore[assignment]
    if kind in _STOPS:
        if stop <= 0:
            return None
    else:
        stop = None  # type: ignore[assignment]
    if tif is TimeInForce.GTD and expire_at is None:
        return None
    if post_only and kind is OrderType.MARKET:
        return None
    return ev.OrderSpec(symbol=symbol, side=side, order_type=kind, quantity=quantity, price=price,
                        stop_price=stop, time_in_force=tif, reduce_only=reduce_only, post_only=post_only,
                        expire_at=expire_at if tif is TimeInForce.GTD else None)  # fmt: skip


def _order_id(obj: dict[str, Any], *, required: bool = True) -> str:
    order_id = _int(obj, "i")
    if order_id < 0:
        if required:
            raise Untranslatable(f"{_label('i')} is not a valid order id: {order_id}")
        return ""
    return str(order_id)


def _fill(o: dict[str, Any], ts: int, trade_id: str) -> ev.OrderFilled:
    fee = _dec(o, "n") if "n" in o else ZERO
    fee_asset = _opt_text(o, "N") or None
    if fee and fee_asset is None:
        raise Untranslatable(f"{_label('n')} is {fee} but {_label('N')} is not given")
    maker = o.get("m")
    liquidity = None if type(maker) is not bool else ev.Liquidity.MAKER if maker else ev.Liquidity.TAKER
    return ev.OrderFilled(account_id=UNSET, intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, trade_id=trade_id,
                          quantity=_positive(o, "l"), price=_positive(o, "L"), fee=fee, fee_asset=fee_asset,
                          liquidity=liquidity)  # fmt: skip


def _amend(o: dict[str, Any], ts: int, exec_id: str, quantity: Decimal, price: Decimal) -> ev.AmendAccepted:
    if quantity <= 0:
        raise Untranslatable(f"an amended quantity must be > 0, got {quantity}")
    return ev.AmendAccepted(account_id=UNSET, intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED,
                            quantity=quantity, price=price if price > 0 else None, exec_id=exec_id)  # fmt: skip


# ------------------------------------------------------------------------------ spot
def _spot_execution(m: dict[str, Any], instruments: Instruments) -> Translation:
    symbol = _text(m, "s")
    if symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    x = _text(m, "x")
    if x not in SPOT_EXECUTION_TYPES:
        raise Untranslatable(f"unknown execution type {x!r}")
    status = _text(m, "X")
    if status not in ORDER_STATUSES:
        raise Untranslatable(f"unknown order status {status!r}")
    side = _enum(SIDES, m, "S")
    kind, post_only = _enum(SPOT_ORDER_TYPES, m, "o")
    tif, _ = _enum(SPOT_TIME_IN_FORCE, m, "f")
    quantity, price, stop = _dec(m, "q"), _dec(m, "p"), _dec(m, "P")
    order_id = _order_id(m, required=x != "REJECTED")
    ts = _ms(m, "T") if "T" in m else _ms(m, "E")
    client, original = _opt_text(m, "c"), _opt_text(m, "C")
    ref = OrderRef(
        symbol=symbol, client_order_id=original or client, orig_client_order_id=client if original else "",
        exchange_order_id=order_id, order=_spec(symbol, side, kind, post_only, tif, quantity, price, stop),
    )  # fmt: skip
    if x == "TRADE":
        trade_id = _int(m, "t")
        if trade_id < 0:
            raise Untranslatable(f"{_label('t')} is not a valid trade id: {trade_id}")
        return Translation(facts=(OrderFact(ref, _fill(m, ts, str(trade_id))),))
    execution = m.get("I")
    exec_id = f"{order_id}:{x}:{execution}" if type(execution) is int else f"{order_id}:{x}@{ts // 1_000_000}"
    common = {"account_id": UNSET, "intent_id": UNSET, "ts_event": ts, "ts_recorded": UNSTAMPED, "exec_id": exec_id}
    event: ev.OrderEvent
    if x == "NEW":
        if status == "PENDING_NEW":
            event = ev.ExecutionReported(exec_type=ev.ReportKind.PENDING_NEW, ord_status=status, **common)
        else:
            event = ev.OrderAccepted(exchange_order_id=order_id, **common)
    elif x == "CANCELED":
        event = ev.CancelAccepted(**common)
    elif x == "REJECTED":
        event = ev.OrderRejected(reason=_opt_text(m, "r") or "REJECTED", exchange_order_id=order_id, **common)
    elif x == "EXPIRED":
        event = ev.OrderExpired(**common)
    elif x == "REPLACED":
        event = _amend(m, ts, exec_id, quantity, price)
    else:  # TRADE_PREVENTION
        if status in _ENDED:
            event = ev.OrderExpired(**common)
        else:  # DECREMENT / TRANSFER: the order stays, its quantity cut by what was prevented
            event = _amend(m, ts, exec_id, EXACT.subtract(quantity, _dec(m, "A")), price)
    return Translation(facts=(OrderFact(ref, event),))


def _spot_account_position(m: dict[str, Any]) -> Translation:
    entries = _get(m, "B")
    if type(entries) is not list:
        raise Untranslatable(f"{_label('B')} is not a list")
    balances = []
    for entry in entries:
        if type(entry) is not dict:
            raise Untranslatable(f"{_label('B')} holds a {type(entry).__name__}, not an object")
        free, locked = _dec(entry, "f", "f (free)"), _dec(entry, "l", "l (locked)")
        if locked < 0:
            raise Untranslatable(f"l (locked) must be >= 0, got {locked}")
        balances.append(ev.ReportedBalance(asset_id=_text(entry, "a"), total=EXACT.add(free, locked), locked=locked))
    when = m["u"] if "u" in m else _get(m, "E")
    report_id = f"outboundAccountPosition:{when}:{_digest(balances)}"
    event = ev.ExchangeBalancesReported(account_id=UNSET, ts_event=_ms(m, "E"), ts_recorded=UNSTAMPED,
                                        balances=tuple(balances), report_id=report_id)  # fmt: skip
    return Translation(facts=(AccountFact(event),))


def _spot_balance_update(m: dict[str, Any]) -> Translation:
    asset, delta = _text(m, "a"), _dec(m, "d")
    if not asset:
        raise Untranslatable(f"{_label('a')} is empty")
    clear_time = _get(m, "T")
    ts = _ms(m, "T")
    if delta == 0:
        return Translation(skipped="balanceUpdate with a zero delta")
    reason = ev.AdjustmentReason.DEPOSIT if delta > 0 else ev.AdjustmentReason.WITHDRAWAL
    event = ev.BalanceAdjusted(account_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, asset_id=asset, amount=delta,
                               reason=reason, reference=f"balanceUpdate:{asset}:{clear_time}:{m['d']}")  # fmt: skip
    return Translation(facts=(AccountFact(event),))


SPOT_SKIPPED = {
    "listStatus": "order list status: each order of the list has its own executionReport",
    "externalLockUpdate": "external lock moves free to locked, not the total; outboundAccountPosition reports it",
    "eventStreamTerminated": "the subscription ended; no ledger fact",
    "listenKeyExpired": "the listen key expired; no ledger fact",
}
FUTURES_EVENTS = frozenset({"ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ACCOUNT_CONFIG_UPDATE", "MARGIN_CALL",
                            "TRADE_LITE", "STRATEGY_UPDATE", "GRID_UPDATE", "CONDITIONAL_ORDER_TRIGGER_REJECT",
                            "ALGO_UPDATE"})  # fmt: skip
SPOT_EVENTS = frozenset({"executionReport", "outboundAccountPosition", "balanceUpdate", *SPOT_SKIPPED})


def _unknown_event(kind: object, other: frozenset[str], other_format: str) -> Untranslatable:
    if type(kind) is not str:
        return Untranslatable(f"{_label('e')} is not a string: {kind!r}")
    hint = f" (a {other_format} event)" if kind in other else ""
    return Untranslatable(f"unknown event type {kind!r}{hint}")


def _event_or_skip(raw: bytes) -> dict[str, Any] | Translation:
    """The event object of a message, or the skip of a WebSocket API response (which is not an event)."""
    try:
        return _message(raw)
    except Untranslatable:
        if _is_api_response(raw):
            return Translation(skipped="a WebSocket API response, not an event")
        raise


def translate_spot(raw: bytes, instruments: Instruments) -> Translation:
    """One Binance spot user data stream message to facts (see the module text)."""
    m = _event_or_skip(raw)
    if isinstance(m, Translation):
        return m
    kind = m["e"]
    if kind == "executionReport":
        return _spot_execution(m, instruments)
    if kind == "outboundAccountPosition":
        return _spot_account_position(m)
    if kind == "balanceUpdate":
        return _spot_balance_update(m)
    if kind in SPOT_SKIPPED:
        return Translation(skipped=SPOT_SKIPPED[kind])
    raise _unknown_event(kind, FUTURES_EVENTS, "binance-futures")


# ------------------------------------------------------------------------------ USDⓈ-M futures
def _futures_order(m: dict[str, Any], instruments: Instruments) -> Translation:
    o = _get(m, "o")
    if type(o) is not dict:
        raise Untranslatable(f"o (order) is not an object: {o!r}")
    symbol = _text(o, "s")
    if symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    x = _text(o, "x")
    if x not in FUTURES_EXECUTION_TYPES:
        raise Untranslatable(f"unknown execution type {x!r}")
    status = _text(o, "X")
    if status not in ORDER_STATUSES:
        raise Untranslatable(f"unknown order status {status!r}")
    side = _enum(SIDES, o, "S")
    type_key = "ot" if o.get("ot") else "o"
    kind, _ = _enum(FUTURES_ORDER_TYPES, o, type_key)
    tif, post_only = _enum(FUTURES_TIME_IN_FORCE, o, "f")
    quantity, price = _dec(o, "q"), _dec(o, "p")
    trailing = o[type_key] == "TRAILING_STOP_MARKET"
    stop = (_dec(o, "AP") if "AP" in o else ZERO) if trailing else _dec(o, "sp") if "sp" in o else ZERO
    gtd = o.get("gtd")
    expire_at = _ms(o, "gtd") if tif is TimeInForce.GTD and gtd else None
    reduce_only = o.get("R") is True
    order_id = _order_id(o)
    ts = _ms(o, "T") if "T" in o else _ms(m, "T") if "T" in m else _ms(m, "E")
    spec = _spec(symbol, side, kind, post_only, tif, quantity, price, stop, reduce_only, expire_at)
    ref = OrderRef(symbol=symbol, client_order_id=_opt_text(o, "c"), exchange_order_id=order_id, order=spec)
    if x == "TRADE" or x == "CALCULATED":
        trade = o.get("t")
        if type(trade) is int and (trade > 0 or (trade == 0 and x == "TRADE")):
            trade_id = str(trade)
        elif x == "CALCULATED":
            trade_id = f"{order_id}:{x}:{ts // 1_000_000}"
        else:
            raise Untranslatable(f"{_label('t')} is not a valid trade id: {trade!r}")
        return Translation(facts=(OrderFact(ref, _fill(o, ts, trade_id)),))
    exec_id = f"{order_id}:{x}@{ts // 1_000_000}"
    common = {"account_id": UNSET, "intent_id": UNSET, "ts_event": ts, "ts_recorded": UNSTAMPED, "exec_id": exec_id}
    event: ev.OrderEvent
    if x == "NEW":
        event = ev.OrderAccepted(exchange_order_id=order_id, **common)
    elif x == "CANCELED":
        event = ev.CancelAccepted(**common)
    elif x == "EXPIRED":
        event = ev.OrderExpired(**common)
    else:  # AMENDMENT
        event = _amend(o, ts, exec_id, quantity, price)
    return Translation(facts=(OrderFact(ref, event),))


CASH_REASONS = {
    "DEPOSIT": ev.AdjustmentReason.DEPOSIT,
    "ADMIN_DEPOSIT": ev.AdjustmentReason.DEPOSIT,
    "COIN_SWAP_DEPOSIT": ev.AdjustmentReason.DEPOSIT,
    "WITHDRAW": ev.AdjustmentReason.WITHDRAWAL,
    "ADMIN_WITHDRAW": ev.AdjustmentReason.WITHDRAWAL,
    "COIN_SWAP_WITHDRAW": ev.AdjustmentReason.WITHDRAWAL,
    "WITHDRAW_REJECT": ev.AdjustmentReason.WITHDRAWAL,
    "FUNDING_FEE": ev.AdjustmentReason.FUNDING,
    "MARGIN_TRANSFER": ev.AdjustmentReason.TRANSFER,
    "ASSET_TRANSFER": ev.AdjustmentReason.TRANSFER,
    "AUTO_EXCHANGE": ev.AdjustmentReason.TRANSFER,
    "MARGIN_TYPE_CHANGE": ev.AdjustmentReason.TRANSFER,
    "ADJUSTMENT": ev.AdjustmentReason.CORRECTION,
    "INSURANCE_CLEAR": ev.AdjustmentReason.CORRECTION,
    "OPTIONS_PREMIUM_FEE": ev.AdjustmentReason.CORRECTION,
    "OPTIONS_SETTLE_PROFIT": ev.AdjustmentReason.CORRECTION,
}
"""ACCOUNT_UPDATE reasons whose balance change `bc` is a cash move the ledger records as such."""
NO_CASH_REASONS = frozenset({"ORDER"})
"""Reasons whose balance changes the ledger computes itself (from the fills)."""


def _futures_account(m: dict[str, Any], instruments: Instruments) -> Translation:
    a = _get(m, "a")
    if type(a) is not dict:
        raise Untranslatable(f"a (update data) is not an object: {a!r}")
    why = _opt_text(a, "m")
    transaction_time = _get(m, "T")
    ts, ts_report = _ms(m, "T"), _ms(m, "E")
    facts: list[Fact] = []
    reported: list[ev.ReportedBalance] = []
    for entry in _list(a, "B"):
        asset, wallet = _text(entry, "a"), _dec(entry, "wb")
        change = _dec(entry, "bc") if "bc" in entry else ZERO
        reported.append(ev.ReportedBalance(asset_id=asset, total=wallet))
        if not change or why in NO_CASH_REASONS:
            continue
        reason = CASH_REASONS.get(why)
        if reason is None:
            raise Untranslatable(f"unknown ACCOUNT_UPDATE reason {why!r} with a balance change of {change} {asset}")
        facts.append(AccountFact(ev.BalanceAdjusted(
            account_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, asset_id=asset, amount=change, reason=reason,
            reference=f"ACCOUNT_UPDATE:{why}:{asset}:{transaction_time}:{entry['wb']}",
        )))  # fmt: skip
    positions: list[ev.ReportedPosition] = []
    for entry in _list(a, "P"):
        symbol, amount, side = _text(entry, "s"), _dec(entry, "pa"), _opt_text(entry, "ps") or "BOTH"
        if side != "BOTH":
            if side not in ("LONG", "SHORT"):
                raise Untranslatable(f"unknown position side {side!r}")
            if amount:
                raise Untranslatable(f"hedge mode position side {side} is not supported ({symbol} {amount})")
            continue
        if symbol not in instruments:
            raise Untranslatable(f"unknown symbol {symbol!r}")
        entry_price = _dec(entry, "ep") if amount else None
        if entry_price is not None and entry_price < 0:
            raise Untranslatable(f"ep (entry price) must be >= 0, got {entry_price}")
        positions.append(ev.ReportedPosition(symbol_id=symbol, quantity=amount, entry_price=entry_price or None))
    if reported:
        facts.append(AccountFact(ev.ExchangeBalancesReported(
            account_id=UNSET, ts_event=ts_report, ts_recorded=UNSTAMPED, balances=tuple(reported),
            report_id=f"ACCOUNT_UPDATE:{transaction_time}:{_digest(reported)}",
        )))  # fmt: skip
    if positions:
        facts.append(AccountFact(ev.ExchangePositionsReported(
            account_id=UNSET, ts_event=ts_report, ts_recorded=UNSTAMPED, positions=tuple(positions),
            report_id=f"ACCOUNT_UPDATE:{transaction_time}:{_digest(positions)}",
        ), symbols=tuple(p.symbol_id for p in positions)))  # fmt: skip
    if not facts:
        return Translation(skipped=f"ACCOUNT_UPDATE ({why or 'no reason'}) lists no balance and no one-way position")
    return Translation(facts=tuple(facts))


def _list(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj.get(key) or []
    if type(value) is not list or any(type(item) is not dict for item in value):
        raise Untranslatable(f"{_label(key)} is not a list of objects")
    return value


def _futures_config(m: dict[str, Any], instruments: Instruments) -> Translation:
    config = m.get("ac")
    if config is None:
        return Translation(skipped="ACCOUNT_CONFIG_UPDATE of the multi-assets mode; no ledger fact")
    if type(config) is not dict:
        raise Untranslatable(f"ac (account configuration) is not an object: {config!r}")
    symbol = _text(config, "s")
    if symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    leverage = decimal_of(_get(config, "l"), "l (leverage)")
    if leverage <= 0:
        raise Untranslatable(f"l (leverage) must be > 0, got {leverage}")
    ts = _ms(m, "T") if "T" in m else _ms(m, "E")
    event = ev.LeverageSet(account_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, symbol_id=symbol, leverage=leverage,
                           reference=f"ACCOUNT_CONFIG_UPDATE:{symbol}:{ts}:{leverage}")  # fmt: skip
    return Translation(facts=(AccountFact(event, symbols=(symbol,)),))


FUTURES_SKIPPED = {
    "MARGIN_CALL": "margin call: a warning; no ledger fact",
    "TRADE_LITE": "a lighter copy of the TRADE ORDER_TRADE_UPDATE (no fee); the full one is recorded",
    "listenKeyExpired": "the listen key expired; no ledger fact",
    "STRATEGY_UPDATE": "strategy status; its orders are reported by ORDER_TRADE_UPDATE",
    "GRID_UPDATE": "grid strategy status; its orders are reported by ORDER_TRADE_UPDATE",
    "CONDITIONAL_ORDER_TRIGGER_REJECT": "a conditional order's trigger was rejected; no order was placed",
    "ALGO_UPDATE": "a conditional (algo) order's status; the order it places is reported by ORDER_TRADE_UPDATE",
}


def translate_futures(raw: bytes, instruments: Instruments) -> Translation:
    """One Binance USDⓈ-M futures user data stream message to facts (see the module text)."""
    m = _event_or_skip(raw)
    if isinstance(m, Translation):
        return m
    kind = m["e"]
    if kind == "ORDER_TRADE_UPDATE":
        return _futures_order(m, instruments)
    if kind == "ACCOUNT_UPDATE":
        return _futures_account(m, instruments)
    if kind == "ACCOUNT_CONFIG_UPDATE":
        return _futures_config(m, instruments)
    if kind in FUTURES_SKIPPED:
        return Translation(skipped=FUTURES_SKIPPED[kind])
    raise _unknown_event(kind, SPOT_EVENTS, "binance spot")


# ------------------------------------------------------------------------------ exchangeInfo
PERPETUAL_DELIVERY_MS = 4_102_444_800_000  # 2100-01-01: Binance dates a perpetual's delivery in 2100


def _exchange_info_symbols(data: bytes) -> list[dict[str, Any]]:
    try:
        obj = _decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not a Binance exchangeInfo file: invalid JSON: {e}") from None
    if type(obj) is not dict or type(obj.get("symbols")) is not list:
        raise ValueError("not a Binance exchangeInfo file: no 'symbols' list")
    return obj["symbols"]


def _info_text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if type(value) is not str or not value:
        raise ValueError(f"{where}: {key} is missing or not a string: {value!r}")
    return value


def _info_decimal(value: object, what: str) -> Decimal | None:
    """A filter's or rate's decimal, canonical (no trailing zeros, no exponent); None for 0 or absent."""
    if value is None:
        return None
    try:
        number = decimal_of(value, what)
    except Untranslatable as e:
        raise ValueError(str(e)) from None
    if number < 0:
        raise ValueError(f"{what} must be >= 0, got {number}")
    if not number:
        return None
    number = number.normalize(EXACT)
    return number.quantize(Decimal(1), context=EXACT) if number.as_tuple().exponent > 0 else number  # type: ignore[operator]


def _filters(entry: dict[str, Any], where: str) -> tuple[Decimal | None, Decimal | None]:
    filters = entry.get("filters") or []
    if type(filters) is not list:
        raise ValueError(f"{where}: filters is not a list")
    tick = lot = None
    for f in filters:
        if type(f) is not dict:
            raise ValueError(f"{where}: a filter is not an object")
        if f.get("filterType") == "PRICE_FILTER":
            tick = _info_decimal(f.get("tickSize"), f"{where}: PRICE_FILTER.tickSize")
        elif f.get("filterType") == "LOT_SIZE":
            lot = _info_decimal(f.get("stepSize"), f"{where}: LOT_SIZE.stepSize")
    return tick, lot


def _entries(data: bytes) -> list[tuple[str, dict[str, Any], str]]:
    out = []
    for n, entry in enumerate(_exchange_info_symbols(data)):
        where = f"symbols[{n}]"
        if type(entry) is not dict:
            raise ValueError(f"{where} is not an object")
        symbol = _info_text(entry, "symbol", where)
        out.append((symbol, entry, f"{where} ({symbol})"))
    return out


def load_spot_exchange_info(data: bytes) -> list[ev.InstrumentSpec]:
    """The instruments of a Binance spot `GET /api/v3/exchangeInfo` answer (see the module text)."""
    specs = []
    for symbol, entry, where in _entries(data):
        base, quote = _info_text(entry, "baseAsset", where), _info_text(entry, "quoteAsset", where)
        tick, lot = _filters(entry, where)
        status = entry.get("status")
        specs.append(ev.InstrumentSpec(
            asset_id=symbol, symbol=symbol, asset_type=AssetType.SPOT, name=f"{base}/{quote}", base_asset=base,
            quote_asset=quote, tick_size=tick, lot_size=lot,
            metadata={"status": status} if type(status) is str else {},
        ))  # fmt: skip
    return specs


def load_futures_exchange_info(data: bytes) -> list[ev.InstrumentSpec]:
    """The instruments of a Binance USDⓈ-M `GET /fapi/v1/exchangeInfo` answer (see the module text)."""
    specs = []
    for symbol, entry, where in _entries(data):
        base, quote = _info_text(entry, "baseAsset", where), _info_text(entry, "quoteAsset", where)
        margin = _info_text(entry, "marginAsset", where)
        contract = entry.get("contractType") or ""
        if type(contract) is not str:
            raise ValueError(f"{where}: contractType is not a string: {contract!r}")
        delivery = entry.get("deliveryDate")
        if delivery is not None and (type(delivery) is not int or delivery < 0):
            raise ValueError(f"{where}: deliveryDate is not integer milliseconds: {delivery!r}")
        name = f"{base}/{quote}:{margin}"
        expiry = None
        if "PERPETUAL" in contract or (not contract and (delivery is None or delivery >= PERPETUAL_DELIVERY_MS)):
            asset_type = AssetType.PERPETUAL
        else:
            if delivery is None or delivery >= PERPETUAL_DELIVERY_MS:
                raise ValueError(f"{where}: a {contract} contract without a deliveryDate")
            asset_type, expiry = AssetType.FUTURE, delivery * 1_000_000
            name += "-" + time.strftime("%y%m%d", time.gmtime(delivery // 1000))
        tick, lot = _filters(entry, where)
        initial = _info_decimal(entry.get("requiredMarginPercent"), f"{where}: requiredMarginPercent")
        maintenance = _info_decimal(entry.get("maintMarginPercent"), f"{where}: maintMarginPercent")
        status = entry.get("status")
        metadata: dict[str, Any] = {"contract_type": contract} if contract else {}
        if type(status) is str:
            metadata["status"] = status
        specs.append(ev.InstrumentSpec(
            asset_id=symbol, symbol=symbol, asset_type=asset_type, name=name, base_asset=base, quote_asset=quote,
            contract_size=Decimal(1), settlement_asset=margin, expiry_timestamp=expiry, tick_size=tick,
            lot_size=lot, initial_margin_rate=_percent(initial), maintenance_margin_rate=_percent(maintenance),
            metadata=metadata,
        ))  # fmt: skip
    return specs


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else _info_decimal(EXACT.divide(value, 100), "rate")


SPOT_FORMAT = Format(name="binance", exchange="binance", account_type=ev.AccountType.SPOT, frame=lines,
                     translate=translate_spot, load_instruments=load_spot_exchange_info,
                     order_ids_per_symbol=True)  # fmt: skip
FUTURES_FORMAT = Format(name="binance-futures", exchange="binance-futures", account_type=ev.AccountType.FUTURES,
                        frame=lines, translate=translate_futures,
                        load_instruments=load_futures_exchange_info, order_ids_per_symbol=True)  # fmt: skip
