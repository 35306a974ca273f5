"""FIX 4.4 drop copy: ExecutionReport (35=8) and OrderCancelReject (35=9) to ledger facts.

The wire (framing, BodyLength/CheckSum checks, splitting the fields) is `wire`'s; this module maps the
parsed fields.

Session messages (Heartbeat, TestRequest, ResendRequest, Reject, SequenceReset, Logout, Logon) are
skipped; any other application message than 35=8 and 35=9 is untranslatable (quarantined).

What the translation decides:
- Idempotency: every acknowledgement carries `exec_id` = ExecID (17), and a fill's `trade_id` is its
  ExecID: the venue's unique id of that execution report, unchanged when the report is redelivered
  (PossDupFlag/PossResend). TradeID (1003) is not used: it names the match, which both sides share and
  which a venue may report in more than one execution.
- OrderCancelReject has no ExecID. Its `exec_id` is `cxlrej:` + ClOrdID (11): a ClOrdID names one
  cancel or replace request, which the venue rejects once, so the id is the same on every redelivery.
- OrderCancelReject need not name the symbol. Without Symbol (55) its `OrderRef.symbol` is "" and the
  ingest finds the order by its ids alone (ClOrdID, OrigClOrdID, OrderID).
- OrderID (37) "NONE" (what the standard has a venue send when it assigned none, e.g. on a reject) is
  no exchange order id.
- `OrderRef.order` (what the message says of the order, for an order the ledger does not know yet) is
  given only when the message describes a valid order: Side, a supported OrdType (40), OrderQty (38) > 0,
  a price for LIMIT and STOP_LIMIT, a StopPx (99) for STOP and STOP_LIMIT, and a supported TimeInForce
  (59; absent means DAY, as the standard says), with ExpireTime (126) for GTD. ExecInst (18) `6`
  (participate, don't initiate) is post-only.
- Fills: LastQty (32) > 0 at LastPx (31) > 0. The fee is Commission (12) as sent (a negative commission
  is a rebate), which must be an absolute amount (CommType 13 absent or 3); its asset is CommCurrency
  (479), else Currency (15), else the instrument's quote asset. No Commission: fee 0, no fee asset.
  LastLiquidityInd (851) 1 is MAKER, 2 TAKER, anything else unknown.
- FIX 4.2 style: ExecType 1 and 2 are fills like F; ExecTransType (20) 1 (cancel), 2 (correct) and
  3 (status) turn any execution report into TRADE_CANCEL, TRADE_CORRECT or ORDER_STATUS, so a busted or
  restated 4.2 fill is never recorded as a new fill.
- Every `ExecutionReported` carries the OrdStatus (39) name, e.g. PARTIALLY_FILLED.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.translate import Format
from adapters.translate.base import (
    UNSET,
    UNSTAMPED,
    Instruments,
    OrderFact,
    OrderRef,
    Translation,
    Untranslatable,
    decimal_of,
    fix_time_to_ns,
)
from adapters.translate.fix.wire import Fields, _label, _show, frame, parse
from kernel import events as ev
from kernel.schema.order_spec import UINT64_MAX, OrderSide, OrderType, TimeInForce, check_input_bounds

ZERO = Decimal(0)


# ------------------------------------------------------------------------------ code tables
MSG_TYPES = {
    "0": "Heartbeat", "1": "TestRequest", "2": "ResendRequest", "3": "Reject", "4": "SequenceReset",
    "5": "Logout", "A": "Logon", "8": "ExecutionReport", "9": "OrderCancelReject", "D": "NewOrderSingle",
    "F": "OrderCancelRequest", "G": "OrderCancelReplaceRequest", "H": "OrderStatusRequest",
    "j": "BusinessMessageReject", "AE": "TradeCaptureReport", "AP": "PositionReport", "h": "TradingSessionStatus",
    "W": "MarketDataSnapshotFullRefresh", "X": "MarketDataIncrementalRefresh", "q": "OrderMassCancelRequest",
    "r": "OrderMassCancelReport", "AF": "OrderMassStatusRequest", "BA": "CollateralReport",
}  # fmt: skip
SESSION_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})

ORD_STATUS = {
    "0": "NEW", "1": "PARTIALLY_FILLED", "2": "FILLED", "3": "DONE_FOR_DAY", "4": "CANCELED", "5": "REPLACED",
    "6": "PENDING_CANCEL", "7": "STOPPED", "8": "REJECTED", "9": "SUSPENDED", "A": "PENDING_NEW",
    "B": "CALCULATED", "C": "EXPIRED", "D": "ACCEPTED_FOR_BIDDING", "E": "PENDING_REPLACE",
}  # fmt: skip

SIDES = {"1": OrderSide.BUY, "2": OrderSide.SELL}
ORD_TYPES = {"1": OrderType.MARKET, "2": OrderType.LIMIT, "3": OrderType.STOP, "4": OrderType.STOP_LIMIT}
TIME_IN_FORCE = {"0": TimeInForce.DAY, "1": TimeInForce.GTC, "3": TimeInForce.IOC, "4": TimeInForce.FOK,
                 "6": TimeInForce.GTD}  # fmt: skip
LIQUIDITY = {"1": ev.Liquidity.MAKER, "2": ev.Liquidity.TAKER}

_K = ev.ReportKind
# ExecType (150) -> what it records: a ReportKind is an ExecutionReported, a string names a handler below
EXEC_TYPES: dict[str, str | ev.ReportKind] = {
    "0": "new", "1": "fill", "2": "fill", "3": _K.DONE_FOR_DAY, "4": "canceled", "5": "replaced",
    "6": _K.PENDING_CANCEL, "7": _K.STOPPED, "8": "rejected", "9": _K.SUSPENDED, "A": _K.PENDING_NEW,
    "B": _K.CALCULATED, "C": "expired", "D": _K.RESTATED, "E": _K.PENDING_REPLACE, "F": "fill",
    "G": _K.TRADE_CORRECT, "H": _K.TRADE_CANCEL, "I": _K.ORDER_STATUS,
}  # fmt: skip
EXEC_TRANS_TYPES = {"0": None, "1": _K.TRADE_CANCEL, "2": _K.TRADE_CORRECT, "3": _K.ORDER_STATUS}  # FIX 4.2

ORD_REJ_REASONS = {
    "0": "Broker / Exchange option", "1": "Unknown symbol", "2": "Exchange closed", "3": "Order exceeds limit",
    "4": "Too late to enter", "5": "Unknown order", "6": "Duplicate order", "7": "Duplicate of a verbally "
    "communicated order", "8": "Stale order", "9": "Trade along required", "10": "Invalid Investor ID",
    "11": "Unsupported order characteristic", "12": "Surveillence option", "13": "Incorrect quantity",
    "14": "Incorrect allocated quantity", "15": "Unknown account(s)", "18": "Invalid price increment",
    "99": "Other",
}  # fmt: skip
CXL_REJ_REASONS = {
    "0": "Too late to cancel", "1": "Unknown order", "2": "Broker / Exchange option",
    "3": "Order already in Pending Cancel or Pending Replace status", "4": "Unable to process Order Mass Cancel "
    "Request", "5": "OrigOrdModTime did not match last TransactTime of order", "6": "Duplicate ClOrdID received",
    "99": "Other",
}  # fmt: skip
RESTATEMENT_REASONS = {
    "0": "GT corporate action", "1": "GT renewal / restatement", "2": "Verbal change", "3": "Repricing of order",
    "4": "Broker option", "5": "Partial decline of OrderQty", "6": "Cancel on Trading Halt",
    "7": "Cancel on System Failure", "8": "Market (Exchange) option", "9": "Canceled, not best",
    "10": "Warehouse recap", "99": "Other",
}  # fmt: skip

ER_REQUIRED = ("37", "17", "150", "39", "55", "54")  # what an ExecutionReport must carry here


def _what(f: Fields) -> str:
    """`ExecutionReport (35=8)`: how a reason names the message."""
    return f"{MSG_TYPES.get(f['35'], 'message')} (35={f['35']})"


def _need(f: Fields, tag: str) -> str:
    value = f.get(tag)
    if not value:
        raise Untranslatable(f"{_what(f)} has no {_label(tag)}")
    return value


_DECIMALS: dict[str, Decimal] = {}  # text -> its checked value (prices and quantities repeat; a small cache)


def _number(f: Fields, tag: str) -> Decimal | None:
    """An exact decimal, None when absent; refused when not a number or out of the ledger's bounds."""
    text = f.get(tag)
    if not text:
        return None
    number = _DECIMALS.get(text)
    if number is not None:
        return number
    digits = text[1:] if text[0] == "-" else text
    if digits.isascii() and digits.replace(".", "", 1).isdigit() and len(digits) <= 24:
        number = Decimal(text)  # FIX's plain decimals, too short to break the bounds
    else:
        try:
            number = check_input_bounds(decimal_of(text, _label(tag)))
        except ValueError as e:
            if isinstance(e, Untranslatable):
                raise
            raise Untranslatable(f"{_label(tag)} is {e}") from None
    if len(_DECIMALS) >= 65_536:
        _DECIMALS.clear()
    _DECIMALS[text] = number
    return number


