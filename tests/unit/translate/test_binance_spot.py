"""The Binance spot translator (`binance`): executionReport, the account messages and bad input,
written field by field after the payloads in Binance's spot user-data-stream.md (the values are our own).
Every expectation is a whole fact (struct equality), never a field picked out of one."""

from __future__ import annotations

import pytest

from adapters.translate.base import AccountFact, OrderFact, OrderRef, Translation, Untranslatable
from adapters.translate.binance import (
    translate_spot,
)
from kernel import events as ev
from tests.unit.translate.binance_support import (
    LIMIT_BUY,
    MS,
    PLACEHOLDERS,
    REF,
    SPOT,
    T_NS,
    D,
    execution_report,
    only,
    spec,
    spot,
)


# ================================================================================== spot executionReport
def test_new_is_an_accept_keyed_by_order_execution_type_and_execution_id():
    assert spot(execution_report()) == Translation(facts=(OrderFact(REF, ev.OrderAccepted(
        **PLACEHOLDERS, ts_event=T_NS, exchange_order_id="4293153", exec_id="4293153:NEW:8641984")),))  # fmt: skip


def test_new_while_pending_in_an_order_list_is_a_pending_report():
    fact = only(spot(execution_report(X="PENDING_NEW", w=False)))
    assert fact == OrderFact(REF, ev.ExecutionReported(
        **PLACEHOLDERS, ts_event=T_NS, exec_type=ev.ReportKind.PENDING_NEW, exec_id="4293153:NEW:8641984",
        ord_status="PENDING_NEW"))  # fmt: skip


def test_without_an_execution_id_the_key_falls_back_to_the_transaction_time():
    message = execution_report()
    del message["I"]
    assert only(spot(message)).event == ev.OrderAccepted(
        **PLACEHOLDERS, ts_event=T_NS, exchange_order_id="4293153", exec_id="4293153:NEW@1767600000120"
    )


def test_ts_event_is_the_transaction_time_else_the_event_time():
    message = execution_report()
    del message["T"]
    assert only(spot(message)).event.ts_event == 1767600000123 * MS


@pytest.mark.parametrize("status, maker, liquidity", [("PARTIALLY_FILLED", True, ev.Liquidity.MAKER),
                                                      ("FILLED", False, ev.Liquidity.TAKER)])  # fmt: skip
def test_trade_is_a_fill_with_its_commission(status, maker, liquidity):
    message = execution_report(x="TRADE", X=status, l="0.50000000", z="0.50000000", L="0.03124000",
                               n="0.00050000", N="ETH", t=77, m=maker, Z="0.01562000", Y="0.01562000")  # fmt: skip
    assert spot(message) == Translation(facts=(OrderFact(REF, ev.OrderFilled(
        **PLACEHOLDERS, ts_event=T_NS, trade_id="77", quantity=D("0.5"), price=D("0.03124"), fee=D("0.0005"),
        fee_asset="ETH", liquidity=liquidity)),))  # fmt: skip


def test_trade_without_commission_has_no_fee_asset():
    message = execution_report(x="TRADE", X="FILLED", l="1.25000000", L="0.03125000", n="0", N=None, t=78)
    fill = only(spot(message)).event
    assert (fill.fee, fill.fee_asset) == (D(0), None)


def test_trade_with_commission_in_bnb():
    message = execution_report(x="TRADE", X="FILLED", l="1.25000000", L="0.03125000", n="0.00003100", N="BNB", t=79)
    fill = only(spot(message)).event
    assert (fill.fee, fill.fee_asset) == (D("0.000031"), "BNB")


def test_cancel_names_the_order_by_its_original_client_id_first():
    message = execution_report(x="CANCELED", X="CANCELED", c="cancelReq7", C="web_cl1", I=8641999)
    ref = OrderRef(symbol="ETHBTC", client_order_id="web_cl1", orig_client_order_id="cancelReq7",
                   exchange_order_id="4293153", order=LIMIT_BUY)  # fmt: skip
    assert spot(message) == Translation(facts=(OrderFact(ref, ev.CancelAccepted(
        **PLACEHOLDERS, ts_event=T_NS, exec_id="4293153:CANCELED:8641999")),))  # fmt: skip


