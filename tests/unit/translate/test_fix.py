"""The FIX drop-copy translator: messages written field by field from the FIX 4.4 specification, each
with the exact facts it means; framing; session messages; bad input refused with a one-line reason; and
the simulated day the end-to-end tests and the benchmark use."""

from __future__ import annotations

import io
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.translate import get_format
from adapters.translate.base import OrderFact, OrderRef, Translation, Untranslatable, fix_time_to_ns
from adapters.translate.fix import FORMAT, frame, translate
from adapters.translate.fix_sim import (
    SCENARIOS,
    fix_message,
    instruments_exchange_info,
    simulate_fix_day,
    simulate_fix_day_expectations,
)
from kernel import events as ev
from kernel.order import Order
from kernel.schema.order_spec import AssetType, OrderSide, OrderType, TimeInForce

K = ev.ReportKind


def instrument(symbol: str, base: str, quote: str, tick: str, lot: str) -> ev.InstrumentSpec:
    return ev.InstrumentSpec(asset_id=symbol, symbol=symbol, asset_type=AssetType.SPOT, name=f"{base}/{quote}",
                             base_asset=base, quote_asset=quote, tick_size=Decimal(tick), lot_size=Decimal(lot))  # fmt: skip


INSTRUMENTS = {
    "BTCUSDT": instrument("BTCUSDT", "BTC", "USDT", "0.01", "0.00001"),
    "ETHUSDT": instrument("ETHUSDT", "ETH", "USDT", "0.01", "0.0001"),
}
SENDING = "20240102-09:30:00.250"
TRANSACT = "20240102-09:30:00.123456"
TS = fix_time_to_ns(TRANSACT, "t")
PLACEHOLDERS: dict[str, Any] = {"account_id": "", "intent_id": "", "ts_event": TS, "ts_recorded": 0}
SPEC = ev.OrderSpec(symbol="BTCUSDT", side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=Decimal("0.5"),
                    price=Decimal("42000.5"), time_in_force=TimeInForce.GTC)  # fmt: skip
REF = OrderRef("BTCUSDT", "C1", "", "O1", SPEC)
ORDER = [(55, "BTCUSDT"), (54, "1"), (38, "0.5"), (40, "2"), (44, "42000.5"), (59, "1")]


def header(msg_type: str) -> list[tuple[int, object]]:
    return [(35, msg_type), (49, "VENUE"), (56, "DROPCOPY"), (34, 42), (52, SENDING)]


def execution_report(exec_type: str, ord_status: str, *extra: tuple[int, object], ids=None, order=None,
                     delimiter: bytes = b"\x01", begin: str = "FIX.4.4") -> bytes:  # fmt: skip
    """An ExecutionReport (35=8) of order O1 (ClOrdID C1, buy 0.5 BTCUSDT at 42000.5 GTC)."""
    fields = [(8, begin), *header("8"), *(ids or [(37, "O1"), (11, "C1")]), (17, "E1"), (150, exec_type),
              (39, ord_status), *(ORDER if order is None else order), (60, TRANSACT), *extra]  # fmt: skip
    return fix_message(fields, delimiter)


def the_fact(raw: bytes) -> OrderFact:
    result = translate(raw, INSTRUMENTS)
    assert result.skipped == "" and len(result.facts) == 1
    fact = result.facts[0]
    assert isinstance(fact, OrderFact)
    return fact


def refused(raw: bytes) -> str:
    with pytest.raises(Untranslatable) as caught:
        translate(raw, INSTRUMENTS)
    reason = str(caught.value)
    assert reason and "\n" not in reason
    return reason


def report(kind: K, ord_status: str, **fields: Any) -> ev.ExecutionReported:
    return ev.ExecutionReported(exec_type=kind, exec_id="E1", ord_status=ord_status, **fields, **PLACEHOLDERS)


FILL_FIELDS = [(32, "0.2"), (31, "42000.5"), (12, "0.84001"), (13, "3"), (479, "USDT"), (851, "1")]
FILL = ev.OrderFilled(trade_id="E1", quantity=Decimal("0.2"), price=Decimal("42000.5"), fee=Decimal("0.84001"),
                      fee_asset="USDT", liquidity=ev.Liquidity.MAKER, **PLACEHOLDERS)  # fmt: skip