_SECONDS: dict[str, int] = {}  # "YYYYMMDD-HH:MM:SS" -> ns (a small cache: reports come in bursts)
_SCALE = tuple(10 ** (9 - n) for n in range(10))  # a fraction of n digits -> ns


def _time(f: Fields, tag: str) -> int | None:
    """A FIX UTCTimestamp to ns, None when absent: the second from a cache, else from `fix_time_to_ns`
    (which also says why a bad one is bad)."""
    text = f.get(tag)
    if not text:
        return None
    second = _SECONDS.get(text[:17])
    if second is not None:
        if len(text) == 17:
            return second
        fraction = text[18:]
        if text[17] == "." and 0 < len(fraction) <= 9 and fraction.isascii() and fraction.isdigit():
            return second + int(fraction) * _SCALE[len(fraction)]
    ns = fix_time_to_ns(text, _label(tag))
    if not 0 <= ns <= UINT64_MAX - 1_000_000_000:
        raise Untranslatable(f"{_label(tag)} is out of range: {text!r}")
    if len(_SECONDS) >= 65_536:
        _SECONDS.clear()
    _SECONDS[text[:17]] = fix_time_to_ns(text[:17], _label(tag))
    return ns


def _ts_event(f: Fields) -> int:
    ts = _time(f, "60")
    if ts is None:
        ts = _time(f, "52")
        if ts is None:
            raise Untranslatable(f"{_what(f)} has no TransactTime (60) or SendingTime (52)")
    return ts