def test_rejected_keeps_the_reason():
    message = execution_report(x="REJECTED", X="REJECTED", r="INSUFFICIENT_BALANCES", I=8642000)
    assert only(spot(message)) == OrderFact(REF, ev.OrderRejected(
        **PLACEHOLDERS, ts_event=T_NS, reason="INSUFFICIENT_BALANCES", exchange_order_id="4293153",
        exec_id="4293153:REJECTED:8642000"))  # fmt: skip


def test_rejected_without_an_order_id_names_none():
    fact = only(spot(execution_report(x="REJECTED", X="REJECTED", r="NONE", i=-1)))
    assert (fact.ref.exchange_order_id, fact.event.exchange_order_id) == ("", "")


@pytest.mark.parametrize("status", ["EXPIRED", "EXPIRED_IN_MATCH"])
def test_expired(status):
    message = execution_report(x="EXPIRED", X=status, eR="UNFILLED_IOC_QUANTITY_EXPIRED", I=8642001)
    assert only(spot(message)) == OrderFact(REF, ev.OrderExpired(
        **PLACEHOLDERS, ts_event=T_NS, exec_id="4293153:EXPIRED:8642001"))  # fmt: skip


STP = {"v": 3, "A": "1.25000000", "B": "1.25000000", "u": 1, "U": 37, "Cs": "ETHBTC", "pl": "1.25000000",
       "pL": "0.03125000", "pY": "0.03906250"}  # fmt: skip


def test_self_trade_prevention_that_ends_the_order_is_an_expiry_naming_it():
    message = execution_report(x="TRADE_PREVENTION", X="EXPIRED_IN_MATCH", I=8642002, **STP)
    assert only(spot(message)) == OrderFact(REF, ev.OrderExpired(
        **PLACEHOLDERS, ts_event=T_NS, exec_id="4293153:TRADE_PREVENTION:8642002"))  # fmt: skip


@pytest.mark.parametrize("status", ["NEW", "PARTIALLY_FILLED"])
def test_decrement_self_trade_prevention_cuts_the_quantity(status):
    message = execution_report(x="TRADE_PREVENTION", X=status, I=8642003, V="DECREMENT",
                               **{**STP, "A": "0.50000000", "B": "0.50000000"})  # fmt: skip
    assert only(spot(message)) == OrderFact(REF, ev.AmendAccepted(
        **PLACEHOLDERS, ts_event=T_NS, quantity=D("0.75"), price=D("0.03125"),
        exec_id="4293153:TRADE_PREVENTION:8642003"))  # fmt: skip


def test_replaced_is_an_amend_under_the_order_id_before_it():
    message = execution_report(x="REPLACED", X="NEW", q="1.00000000", c="amended1", C="web_cl1", I=8642004)
    ref = OrderRef(symbol="ETHBTC", client_order_id="web_cl1", orig_client_order_id="amended1",
                   exchange_order_id="4293153", order=spec("ETHBTC", "BUY", "LIMIT", "1", "0.03125"))  # fmt: skip
    assert spot(message) == Translation(facts=(OrderFact(ref, ev.AmendAccepted(
        **PLACEHOLDERS, ts_event=T_NS, quantity=D(1), price=D("0.03125"),
        exec_id="4293153:REPLACED:8642004")),))  # fmt: skip


