"""The FIX 4.4 drop-copy translator, message by message: every ExecType with the exact facts it means, what
an order report says, OrderCancelReject, session messages and framing (written field by field from the
FIX 4.4 specification)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest

from adapters.translate import get_format
from adapters.translate.base import OrderRef, Translation, fix_time_to_ns
from adapters.translate.fix import FORMAT, frame, translate
from adapters.translate.fix_sim import (
    fix_message,
)
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, TimeInForce
from tests.unit.translate.fix_support import (
    FILL,
    FILL_FIELDS,
    INSTRUMENTS,
    ORDER,
    PLACEHOLDERS,
    REF,
    REPLACED,
    SENDING,
    SPEC,
    SPEC_REPLACED,
    K,
    cancel_reject,
    execution_report,
    header,
    report,
    the_fact,
)

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
        order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC, **base
    )
    assert spec_of((38, "1.5"), (40, "1"), (44, "0"), (59, "4")) == ev.OrderSpec(  # a price echoed on a market
        order_type=OrderType.MARKET, time_in_force=TimeInForce.FOK, **base
    )
    assert spec_of((38, "1.5"), (40, "3"), (99, "39000"), (59, "1")) == ev.OrderSpec(
        order_type=OrderType.STOP, stop_price=Decimal(39000), **base
    )
    assert spec_of((38, "1.5"), (40, "4"), (44, "38900"), (99, "39000"), (59, "1")) == ev.OrderSpec(
        order_type=OrderType.STOP_LIMIT, price=Decimal(38900), stop_price=Decimal(39000), **base
    )
    assert spec_of((38, "1.5"), (40, "2"), (44, "43000"), (59, "6"), (126, "20240103-00:00:00")) == ev.OrderSpec(
        order_type=OrderType.LIMIT,
        price=Decimal(43000),
        time_in_force=TimeInForce.GTD,
        expire_at=fix_time_to_ns("20240103-00:00:00", "t"),
        **base,
    )
    assert spec_of((38, "1.5"), (40, "2"), (44, "43000"), (18, "6")) == ev.OrderSpec(  # no TimeInForce: DAY
        order_type=OrderType.LIMIT, price=Decimal(43000), time_in_force=TimeInForce.DAY, post_only=True, **base
    )


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
        "fix",
        "fix",
        ev.AccountType.SPOT,
        None,
    )