def _code(f: Fields, tag: str, table: dict) -> Any:
    value = _need(f, tag)
    found = table.get(value)
    if found is None:
        raise Untranslatable(f"{_label(tag)} has an unsupported value {_show(value)}")
    return found


def _exchange_order_id(f: Fields) -> str:
    order_id = f.get("37", "")
    return "" if order_id == "NONE" else order_id


def _reason(f: Fields, tag: str, names: dict[str, str]) -> str:
    """Text (58), else the named reason code, else a placeholder: a rejection always says something."""
    text = f.get("58")
    if text:
        return text
    code = f.get(tag)
    if code:
        return f"{names.get(code, 'reason')} ({tag}={code})"
    return "no reason given"


# ------------------------------------------------------------------------------ translation
_SKIPPED = {t: Translation(skipped=f"session message {MSG_TYPES[t]} (35={t})") for t in SESSION_TYPES}


def translate(raw: bytes, instruments: Instruments) -> Translation:
    """One FIX message to ledger facts (pure); see the module's docstring."""
    msg_type, f = parse(raw)
    if msg_type == "8":
        return Translation(facts=(_execution_report(f, instruments),))
    if msg_type == "9":
        return Translation(facts=(_cancel_reject(f, instruments),))
    skipped = _SKIPPED.get(msg_type)
    if skipped is not None:
        return skipped
    name = MSG_TYPES.get(msg_type)
    raise Untranslatable(f"unsupported MsgType {name + ' ' if name else ''}(35={msg_type}): only ExecutionReport "
                         "(35=8) and OrderCancelReject (35=9) are translated")  # fmt: skip