# Every execution type x and order status X the docs define (enums.md), and the fact each pair makes.
SPOT_PAIRS = [
    ("NEW", "NEW", ev.OrderAccepted),
    ("NEW", "PENDING_NEW", ev.ExecutionReported),
    ("TRADE", "PARTIALLY_FILLED", ev.OrderFilled),
    ("TRADE", "FILLED", ev.OrderFilled),
    ("CANCELED", "CANCELED", ev.CancelAccepted),
    ("CANCELED", "PENDING_CANCEL", ev.CancelAccepted),  # "currently unused"; still a cancel
    ("REPLACED", "NEW", ev.AmendAccepted),
    ("REPLACED", "PARTIALLY_FILLED", ev.AmendAccepted),
    ("REPLACED", "PENDING_NEW", ev.AmendAccepted),
    ("REJECTED", "REJECTED", ev.OrderRejected),
    ("EXPIRED", "EXPIRED", ev.OrderExpired),
    ("EXPIRED", "EXPIRED_IN_MATCH", ev.OrderExpired),
    ("TRADE_PREVENTION", "EXPIRED_IN_MATCH", ev.OrderExpired),
    ("TRADE_PREVENTION", "EXPIRED", ev.OrderExpired),
    ("TRADE_PREVENTION", "FILLED", ev.OrderExpired),
    ("TRADE_PREVENTION", "NEW", ev.AmendAccepted),
    ("TRADE_PREVENTION", "PARTIALLY_FILLED", ev.AmendAccepted),
]


@pytest.mark.parametrize("x, status, kind", SPOT_PAIRS)
def test_every_documented_execution_type_and_status(x, status, kind):
    extra = {"l": "0.25000000", "L": "0.03125000", "t": 5} if x == "TRADE" else {}
    extra.update({"A": "0.25000000"} if x == "TRADE_PREVENTION" else {})
    assert type(only(spot(execution_report(x=x, X=status, **extra))).event) is kind


@pytest.mark.parametrize("binance, expected", [
    ({"o": "LIMIT"}, LIMIT_BUY),
    ({"o": "MARKET", "p": "0.00000000"}, spec("ETHBTC", "BUY", "MARKET", "1.25")),
    ({"o": "STOP_LOSS", "p": "0.00000000", "P": "0.03000000"}, spec("ETHBTC", "BUY", "STOP", "1.25", stop="0.03")),
    ({"o": "STOP_LOSS_LIMIT", "P": "0.03100000"}, spec("ETHBTC", "BUY", "STOP_LIMIT", "1.25", "0.03125", "0.031")),
    ({"o": "TAKE_PROFIT", "p": "0", "P": "0.02900000"}, spec("ETHBTC", "BUY", "STOP", "1.25", stop="0.029")),
    ({"o": "TAKE_PROFIT_LIMIT", "P": "0.029"}, spec("ETHBTC", "BUY", "STOP_LIMIT", "1.25", "0.03125", "0.029")),
    ({"o": "LIMIT_MAKER"}, spec("ETHBTC", "BUY", "LIMIT", "1.25", "0.03125", post_only=True)),
    ({"f": "IOC"}, spec("ETHBTC", "BUY", "LIMIT", "1.25", "0.03125", tif="IOC")),
    ({"f": "FOK", "S": "SELL"}, spec("ETHBTC", "SELL", "LIMIT", "1.25", "0.03125", tif="FOK")),
    # what cannot be described as a valid order describes none
    ({"o": "MARKET", "q": "0.00000000", "p": "0", "Q": "100.00000000"}, None),  # by quote quantity
    ({"o": "STOP_LOSS", "P": "0.00000000", "d": 4}, None),  # a trailing stop before it is armed
    ({"o": "LIMIT", "p": "0.00000000"}, None),
])  # fmt: skip
def test_order_types_and_times_in_force(binance, expected):
    assert only(spot(execution_report(**binance))).ref.order == expected


def test_wrapped_and_combined_stream_forms_are_the_bare_event():
    bare = execution_report()
    assert spot({"subscriptionId": 0, "event": bare}) == spot(bare)
    assert spot({"stream": "userData", "data": bare}) == spot(bare)