REPLACED = [(55, "BTCUSDT"), (54, "1"), (38, "0.8"), (40, "2"), (44, "41000"), (59, "1")]
SPEC_REPLACED = ev.OrderSpec(symbol="BTCUSDT", side=OrderSide.BUY, order_type=OrderType.LIMIT,
                             quantity=Decimal("0.8"), price=Decimal("41000"), time_in_force=TimeInForce.GTC)  # fmt: skip

# ExecType (150), OrdStatus (39), more fields, the event, the OrderRef (REF unless given), other ids/order
EXEC_TYPE_CASES: dict[str, tuple] = {
    "0 New": ("0", "0", [], ev.OrderAccepted(exchange_order_id="O1", exec_id="E1", **PLACEHOLDERS), None, {}),
    "1 Partial fill (FIX 4.2)": ("1", "1", FILL_FIELDS, FILL, None, {}),
    "2 Fill (FIX 4.2), no commission": (
        "2", "2", [(32, "0.5"), (31, "42000")],
        ev.OrderFilled(trade_id="E1", quantity=Decimal("0.5"), price=Decimal(42000), **PLACEHOLDERS), None, {}),
    "3 Done for day": ("3", "3", [], report(K.DONE_FOR_DAY, "DONE_FOR_DAY"), None, {}),
    "4 Canceled": ("4", "4", [], ev.CancelAccepted(exec_id="E1", **PLACEHOLDERS),
                   OrderRef("BTCUSDT", "C1-X", "C1", "O1", SPEC), {"ids": [(37, "O1"), (11, "C1-X"), (41, "C1")]}),
    "5 Replaced": ("5", "0", [], ev.AmendAccepted(quantity=Decimal("0.8"), price=Decimal(41000), exec_id="E1",
                                                  **PLACEHOLDERS),
                   OrderRef("BTCUSDT", "C1-R", "C1", "O1", SPEC_REPLACED),
                   {"ids": [(37, "O1"), (11, "C1-R"), (41, "C1")], "order": REPLACED}),
    "6 Pending Cancel": ("6", "6", [(58, "cancel requested")],
                         report(K.PENDING_CANCEL, "PENDING_CANCEL", text="cancel requested"), None, {}),
    "7 Stopped": ("7", "7", [], report(K.STOPPED, "STOPPED"), None, {}),
    "8 Rejected": ("8", "8", [(103, "3")],
                   ev.OrderRejected(reason="Order exceeds limit (103=3)", exec_id="E1", **PLACEHOLDERS),
                   OrderRef("BTCUSDT", "C1", "", "", SPEC), {"ids": [(37, "NONE"), (11, "C1")]}),
    "9 Suspended": ("9", "9", [], report(K.SUSPENDED, "SUSPENDED"), None, {}),
    "A Pending New": ("A", "A", [], report(K.PENDING_NEW, "PENDING_NEW"), None, {}),
    "B Calculated": ("B", "B", [], report(K.CALCULATED, "CALCULATED"), None, {}),
    "C Expired": ("C", "C", [], ev.OrderExpired(exec_id="E1", **PLACEHOLDERS), None, {}),
    "D Restated": ("D", "0", [(378, "3"), (58, "tick size changed")],
                   report(K.RESTATED, "NEW", text="Repricing of order (378=3): tick size changed"), None, {}),
    "E Pending Replace": ("E", "E", [], report(K.PENDING_REPLACE, "PENDING_REPLACE"),
                          OrderRef("BTCUSDT", "C1-R", "C1", "O1", SPEC),
                          {"ids": [(37, "O1"), (11, "C1-R"), (41, "C1")]}),
    "F Trade": ("F", "1", [(32, "0.25"), (31, "42000.50"), (12, "-0.01"), (15, "USDC"), (851, "2")],
                ev.OrderFilled(trade_id="E1", quantity=Decimal("0.25"), price=Decimal("42000.50"),
                               fee=Decimal("-0.01"), fee_asset="USDC", liquidity=ev.Liquidity.TAKER, **PLACEHOLDERS),
                None, {}),
    "G Trade Correct": ("G", "2", [(19, "E0")], report(K.TRADE_CORRECT, "FILLED", ref_exec_id="E0"), None, {}),
    "H Trade Cancel": ("H", "0", [(19, "E0"), (58, "busted")],
                       report(K.TRADE_CANCEL, "NEW", ref_exec_id="E0", text="busted"), None, {}),
    "I Order Status": ("I", "1", [], report(K.ORDER_STATUS, "PARTIALLY_FILLED"), None, {}),
}  # fmt: skip