def _execution_report(f: Fields, instruments: Instruments) -> OrderFact:
    g = f.get
    exec_id, exec_type, symbol = g("17"), g("150"), g("55")
    if not (g("37") and exec_id and exec_type and g("39") and symbol and g("54")):
        for tag in ER_REQUIRED:
            _need(f, tag)
    ord_status = ORD_STATUS.get(g("39")) or _code(f, "39", ORD_STATUS)
    side = SIDES.get(g("54")) or _code(f, "54", SIDES)
    instrument = instruments.get(symbol)
    if instrument is None:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    action = EXEC_TYPES.get(exec_type)
    if action is None:
        raise Untranslatable(f"ExecType (150) has an unsupported value {_show(exec_type)}")
    trans_type = f.get("20")
    if trans_type:
        if trans_type not in EXEC_TRANS_TYPES:
            raise Untranslatable(f"ExecTransType (20) has an unsupported value {_show(trans_type)}")
        action = EXEC_TRANS_TYPES[trans_type] or action
    ts = _ts_event(f)
    exchange_order_id = _exchange_order_id(f)
    ref = OrderRef(symbol, f.get("11", ""), f.get("41", ""), exchange_order_id, _order_spec(f, symbol, side))
    event: ev.OrderEvent
    if action == "fill":
        event = _fill(f, exec_id, instrument, ts)
    elif action == "new":
        if not exchange_order_id:
            raise Untranslatable(f"{_what(f)} accepts an order without an OrderID (37)")
        event = ev.OrderAccepted(exchange_order_id=exchange_order_id, exec_id=exec_id, account_id=UNSET,
                                 intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED)  # fmt: skip
    elif action == "canceled":
        event = ev.CancelAccepted(exec_id=exec_id, account_id=UNSET, intent_id=UNSET, ts_event=ts,
                                  ts_recorded=UNSTAMPED)  # fmt: skip
    elif action == "expired":
        event = ev.OrderExpired(exec_id=exec_id, account_id=UNSET, intent_id=UNSET, ts_event=ts,
                                ts_recorded=UNSTAMPED)  # fmt: skip
    elif action == "replaced":
        quantity = _number(f, "38")
        if quantity is None or quantity <= 0:
            raise Untranslatable(f"{_what(f)} replaces an order without an OrderQty (38) > 0")
        price = None if f.get("40") == "1" else _number(f, "44")
        event = ev.AmendAccepted(quantity=quantity, price=price, exec_id=exec_id, account_id=UNSET,
                                 intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED)  # fmt: skip
    elif action == "rejected":
        event = ev.OrderRejected(reason=_reason(f, "103", ORD_REJ_REASONS), exchange_order_id=exchange_order_id,
                                 exec_id=exec_id, account_id=UNSET, intent_id=UNSET, ts_event=ts,
                                 ts_recorded=UNSTAMPED)  # fmt: skip
    else:
        text = f.get("58", "")
        if action is _K.RESTATED:
            code = f.get("378")
            if code:
                why = f"{RESTATEMENT_REASONS.get(code, 'restated')} (378={code})"
                text = f"{why}: {text}" if text else why
        ref_exec_id = f.get("19", "") if action is _K.TRADE_CORRECT or action is _K.TRADE_CANCEL else ""
        event = ev.ExecutionReported(exec_type=action, exec_id=exec_id, ord_status=ord_status,  # type: ignore[arg-type]
                                     ref_exec_id=ref_exec_id, text=text, account_id=UNSET, intent_id=UNSET,
                                     ts_event=ts, ts_recorded=UNSTAMPED)  # fmt: skip
    return OrderFact(ref, event)