# ================================================================================== spot account messages
def test_outbound_account_position_reports_totals_and_locked():
    message = {"e": "outboundAccountPosition", "E": 1767600000105, "u": 1767600000073,
               "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"},
                     {"a": "BTC", "f": "1.50000000", "l": "0.25000000"}]}  # fmt: skip
    fact = only(spot({"subscriptionId": 0, "event": message}))
    assert isinstance(fact, AccountFact) and fact.symbols == ()
    balances = (ev.ReportedBalance(asset_id="ETH", total=D(10000), locked=D(0)),
                ev.ReportedBalance(asset_id="BTC", total=D("1.75"), locked=D("0.25")))  # fmt: skip
    assert fact.event == ev.ExchangeBalancesReported(account_id="", ts_recorded=0, ts_event=1767600000105 * MS,
                                                     balances=balances, report_id=fact.event.report_id)  # fmt: skip
    assert fact.event.report_id.startswith("outboundAccountPosition:1767600000073:")
    again = only(spot(message)).event.report_id
    other = only(spot({**message, "B": message["B"][:1]})).event.report_id
    assert again == fact.event.report_id and other != again  # a redelivery dedupes; another report does not


def test_totals_are_exact_beyond_the_default_decimal_context():
    free, locked = "123456789012345678901234.1234", "0.123456789012345678901234"
    message = {"e": "outboundAccountPosition", "E": 1, "u": 1, "B": [{"a": "BTC", "f": free, "l": locked}]}
    assert only(spot(message)).event.balances[0].total == D("123456789012345678901234.246856789012345678901234")


@pytest.mark.parametrize("delta, reason", [("100.00000000", ev.AdjustmentReason.DEPOSIT),
                                           ("-0.50000000", ev.AdjustmentReason.WITHDRAWAL)])  # fmt: skip
def test_balance_update_is_a_deposit_or_a_withdrawal(delta, reason):
    message = {"e": "balanceUpdate", "E": 1767600000110, "a": "BTC", "d": delta, "T": 1767600000068}
    assert spot({"subscriptionId": 0, "event": message}) == Translation(facts=(AccountFact(ev.BalanceAdjusted(
        account_id="", ts_recorded=0, ts_event=1767600000068 * MS, asset_id="BTC", amount=D(delta), reason=reason,
        reference=f"balanceUpdate:BTC:1767600000068:{delta}")),))  # fmt: skip