@pytest.mark.parametrize("delimiter", [b"\x01", b"|"], ids=["SOH", "pipe"])
@pytest.mark.parametrize("case", list(EXEC_TYPE_CASES))
def test_each_exec_type_means_its_fact(case: str, delimiter: bytes):
    exec_type, ord_status, extra, expected, ref, options = EXEC_TYPE_CASES[case]
    begin = "FIX.4.2" if exec_type in "12" else "FIX.4.4"
    fact = the_fact(execution_report(exec_type, ord_status, *extra, delimiter=delimiter, begin=begin, **options))
    assert fact.event == expected
    assert fact.ref == (ref or REF)


def test_every_exec_type_of_fix_4_4_is_covered():
    assert {case[0] for case in EXEC_TYPE_CASES.values()} == set("0123456789ABCDEFGHI")


ORD_STATUS_NAMES = {
    "0": "NEW", "1": "PARTIALLY_FILLED", "2": "FILLED", "3": "DONE_FOR_DAY", "4": "CANCELED", "5": "REPLACED",
    "6": "PENDING_CANCEL", "7": "STOPPED", "8": "REJECTED", "9": "SUSPENDED", "A": "PENDING_NEW",
    "B": "CALCULATED", "C": "EXPIRED", "D": "ACCEPTED_FOR_BIDDING", "E": "PENDING_REPLACE",
}  # fmt: skip


@pytest.mark.parametrize("code", list(ORD_STATUS_NAMES))
def test_each_ord_status_is_named_on_the_report(code: str):
    fact = the_fact(execution_report("I", code))
    assert fact.event == report(K.ORDER_STATUS, ORD_STATUS_NAMES[code])


# ------------------------------------------------------------------------------ what an order report says
def spec_of(*order: tuple[int, object]) -> ev.OrderSpec | None:
    return the_fact(execution_report("0", "0", order=[(55, "BTCUSDT"), (54, "2"), *order])).ref.order


def test_the_order_spec_of_each_order_type():
    base: dict[str, Any] = {"symbol": "BTCUSDT", "side": OrderSide.SELL, "quantity": Decimal("1.5")}
    assert spec_of((38, "1.5"), (40, "1"), (59, "3")) == ev.OrderSpec(
        order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC, **base)
    assert spec_of((38, "1.5"), (40, "1"), (44, "0"), (59, "4")) == ev.OrderSpec(  # a price echoed on a market
        order_type=OrderType.MARKET, time_in_force=TimeInForce.FOK, **base)
    assert spec_of((38, "1.5"), (40, "3"), (99, "39000"), (59, "1")) == ev.OrderSpec(
        order_type=OrderType.STOP, stop_price=Decimal(39000), **base)
    assert spec_of((38, "1.5"), (40, "4"), (44, "38900"), (99, "39000"), (59, "1")) == ev.OrderSpec(
        order_type=OrderType.STOP_LIMIT, price=Decimal(38900), stop_price=Decimal(39000), **base)
    assert spec_of((38, "1.5"), (40, "2"), (44, "43000"), (59, "6"), (126, "20240103-00:00:00")) == ev.OrderSpec(
        order_type=OrderType.LIMIT, price=Decimal(43000), time_in_force=TimeInForce.GTD,
        expire_at=fix_time_to_ns("20240103-00:00:00", "t"), **base)
    assert spec_of((38, "1.5"), (40, "2"), (44, "43000"), (18, "6")) == ev.OrderSpec(  # no TimeInForce: DAY
        order_type=OrderType.LIMIT, price=Decimal(43000), time_in_force=TimeInForce.DAY, post_only=True, **base)