def _fill(f: Fields, exec_id: str, instrument: ev.InstrumentSpec, ts: int) -> ev.OrderFilled:
    quantity = _number(f, "32")
    if quantity is None:
        raise Untranslatable(f"{_what(f)} reports a fill without LastQty (32)")
    if quantity <= 0:
        raise Untranslatable(f"LastQty (32) of a fill must be > 0, got {quantity}")
    price = _number(f, "31")
    if price is None:
        raise Untranslatable(f"{_what(f)} reports a fill without LastPx (31)")
    if price <= 0:
        raise Untranslatable(f"LastPx (31) of a fill must be > 0, got {price}")
    fee = _number(f, "12")
    fee_asset = None
    if fee is None:
        fee = ZERO
    else:
        comm_type = f.get("13")
        if comm_type and comm_type != "3":
            raise Untranslatable(f"CommType (13) {comm_type!r} is not supported: only 3 (absolute) is")
        fee_asset = f.get("479") or f.get("15") or instrument.quote_asset
    liquidity = f.get("851")
    return ev.OrderFilled(trade_id=exec_id, quantity=quantity, price=price, fee=fee, fee_asset=fee_asset,
                          liquidity=LIQUIDITY.get(liquidity) if liquidity else None, account_id=UNSET,
                          intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED)  # fmt: skip


_SPECS: dict[tuple, ev.OrderSpec | None] = {}  # the fields below -> the order (the reports of an order repeat it)


def _order_spec(f: Fields, symbol: str, side: OrderSide) -> ev.OrderSpec | None:
    """What the message says of the order, when that is a valid order (else None)."""
    g = f.get
    key = (symbol, side, g("38"), g("40"), g("59"), g("44"), g("99"), g("126"), g("18"))
    try:
        return _SPECS[key]
    except KeyError:
        pass
    spec = _read_order_spec(f, symbol, side)
    if len(_SPECS) >= 65_536:
        _SPECS.clear()
    _SPECS[key] = spec
    return spec


def _read_order_spec(f: Fields, symbol: str, side: OrderSide) -> ev.OrderSpec | None:
    quantity = _number(f, "38")
    if quantity is not None and quantity < 0:
        raise Untranslatable(f"OrderQty (38) is negative: {quantity}")
    order_type = ORD_TYPES.get(f.get("40", ""))
    time_in_force = TIME_IN_FORCE.get(f.get("59") or "0")
    if not quantity or order_type is None or time_in_force is None:
        return None
    price = stop_price = None
    if order_type is OrderType.LIMIT or order_type is OrderType.STOP_LIMIT:
        price = _number(f, "44")
        if price is None or price <= 0:
            return None
    if order_type is OrderType.STOP or order_type is OrderType.STOP_LIMIT:
        stop_price = _number(f, "99")
        if stop_price is None or stop_price <= 0:
            return None
    expire_at = None
    if time_in_force is TimeInForce.GTD:
        expire_at = _time(f, "126")
        if expire_at is None:
            return None
    exec_inst = f.get("18")
    post_only = bool(exec_inst) and order_type is not OrderType.MARKET and "6" in exec_inst.split()  # type: ignore[union-attr]
    return ev.OrderSpec(symbol=symbol, side=side, order_type=order_type, quantity=quantity, price=price,
                        stop_price=stop_price, time_in_force=time_in_force, post_only=post_only,
                        expire_at=expire_at)  # fmt: skip


def _cancel_reject(f: Fields, instruments: Instruments) -> OrderFact:
    client_order_id = _need(f, "11")
    _need(f, "37")
    _code(f, "39", ORD_STATUS)
    response_to = _need(f, "434")
    symbol = f.get("55", "")
    if symbol and symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    ts = _ts_event(f)
    reason = _reason(f, "102", CXL_REJ_REASONS)
    exec_id = "cxlrej:" + client_order_id  # no ExecID in 35=9: the request it answers is named once
    event: ev.OrderEvent
    if response_to == "1":
        event = ev.CancelRejected(reason=reason, exec_id=exec_id, account_id=UNSET, intent_id=UNSET, ts_event=ts,
                                  ts_recorded=UNSTAMPED)  # fmt: skip
    elif response_to == "2":
        event = ev.AmendRejected(reason=reason, exec_id=exec_id, account_id=UNSET, intent_id=UNSET, ts_event=ts,
                                 ts_recorded=UNSTAMPED)  # fmt: skip
    else:
        raise Untranslatable(f"CxlRejResponseTo (434) has an unsupported value {_show(response_to)}")
    return OrderFact(OrderRef(symbol, client_order_id, f.get("41", ""), _exchange_order_id(f)), event)


FORMAT = Format(name="fix", exchange="fix", account_type=ev.AccountType.SPOT, frame=frame, translate=translate)