def test_balance_update_of_zero_is_skipped():
    assert spot({"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "0.00000000", "T": 1}).skipped


@pytest.mark.parametrize("message", [
    {"e": "listStatus", "E": 1564035303637, "s": "ETHBTC", "g": 2, "c": "OCO", "l": "EXEC_STARTED", "L": "EXECUTING",
     "r": "NONE", "C": "F4QN4G8DlFATFlIUQ0cjdD", "T": 1564035303625,
     "O": [{"s": "ETHBTC", "i": 17, "c": "AJYsMjErWJesZvqlJCTUgL"}]},
    {"e": "externalLockUpdate", "E": 1581557507324, "a": "NEO", "d": "10.00000000", "T": 1581557507268},
    {"e": "eventStreamTerminated", "E": 1728973001334},
    {"e": "listenKeyExpired", "E": 1576653824250, "listenKey": "OfYGbUzi3PraNagEkdKuFwUHn48brFsItTdsuiIXrucEvD0r"},
    {"id": "d3df8a61", "status": 200, "result": {"subscriptionId": 0}},  # a WebSocket API response
])  # fmt: skip
def test_messages_without_a_ledger_fact_are_skipped_with_a_reason(message):
    translation = spot(message)
    assert translation.facts == () and translation.skipped


# ================================================================================== bad input
@pytest.mark.parametrize("data, reason", [
    (b'{"e": "executionReport", "s": ', "invalid JSON: Input data was truncated"),
    (b"\x00\xffPK\x03\x04\x89garbage", "invalid JSON: 'utf-8' codec can't decode byte 0xff in position 1"),
    (b'{"e": "balanceUpdate", "a": "\xff\xfe"}', "invalid JSON: 'utf-8' codec can't decode byte 0xff"),
    (b"{}", "not a Binance event: no event type field 'e'"),
    (b"[1, 2]", "not a Binance event: a JSON list, not an object"),
    (b"42", "not a Binance event: a JSON int, not an object"),
    (b'{"subscriptionId": 0, "event": [1]}', "not a Binance event: the wrapped event has no event type field 'e'"),
    (b'{"e": "foo", "E": 1}', "unknown event type 'foo'"),
    (b'{"e": 7}', "e (event type) is not a string: 7"),
    (b'{"e": "ORDER_TRADE_UPDATE", "E": 1}', "unknown event type 'ORDER_TRADE_UPDATE' (a binance-futures event)"),
])  # fmt: skip
def test_bad_messages_are_untranslatable_with_a_reason(data, reason):
    with pytest.raises(Untranslatable) as raised:
        translate_spot(data, SPOT)
    assert str(raised.value).startswith(reason)


@pytest.mark.parametrize("fields, reason", [
    ({"q": "1.2.3"}, "q (order quantity) is not a decimal number: '1.2.3'"),
    ({"q": "NaN"}, "q (order quantity) is not a decimal number: 'NaN'"),
    ({"p": True}, "p (order price) is not a decimal number: True"),
    ({"q": "1" * 25}, f"q (order quantity) is too large: at most 24 integer digits, got {'1' * 25}"),
    ({"q": "0." + "1" * 25}, f"q (order quantity) is more than 24 decimal places: 0.{'1' * 25}"),
    ({"s": "XYZUSDT"}, "unknown symbol 'XYZUSDT'"),
    ({"x": "FROZEN"}, "unknown execution type 'FROZEN'"),
    ({"X": "HALTED"}, "unknown order status 'HALTED'"),
    ({"S": "HOLD"}, "unknown side 'HOLD'"),
    ({"o": "ICEBERG"}, "unknown order type 'ICEBERG'"),
    ({"f": "GTX"}, "unknown time in force 'GTX'"),
    ({"i": "4293153"}, "i (order id) is not an integer: '4293153'"),
    ({"i": -1}, "i (order id) is not a valid order id: -1"),
    ({"T": 1.5}, "T (transaction time) is not integer milliseconds: Decimal('1.5')"),
    ({"c": 12}, "c (client order id) is not a string: 12"),
    ({"x": "TRADE", "l": "0", "L": "0.03", "t": 3}, "l (last executed quantity) must be > 0, got 0"),
    ({"x": "TRADE", "l": "0.1", "L": "0.03", "t": -1}, "t (trade id) is not a valid trade id: -1"),
    ({"x": "TRADE", "l": "0.1", "L": "0.03", "t": 3, "n": "0.001", "N": None},
     "n (commission) is 0.001 but N (commission asset) is not given"),
    ({"x": "TRADE_PREVENTION", "X": "NEW"}, "A (prevented quantity) is missing"),
    ({"x": "REPLACED", "q": "0"}, "an amended quantity must be > 0, got 0"),
])  # fmt: skip
def test_bad_fields_are_untranslatable_naming_the_field(fields, reason):
    with pytest.raises(Untranslatable) as raised:
        spot(execution_report(**fields))
    assert str(raised.value) == reason


def test_a_missing_field_is_named():
    message = execution_report()
    del message["S"]
    with pytest.raises(Untranslatable, match=r"^S \(side\) is missing$"):
        spot(message)


@pytest.mark.parametrize("message, reason", [
    ({"e": "outboundAccountPosition", "E": 1, "u": 1, "B": "none"}, "B (balances) is not a list"),
    ({"e": "outboundAccountPosition", "E": 1, "u": 1, "B": [{"a": "BTC", "f": "x", "l": "0"}]},
     "f (free) is not a decimal number: 'x'"),
    ({"e": "outboundAccountPosition", "E": 1, "u": 1, "B": [{"a": "BTC", "f": "1", "l": "-1"}]},
     "l (locked) must be >= 0, got -1"),
    ({"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "lots", "T": 1},
     "d (balance delta) is not a decimal number: 'lots'"),
    ({"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "1"}, "T (transaction time) is missing"),
])  # fmt: skip
def test_bad_account_messages(message, reason):
    with pytest.raises(Untranslatable) as raised:
        spot(message)
    assert str(raised.value) == reason