@pytest.mark.parametrize("order", [
    [(40, "2"), (44, "43000")],  # no OrderQty
    [(38, "0"), (40, "2"), (44, "43000")],  # nothing to order
    [(38, "1"), (44, "43000")],  # no OrdType
    [(38, "1"), (40, "P"), (44, "43000")],  # pegged: not a type the ledger keeps
    [(38, "1"), (40, "2")],  # a limit without a price
    [(38, "1"), (40, "3")],  # a stop without a StopPx
    [(38, "1"), (40, "2"), (44, "43000"), (59, "2")],  # at the opening: not a TimeInForce the ledger keeps
    [(38, "1"), (40, "2"), (44, "43000"), (59, "6")],  # GTD without ExpireTime
], ids=lambda order: ",".join(f"{t}={v}" for t, v in order))  # fmt: skip
def test_a_report_that_does_not_describe_a_valid_order_gives_no_spec(order):
    assert spec_of(*order) is None


def test_sending_time_when_there_is_no_transact_time():
    raw = fix_message([*header("8"), (37, "O1"), (11, "C1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER])
    assert the_fact(raw).event.ts_event == fix_time_to_ns(SENDING, "t")


def test_a_fee_without_currency_is_in_the_quote_asset():
    fact = the_fact(execution_report("F", "2", (32, "0.5"), (31, "42000"), (12, "8.4")))
    assert fact.event == ev.OrderFilled(trade_id="E1", quantity=Decimal("0.5"), price=Decimal(42000),
                                        fee=Decimal("8.4"), fee_asset="USDT", **PLACEHOLDERS)  # fmt: skip


def test_fix_4_2_exec_trans_type_cancel_busts_instead_of_filling():
    raw = execution_report("2", "0", (20, "1"), (19, "E0"), (32, "0.5"), (31, "42000"), begin="FIX.4.2")
    assert the_fact(raw).event == report(K.TRADE_CANCEL, "NEW", ref_exec_id="E0")
    raw = execution_report("1", "1", (20, "3"), (32, "0.5"), (31, "42000"), begin="FIX.4.2")
    assert the_fact(raw).event == report(K.ORDER_STATUS, "PARTIALLY_FILLED")


def test_repeating_groups_are_fine_when_the_fields_used_are_single():
    raw = execution_report("F", "2", (32, "0.5"), (31, "42000"), (136, "2"), (137, "1.5"), (138, "USDT"),
                           (139, "1"), (137, "0.5"), (138, "USDT"), (139, "2"))  # NoMiscFees group  # fmt: skip
    assert the_fact(raw).event.quantity == Decimal("0.5")


def test_a_value_may_hold_an_equals_sign():
    raw = execution_report("6", "6", (58, "reason=too late; a=b"))
    assert the_fact(raw).event.text == "reason=too late; a=b"


# ------------------------------------------------------------------------------ OrderCancelReject
def cancel_reject(response_to: str, *extra: tuple[int, object], delimiter: bytes = b"\x01") -> bytes:
    return fix_message([*header("9"), (37, "O1"), (11, "C1-X"), (41, "C1"), (39, "1"), (434, response_to),
                        (60, TRANSACT), *extra], delimiter)  # fmt: skip


@pytest.mark.parametrize("delimiter", [b"\x01", b"|"], ids=["SOH", "pipe"])
def test_cancel_reject_of_a_cancel_request(delimiter: bytes):
    fact = the_fact(cancel_reject("1", (102, "0"), (58, "too late to cancel: filling"), delimiter=delimiter))
    assert fact.event == ev.CancelRejected(reason="too late to cancel: filling", exec_id="cxlrej:C1-X",
                                           **PLACEHOLDERS)  # fmt: skip
    assert fact.ref == OrderRef("", "C1-X", "C1", "O1")  # no Symbol in 35=9: the ingest finds it by its ids


@pytest.mark.parametrize("delimiter", [b"\x01", b"|"], ids=["SOH", "pipe"])
def test_cancel_reject_of_a_replace_request(delimiter: bytes):
    fact = the_fact(cancel_reject("2", (102, "3"), (55, "BTCUSDT"), delimiter=delimiter))
    assert fact.event == ev.AmendRejected(reason="Order already in Pending Cancel or Pending Replace status (102=3)",
                                          exec_id="cxlrej:C1-X", **PLACEHOLDERS)  # fmt: skip
    assert fact.ref == OrderRef("BTCUSDT", "C1-X", "C1", "O1")


def test_cancel_reject_without_any_reason_still_says_so():
    assert the_fact(cancel_reject("1")).event.reason == "no reason given"


# ------------------------------------------------------------------------------ session messages
@pytest.mark.parametrize("msg_type, name", [("0", "Heartbeat"), ("1", "TestRequest"), ("2", "ResendRequest"),
                                            ("3", "Reject"), ("4", "SequenceReset"), ("5", "Logout"),
                                            ("A", "Logon")])  # fmt: skip
def test_session_messages_are_skipped(msg_type: str, name: str):
    result = translate(fix_message([*header(msg_type), (112, "ping")]), INSTRUMENTS)
    assert result == Translation(skipped=f"session message {name} (35={msg_type})")


# ------------------------------------------------------------------------------ framing
def test_frame_cuts_log_prefixes_and_several_messages_on_a_line():
    a = execution_report("0", "0")
    b = execution_report("F", "1", *FILL_FIELDS)
    c = execution_report("4", "4", delimiter=b"|")
    log = (b"2024-01-02 09:30:00.123 IN: " + a + b"\r\n"
           + b"\n   \n"
           + a + b + b"\n"
           + b"2024-01-02 09:30:01.000 OUT: " + c + b"\n"
           + b"this line is no FIX at all\n"
           + b"|58=FIXED|10=000|\n"  # the end of a message cut short: no message starts here
           + b"2024-01-02 09:30:02.000 IN: " + c[:-1] + b"\n")  # fmt: skip
    assert list(frame(io.BytesIO(log))) == [a, a, b, c, b"this line is no FIX at all", b"|58=FIXED|10=000|", c[:-1]]


def test_framed_messages_translate_and_a_missing_last_delimiter_is_fine():
    log = b"20240102-09:30:00.123 : " + execution_report("0", "0", delimiter=b"|")[:-1] + b"\n"
    (raw,) = frame(io.BytesIO(log))
    assert the_fact(raw).event == EXEC_TYPE_CASES["0 New"][3]


def test_the_format():
    assert get_format("fix") is FORMAT
    assert (FORMAT.name, FORMAT.exchange, FORMAT.account_type, FORMAT.load_instruments) == (
        "fix", "fix", ev.AccountType.SPOT, None)


# ------------------------------------------------------------------------------ bad input
GOOD = execution_report("F", "1", *FILL_FIELDS)


def framed(body: bytes) -> bytes:
    """A message around a raw body (from MsgType on), with right BodyLength and CheckSum: for bodies
    `fix_message` cannot write."""
    message = b"8=FIX.4.4\x019=%d\x01" % len(body) + body
    return message + b"10=%03d\x01" % (sum(message) & 0xFF)


def body_of(raw: bytes) -> bytes:
    start = raw.index(b"\x0135=") + 1
    return raw[start : raw.rindex(b"\x0110=") + 1]


def test_truncated():
    assert refused(GOOD[:100]) == "truncated: no CheckSum (10)"
    assert refused(GOOD[: GOOD.rindex(b"10=")]) == "truncated: no CheckSum (10)"
    assert refused(GOOD[:-3]) == "CheckSum (10) is not three digits: b'1'"
    assert refused(b"8=FIX.4.4") == "truncated: no field delimiter (SOH or '|') after BeginString (8)"


def test_wrong_checksum():
    good = int(GOOD[-4:-1])
    bad = GOOD[:-4] + b"%03d\x01" % ((good + 1) % 256)
    assert refused(bad) == f"CheckSum (10) is {(good + 1) % 256:03d}, computed {good:03d}"
    flipped = GOOD.replace(b"55=BTCUSDT", b"55=BTCUSDC")  # same length, one byte changed
    assert refused(flipped) == f"CheckSum (10) is {good:03d}, computed {(good - ord('T') + ord('C')) % 256:03d}"


def test_wrong_body_length():
    declared = len(body_of(GOOD))
    for body in (body_of(GOOD) + b"58=x\x01", body_of(GOOD)[:-6]):
        message = b"8=FIX.4.4\x019=%d\x01" % declared + body
        raw = message + b"10=%03d\x01" % (sum(message) & 0xFF)  # the checksum is right: only the length is wrong
        assert refused(raw) == f"BodyLength (9) is {declared}, counted {len(body)}"
    assert refused(GOOD.replace(b"\x019=%d" % declared, b"\x019=x")) == "BodyLength (9) is not a length: b'x'"


def test_frame_errors():
    parts = GOOD.split(b"\x01")
    assert refused(b"\x01".join([parts[0], parts[2], parts[1], *parts[3:]])) == "BodyLength (9) is not the second field"
    assert refused(framed(body_of(GOOD).replace(b"35=8\x0149=VENUE", b"49=VENUE\x0135=8"))) == (
        "MsgType (35) is not the third field")
    assert refused(GOOD + b"58=trailing\x01") == "CheckSum (10) is not the last field"
    assert refused(b"8=FIX.4.4\x019=0\x0110=%03d\x01" % (sum(b"8=FIX.4.4\x019=0\x01") % 256)) == (
        "MsgType (35) is not the third field")
    assert refused(framed(body_of(GOOD) + b"no equals sign\x01")) == "malformed field 'no equals sign': not tag=value"
    assert refused(framed(body_of(GOOD) + b"X9=1\x01")) == "malformed field: tag 'X9' is not a number"
    assert refused(framed(body_of(GOOD) + b"=1\x01")) == "malformed field: tag '' is not a number"


def test_non_numeric_quantities_and_prices():
    assert refused(execution_report("F", "1", (32, "abc"), (31, "1"))) == "LastQty (32) is not a decimal number: 'abc'"
    assert refused(execution_report("F", "1", (32, "1"), (31, "1,5"))) == "LastPx (31) is not a decimal number: '1,5'"
    order = [(55, "BTCUSDT"), (54, "1"), (38, "NaN"), (40, "2"), (44, "1")]
    assert refused(execution_report("0", "0", order=order)) == "OrderQty (38) is not a decimal number: 'NaN'"
    assert refused(execution_report("F", "1", (32, "1"), (31, "1"), (12, "x"))) == (
        "Commission (12) is not a decimal number: 'x'")
    assert refused(execution_report("F", "1", (32, "1" * 30), (31, "1"))) == (
        "LastQty (32) is too large: at most 24 integer digits, got " + "1" * 30)


def test_fills_of_nothing_and_odd_commissions():
    assert refused(execution_report("F", "1", (32, "0"), (31, "1"))) == "LastQty (32) of a fill must be > 0, got 0"
    assert refused(execution_report("F", "1", (32, "-1"), (31, "1"))) == "LastQty (32) of a fill must be > 0, got -1"
    assert refused(execution_report("F", "1", (31, "1"))) == (
        "ExecutionReport (35=8) reports a fill without LastQty (32)")
    assert refused(execution_report("F", "1", (32, "1"), (31, "1"), (12, "0.1"), (13, "2"))) == (
        "CommType (13) '2' is not supported: only 3 (absolute) is")


def test_unknown_symbol():
    order = [(55, "XYZUSDT"), (54, "1"), (38, "1"), (40, "2"), (44, "1")]
    assert refused(execution_report("0", "0", order=order)) == "unknown symbol 'XYZUSDT'"
    assert refused(cancel_reject("1", (55, "XYZUSDT"))) == "unknown symbol 'XYZUSDT'"


def test_unknown_message_type():
    raw = fix_message([*header("D"), (11, "C1"), *ORDER, (60, TRANSACT)])
    assert refused(raw) == ("unsupported MsgType NewOrderSingle (35=D): only ExecutionReport (35=8) and "
                            "OrderCancelReject (35=9) are translated")  # fmt: skip
    assert refused(fix_message(header("ZZ"))).startswith("unsupported MsgType (35=ZZ)")


@pytest.mark.parametrize("tag, name", [(37, "OrderID"), (17, "ExecID"), (150, "ExecType"), (39, "OrdStatus"),
                                       (55, "Symbol"), (54, "Side")])  # fmt: skip
def test_missing_required_tag(tag: int, name: str):
    fields = [*header("8"), (37, "O1"), (11, "C1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER, (60, TRANSACT)]
    raw = fix_message([f for f in fields if f[0] != tag])
    assert refused(raw) == f"ExecutionReport (35=8) has no {name} ({tag})"


def test_missing_required_tag_of_a_cancel_reject():
    raw = fix_message([*header("9"), (37, "O1"), (11, "C1-X"), (39, "1"), (60, TRANSACT)])
    assert refused(raw) == "OrderCancelReject (35=9) has no CxlRejResponseTo (434)"
    assert refused(cancel_reject("3")) == "CxlRejResponseTo (434) has an unsupported value '3'"


def test_unsupported_values():
    assert refused(execution_report("J", "2")) == "ExecType (150) has an unsupported value 'J'"
    assert refused(execution_report("0", "Z")) == "OrdStatus (39) has an unsupported value 'Z'"
    order = [(55, "BTCUSDT"), (54, "5"), (38, "1"), (40, "2"), (44, "1")]
    assert refused(execution_report("0", "0", order=order)) == "Side (54) has an unsupported value '5'"
    assert refused(execution_report("0", "0", ids=[(37, "NONE")])) == (
        "ExecutionReport (35=8) accepts an order without an OrderID (37)")
    assert refused(execution_report("0", "0", (60, "20240102-25:00:00"))) == "TransactTime (60) appears more than once"
    raw = fix_message([*header("8"), (37, "O1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER, (60, "2024-01-02")])
    assert refused(raw) == "TransactTime (60) is not a FIX UTCTimestamp: '2024-01-02'"
    raw = fix_message([*header("8"), (37, "O1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER,
                       (60, "20240231-00:00:00")])  # fmt: skip
    assert refused(raw) == "TransactTime (60) is not a valid time: '20240231-00:00:00'"


def test_garbage_and_binary_bytes():
    assert refused(b"hello world") == "not a FIX message: begins b'hello world', not with BeginString (8=FIX)"
    assert refused(b"") == "not a FIX message: begins b'', not with BeginString (8=FIX)"
    assert refused(b"\x00\xff\xfe\x01\x02binary\x80") == (
        "not a FIX message: begins b'\\x00\\xff\\xfe\\x01\\x02binary\\x80', not with BeginString (8=FIX)")
    assert refused(b'{"e": "executionReport"}').startswith("not a FIX message")
    body = body_of(GOOD) + b"58=\xff\xfe\x01"  # well framed, but not text
    assert refused(framed(body)) == f"not text: byte 0xff at {len(framed(body)) - 10} is not UTF-8"


# ------------------------------------------------------------------------------ exact numbers
decimals = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e15"), places=8,
                       allow_nan=False, allow_infinity=False)  # fmt: skip


@given(quantity=decimals, price=decimals, fee=st.decimals(min_value=-1000, max_value=1000, places=10),
       delimiter=st.sampled_from([b"\x01", b"|"]))  # fmt: skip
def test_fill_quantities_and_prices_round_trip_exactly(quantity: Decimal, price: Decimal, fee: Decimal,
                                                       delimiter: bytes):  # fmt: skip
    texts = [str(quantity), str(price), str(fee)]
    if "E" in "".join(texts).upper():  # FIX writes plain decimals
        texts = [f"{quantity:f}", f"{price:f}", f"{fee:f}"]
    raw = execution_report("F", "1", (32, texts[0]), (31, texts[1]), (12, texts[2]), delimiter=delimiter)
    event = the_fact(raw).event
    assert isinstance(event, ev.OrderFilled)
    assert (event.quantity, event.price, event.fee) == (quantity, price, fee)
    assert [str(event.quantity), str(event.price), str(event.fee)] == [str(Decimal(t)) for t in texts]


@given(message=st.sampled_from([GOOD, execution_report("5", "0", delimiter=b"|"), cancel_reject("1")]),
       edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), st.binary(max_size=4)), min_size=1,
                      max_size=4),
       reframe=st.booleans())  # fmt: skip
def test_any_damaged_message_is_translated_or_refused_in_one_line(message: bytes, edits, reframe: bool):
    raw = message
    for at, cut, insert in edits:
        at %= len(raw)
        raw = raw[:at] + insert + raw[at + cut :]
    if reframe and raw.count(b"\x0110=") == 1 and raw.startswith(b"8=FIX.4.4\x019="):
        raw = framed(raw[raw.index(b"\x01", 10) + 1 : raw.rindex(b"\x0110=") + 1])  # only the body is wrong
    try:
        result = translate(raw, INSTRUMENTS)
    except Untranslatable as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert isinstance(result, Translation)


# ------------------------------------------------------------------------------ the simulated day
def test_fix_message_computes_body_length_and_checksum():
    raw = fix_message([(35, "0"), (49, "A"), (56, "B"), (34, 1), (52, "20240102-00:00:00")], b"|")
    body = b"35=0|49=A|56=B|34=1|52=20240102-00:00:00|"
    assert len(body) == 41
    assert raw == b"8=FIX.4.4|9=41|" + body + b"10=%03d|" % (sum(b"8=FIX.4.4|9=41|" + body) % 256)
    with pytest.raises(ValueError):
        fix_message([(35, "0"), (10, "000")])


@pytest.mark.parametrize("delimiter", [b"\x01", b"|"], ids=["SOH", "pipe"])
def test_a_simulated_day_translates_and_ends_as_expected(delimiter: bytes):
    messages = list(simulate_fix_day(3, 60, delimiter=delimiter))
    assert messages == list(simulate_fix_day(3, 60, delimiter=delimiter))  # deterministic
    assert messages != list(simulate_fix_day(4, 60, delimiter=delimiter))
    kinds: Counter[str] = Counter()
    orders: dict[str, Order] = {}
    for raw in messages:
        result = translate(raw, INSTRUMENTS)
        if result.skipped:
            kinds[result.skipped] += 1
            continue
        (fact,) = result.facts
        assert isinstance(fact, OrderFact)
        e = fact.event
        kinds[e.exec_type if isinstance(e, ev.ExecutionReported) else type(e).__name__] += 1
        order = orders.get(fact.ref.exchange_order_id)
        if order is None:  # what the ingest does with an order it does not know: it is discovered
            assert fact.ref.order is not None
            order = orders[fact.ref.exchange_order_id] = Order("", "")
            order.apply(ev.ExternalOrderDiscovered(exchange_order_id=fact.ref.exchange_order_id,
                                                   order=fact.ref.order, **PLACEHOLDERS))  # fmt: skip
        for recorded in order.decide_fact(e):
            order.apply(recorded)
    for skipped in ("Logon (35=A)", "Heartbeat (35=0)", "Logout (35=5)"):
        assert kinds[f"session message {skipped}"] >= 1
    for name in ("OrderAccepted", "OrderFilled", "CancelAccepted", "AmendAccepted", "OrderRejected", "OrderExpired",
                 K.PENDING_CANCEL, K.PENDING_REPLACE, K.PENDING_NEW, "CancelRejected", "AmendRejected"):
        assert kinds[name] >= 1, name
    assert kinds[K.TRADE_CANCEL] == 1
    expected = simulate_fix_day_expectations(3, 60)
    assert len(expected) == 60 == len(orders)
    for client_order_id, (status, filled, exchange_order_id, fees) in expected.items():
        order = orders[exchange_order_id]
        assert (order.status, order.filled_quantity, order.fees.get("USDT", Decimal(0))) == (
            status, filled, fees), client_order_id
    assert [expected[f"S3-{n}"].status for n in range(len(SCENARIOS))] == [
        "FILLED", "CANCELED", "CANCELED", "FILLED", "REJECTED", "EXPIRED", "FILLED", "FILLED", "FILLED"]


def test_a_simulated_day_frames_back_into_its_messages():
    messages = list(simulate_fix_day(5, 20))
    log = b"".join(b"20240102-00:00:00.000 IN: " + m + b"\n" for m in messages)
    assert list(frame(io.BytesIO(log))) == messages
    assert list(frame(io.BytesIO(b"".join(messages)))) == messages  # a raw stream, no newlines


def test_instruments_exchange_info():
    info = json.loads(instruments_exchange_info(("BTCUSDT", "ETHUSDT", "SOLUSDC")))
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT", "SOLUSDC"}
    btc = by_symbol["BTCUSDT"]
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("TRADING", "BTC", "USDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == Decimal("0.01")
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) == Decimal("0.00001")
    assert (by_symbol["SOLUSDC"]["baseAsset"], by_symbol["SOLUSDC"]["quoteAsset"]) == ("SOL", "USDC")
