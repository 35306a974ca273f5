"""The Binance translators (spot `binance`, USDⓈ-M `binance-futures`), their instrument loaders and the
simulated days.

Messages are written field by field after the payloads in Binance's documentation (spot user-data-stream.md,
USDⓈ-M "Event: Order Update" and "Event: Balance and Position Update"); the values are our own. Every
expectation is a whole fact (struct equality), never a field picked out of one.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.translate import binance_sim as sim
from adapters.translate import get_format
from adapters.translate.base import AccountFact, OrderFact, OrderRef, Translation, Untranslatable
from adapters.translate.binance import (
    FUTURES_FORMAT,
    SPOT_FORMAT,
    load_futures_exchange_info,
    load_spot_exchange_info,
    translate_futures,
    translate_spot,
)
from kernel import events as ev
from kernel.ledger import Ledger
from kernel.schema.order_spec import AssetType, OrderSide, OrderType, TimeInForce
from kernel.streams import external_intent_id
from projections import Books

D = Decimal
MS = 1_000_000  # ns per ms


def spec(symbol: str, side: str, order_type: str, quantity: str, price: str | None = None, stop: str | None = None,
         tif: str = "GTC", **flags: Any) -> ev.OrderSpec:  # fmt: skip
    return ev.OrderSpec(symbol=symbol, side=OrderSide(side), order_type=OrderType(order_type), quantity=D(quantity),
                        price=None if price is None else D(price), stop_price=None if stop is None else D(stop),
                        time_in_force=TimeInForce(tif), **flags)  # fmt: skip


def instrument(symbol: str, asset_type: AssetType = AssetType.SPOT) -> ev.InstrumentSpec:
    return ev.InstrumentSpec(asset_id=symbol, symbol=symbol, asset_type=asset_type, name=symbol)


SPOT = {s: instrument(s) for s in ("ETHBTC", "BTCUSDT")}
FUTURES = {s: instrument(s, AssetType.PERPETUAL) for s in ("BTCUSDT", "ETHUSDT")}
PLACEHOLDERS = {"account_id": "", "intent_id": "", "ts_recorded": 0}


def raw(message: dict[str, Any]) -> bytes:
    return msgspec.json.encode(message)


def spot(message: dict[str, Any]) -> Translation:
    return translate_spot(raw(message), SPOT)


def futures(message: dict[str, Any]) -> Translation:
    return translate_futures(raw(message), FUTURES)


def only(translation: Translation) -> OrderFact | AccountFact:
    assert len(translation.facts) == 1, translation
    return translation.facts[0]


# ================================================================================== spot executionReport
def execution_report(**fields: Any) -> dict[str, Any]:
    """The docs' executionReport, field by field (values ours): a LIMIT BUY of 1.25 ETH at 0.03125 BTC."""
    message = {
        "e": "executionReport",            # Event type
        "E": 1767600000123,                # Event time
        "s": "ETHBTC",                     # Symbol
        "c": "web_cl1",                    # Client order ID
        "S": "BUY",                        # Side
        "o": "LIMIT",                      # Order type
        "f": "GTC",                        # Time in force
        "q": "1.25000000",                 # Order quantity
        "p": "0.03125000",                 # Order price
        "P": "0.00000000",                 # Stop price
        "F": "0.00000000",                 # Iceberg quantity
        "g": -1,                           # OrderListId
        "C": "",                           # Original client order ID; the ID of the order being canceled
        "x": "NEW",                        # Current execution type
        "X": "NEW",                        # Current order status
        "r": "NONE",                       # Order reject reason
        "i": 4293153,                      # Order ID
        "l": "0.00000000",                 # Last executed quantity
        "z": "0.00000000",                 # Cumulative filled quantity
        "L": "0.00000000",                 # Last executed price
        "n": "0",                          # Commission amount
        "N": None,                         # Commission asset
        "T": 1767600000120,                # Transaction time
        "t": -1,                           # Trade ID
        "I": 8641984,                      # Execution Id
        "w": True,                         # Is the order on the book?
        "m": False,                        # Is this trade the maker side?
        "M": False,                        # Ignore
        "O": 1767600000120,                # Order creation time
        "Z": "0.00000000",                 # Cumulative quote asset transacted quantity
        "Y": "0.00000000",                 # Last quote asset transacted quantity
        "Q": "0.00000000",                 # Quote Order Quantity
        "W": 1767600000120,                # Working Time
        "V": "EXPIRE_MAKER",               # SelfTradePreventionMode
    }  # fmt: skip
    message.update(fields)
    return message


T_NS = 1767600000120 * MS
LIMIT_BUY = spec("ETHBTC", "BUY", "LIMIT", "1.25", "0.03125")
REF = OrderRef(symbol="ETHBTC", client_order_id="web_cl1", exchange_order_id="4293153", order=LIMIT_BUY)


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
        **PLACEHOLDERS, ts_event=T_NS, exchange_order_id="4293153", exec_id="4293153:NEW@1767600000120")


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


# ================================================================================== futures ORDER_TRADE_UPDATE
def order_update(**fields: Any) -> dict[str, Any]:
    """The docs' ORDER_TRADE_UPDATE, field by field (values ours): a LIMIT SELL of 0.010 BTCUSDT at 61000.5."""
    order = {
        "s": "BTCUSDT",                 # Symbol
        "c": "TEST",                    # Client Order Id
        "S": "SELL",                    # Side
        "o": "LIMIT",                   # Order Type
        "f": "GTC",                     # Time in Force
        "q": "0.010",                   # Original Quantity
        "p": "61000.5",                 # Original Price
        "ap": "0",                      # Average Price
        "sp": "0",                      # Stop Price
        "x": "NEW",                     # Execution Type
        "X": "NEW",                     # Order Status
        "i": 8886774,                   # Order Id
        "l": "0",                       # Order Last Filled Quantity
        "z": "0",                       # Order Filled Accumulated Quantity
        "L": "0",                       # Last Filled Price
        "T": 1767600000650,             # Order Trade Time
        "t": 0,                         # Trade Id
        "b": "0",                       # Bids Notional
        "a": "610.005",                 # Ask Notional
        "m": False,                     # Is this trade the maker side?
        "R": False,                     # Is this reduce only
        "wt": "CONTRACT_PRICE",         # Stop Price Working Type
        "ot": "LIMIT",                  # Original Order Type
        "ps": "BOTH",                   # Position Side
        "cp": False,                    # If Close-All, pushed with conditional order
        "rp": "0",                      # Realized Profit of the trade
        "pP": False,                    # If price protection is turned on
        "si": 0,                        # ignore
        "ss": 0,                        # ignore
        "V": "EXPIRE_TAKER",            # STP mode
        "pm": "NONE",                   # Price match mode
        "gtd": 0,                       # TIF GTD order auto cancel time
    }  # fmt: skip
    order.update(fields)
    return {"e": "ORDER_TRADE_UPDATE", "E": 1767600000651, "T": 1767600000650, "o": order}


F_NS = 1767600000650 * MS
LIMIT_SELL = spec("BTCUSDT", "SELL", "LIMIT", "0.010", "61000.5")
F_REF = OrderRef(symbol="BTCUSDT", client_order_id="TEST", exchange_order_id="8886774", order=LIMIT_SELL)


def test_futures_new_is_an_accept_keyed_by_the_order_trade_time():
    assert futures(order_update()) == Translation(facts=(OrderFact(F_REF, ev.OrderAccepted(
        **PLACEHOLDERS, ts_event=F_NS, exchange_order_id="8886774",
        exec_id="8886774:NEW@1767600000650")),))  # fmt: skip


@pytest.mark.parametrize("status", ["PARTIALLY_FILLED", "FILLED"])
def test_futures_trade_is_a_fill_and_realized_profit_is_not_kept(status):
    message = order_update(x="TRADE", X=status, l="0.004", z="0.004", L="61000.5", ap="61000.5", N="USDT",
                           n="0.04880040", t=4021, m=True, rp="12.5")  # fmt: skip
    assert futures(message) == Translation(facts=(OrderFact(F_REF, ev.OrderFilled(
        **PLACEHOLDERS, ts_event=F_NS, trade_id="4021", quantity=D("0.004"), price=D("61000.5"), fee=D("0.0488004"),
        fee_asset="USDT", liquidity=ev.Liquidity.MAKER)),))  # fmt: skip


def test_futures_trade_without_commission_fields():
    fill = only(futures(order_update(x="TRADE", X="FILLED", l="0.010", L="61000.5", t=4022))).event
    assert (fill.fee, fill.fee_asset, fill.liquidity) == (D(0), None, ev.Liquidity.TAKER)


def test_liquidation_execution_is_a_fill_of_an_order_the_exchange_made():
    message = order_update(c="autoclose-1767600000650", o="LIQUIDATION", ot="LIQUIDATION", f="IOC", p="0",
                           x="CALCULATED", X="FILLED", l="0.010", z="0.010", L="58000.1", N="USDT", n="0.23200040",
                           t=0)  # fmt: skip
    ref = OrderRef(symbol="BTCUSDT", client_order_id="autoclose-1767600000650", exchange_order_id="8886774",
                   order=spec("BTCUSDT", "SELL", "MARKET", "0.010", tif="IOC"))  # fmt: skip
    assert futures(message) == Translation(facts=(OrderFact(ref, ev.OrderFilled(
        **PLACEHOLDERS, ts_event=F_NS, trade_id="8886774:CALCULATED:1767600000650", quantity=D("0.01"),
        price=D("58000.1"), fee=D("0.2320004"), fee_asset="USDT", liquidity=ev.Liquidity.TAKER)),))  # fmt: skip
    with_id = only(futures({**message, "o": {**message["o"], "t": 4030}})).event
    assert with_id.trade_id == "4030"


def test_futures_cancel_expiry_and_amendment():
    assert only(futures(order_update(x="CANCELED", X="CANCELED"))) == OrderFact(F_REF, ev.CancelAccepted(
        **PLACEHOLDERS, ts_event=F_NS, exec_id="8886774:CANCELED@1767600000650"))  # fmt: skip
    assert only(futures(order_update(x="EXPIRED", X="EXPIRED"))) == OrderFact(F_REF, ev.OrderExpired(
        **PLACEHOLDERS, ts_event=F_NS, exec_id="8886774:EXPIRED@1767600000650"))  # fmt: skip
    amended = only(futures(order_update(x="AMENDMENT", X="NEW", q="0.008", p="60990.0")))
    assert amended == OrderFact(OrderRef(
        symbol="BTCUSDT", client_order_id="TEST", exchange_order_id="8886774",
        order=spec("BTCUSDT", "SELL", "LIMIT", "0.008", "60990.0")), ev.AmendAccepted(
        **PLACEHOLDERS, ts_event=F_NS, quantity=D("0.008"), price=D("60990"),
        exec_id="8886774:AMENDMENT@1767600000650"))  # fmt: skip


FUTURES_PAIRS = [
    ("NEW", "NEW", ev.OrderAccepted),
    ("TRADE", "PARTIALLY_FILLED", ev.OrderFilled),
    ("TRADE", "FILLED", ev.OrderFilled),
    ("CALCULATED", "FILLED", ev.OrderFilled),
    ("CALCULATED", "PARTIALLY_FILLED", ev.OrderFilled),
    ("CANCELED", "CANCELED", ev.CancelAccepted),
    ("EXPIRED", "EXPIRED", ev.OrderExpired),
    ("EXPIRED", "EXPIRED_IN_MATCH", ev.OrderExpired),
    ("AMENDMENT", "NEW", ev.AmendAccepted),
    ("AMENDMENT", "PARTIALLY_FILLED", ev.AmendAccepted),
]


@pytest.mark.parametrize("x, status, kind", FUTURES_PAIRS)
def test_every_documented_futures_execution_type_and_status(x, status, kind):
    extra = {"l": "0.001", "L": "61000", "t": 9} if x in ("TRADE", "CALCULATED") else {}
    assert type(only(futures(order_update(x=x, X=status, **extra))).event) is kind


@pytest.mark.parametrize("binance, expected", [
    ({"o": "MARKET", "ot": "MARKET", "p": "0"}, spec("BTCUSDT", "SELL", "MARKET", "0.010")),
    ({"o": "STOP", "ot": "STOP", "sp": "60000"}, spec("BTCUSDT", "SELL", "STOP_LIMIT", "0.010", "61000.5", "60000")),
    ({"o": "STOP_MARKET", "ot": "STOP_MARKET", "p": "0", "sp": "60000"},
     spec("BTCUSDT", "SELL", "STOP", "0.010", stop="60000")),
    ({"o": "TAKE_PROFIT", "ot": "TAKE_PROFIT", "sp": "62000"},
     spec("BTCUSDT", "SELL", "STOP_LIMIT", "0.010", "61000.5", "62000")),
    ({"o": "TAKE_PROFIT_MARKET", "ot": "TAKE_PROFIT_MARKET", "p": "0", "sp": "62000"},
     spec("BTCUSDT", "SELL", "STOP", "0.010", stop="62000")),
    ({"o": "TRAILING_STOP_MARKET", "ot": "TRAILING_STOP_MARKET", "p": "0", "sp": "7103.04", "AP": "61500", "cr": "5.0"},
     spec("BTCUSDT", "SELL", "STOP", "0.010", stop="61500")),
    ({"o": "TRAILING_STOP_MARKET", "ot": "TRAILING_STOP_MARKET", "p": "0", "sp": "7103.04"}, None),  # no AP yet
    ({"o": "MARKET", "ot": "STOP_MARKET", "p": "0", "sp": "60000"},  # triggered: the original type describes it
     spec("BTCUSDT", "SELL", "STOP", "0.010", stop="60000")),
    ({"o": "LIQUIDATION", "ot": "LIQUIDATION"}, spec("BTCUSDT", "SELL", "MARKET", "0.010")),
    ({"f": "GTX"}, spec("BTCUSDT", "SELL", "LIMIT", "0.010", "61000.5", post_only=True)),
    ({"f": "IOC", "R": True}, spec("BTCUSDT", "SELL", "LIMIT", "0.010", "61000.5", tif="IOC", reduce_only=True)),
    ({"f": "FOK"}, spec("BTCUSDT", "SELL", "LIMIT", "0.010", "61000.5", tif="FOK")),
    ({"f": "GTD", "gtd": 1767686400000},
     spec("BTCUSDT", "SELL", "LIMIT", "0.010", "61000.5", tif="GTD", expire_at=1767686400000 * MS)),
    ({"f": "GTD", "gtd": 0}, None),
    ({"o": "MARKET", "ot": "MARKET", "q": "0", "p": "0", "cp": True}, None),  # close-all
])  # fmt: skip
def test_futures_order_types_and_times_in_force(binance, expected):
    assert only(futures(order_update(**binance))).ref.order == expected


def test_hedge_mode_orders_are_translated():
    fact = only(futures(order_update(ps="SHORT")))
    assert fact.event.exec_id == "8886774:NEW@1767600000650"


@pytest.mark.parametrize("fields, reason", [
    ({"s": "DOGEUSDT"}, "unknown symbol 'DOGEUSDT'"),
    ({"x": "REPLACED"}, "unknown execution type 'REPLACED'"),
    ({"o": "ICEBERG", "ot": "ICEBERG"}, "unknown original order type 'ICEBERG'"),
    ({"f": "DAY"}, "unknown time in force 'DAY'"),
    ({"q": "0,010"}, "q (order quantity) is not a decimal number: '0,010'"),
    ({"x": "TRADE", "l": "0.001", "L": "61000", "t": -5}, "t (trade id) is not a valid trade id: -5"),
    ({"x": "TRADE", "l": "0.001", "L": "-1", "t": 5}, "L (last executed price) must be > 0, got -1"),
])  # fmt: skip
def test_bad_futures_orders(fields, reason):
    with pytest.raises(Untranslatable) as raised:
        futures(order_update(**fields))
    assert str(raised.value) == reason


def test_futures_order_must_be_an_object():
    with pytest.raises(Untranslatable, match=r"^o \(order\) is not an object"):
        futures({"e": "ORDER_TRADE_UPDATE", "E": 1, "T": 1, "o": "BTCUSDT"})


# ================================================================================== futures ACCOUNT_UPDATE
def account_update(reason: str, balances: list[dict[str, str]], positions: list[dict[str, str]] = ()) -> dict:
    return {"e": "ACCOUNT_UPDATE", "E": 1767600000939, "T": 1767600000938,
            "a": {"m": reason, "B": balances, "P": list(positions)}}  # fmt: skip


A_NS, A_REPORT_NS = 1767600000938 * MS, 1767600000939 * MS
USDT = {"a": "USDT", "wb": "122624.12345678", "cw": "100.12345678", "bc": "50.12345678"}
BTC_POSITION = {"s": "BTCUSDT", "pa": "-0.020", "ep": "61000.5", "bep": "61010.2", "cr": "200", "up": "-3.2",
                "mt": "cross", "iw": "0", "ps": "BOTH"}  # fmt: skip
FLAT_ETH = {"s": "ETHUSDT", "pa": "0", "ep": "0.00000", "bep": "0", "cr": "-1.5", "up": "0", "mt": "cross",
            "iw": "0", "ps": "BOTH"}  # fmt: skip


def reports(t: Translation) -> tuple[ev.AccountEvent, ...]:
    return tuple(f.event for f in t.facts if not isinstance(f.event, ev.BalanceAdjusted))


def test_account_update_for_orders_reports_balances_and_positions_but_moves_no_cash():
    t = futures(account_update("ORDER", [USDT], [BTC_POSITION, FLAT_ETH]))
    balances, positions = t.facts
    assert balances == AccountFact(ev.ExchangeBalancesReported(
        account_id="", ts_recorded=0, ts_event=A_REPORT_NS, report_id=balances.event.report_id,
        balances=(ev.ReportedBalance(asset_id="USDT", total=D("122624.12345678"), locked=D(0)),)))  # fmt: skip
    assert positions == AccountFact(ev.ExchangePositionsReported(
        account_id="", ts_recorded=0, ts_event=A_REPORT_NS, report_id=positions.event.report_id,
        positions=(ev.ReportedPosition(symbol_id="BTCUSDT", quantity=D("-0.02"), entry_price=D("61000.5")),
                   ev.ReportedPosition(symbol_id="ETHUSDT", quantity=D(0), entry_price=None))),
        symbols=("BTCUSDT", "ETHUSDT"))  # fmt: skip
    assert balances.event.report_id.startswith("ACCOUNT_UPDATE:1767600000938:")


CASH = [
    ("DEPOSIT", ev.AdjustmentReason.DEPOSIT), ("ADMIN_DEPOSIT", ev.AdjustmentReason.DEPOSIT),
    ("COIN_SWAP_DEPOSIT", ev.AdjustmentReason.DEPOSIT), ("WITHDRAW", ev.AdjustmentReason.WITHDRAWAL),
    ("ADMIN_WITHDRAW", ev.AdjustmentReason.WITHDRAWAL), ("COIN_SWAP_WITHDRAW", ev.AdjustmentReason.WITHDRAWAL),
    ("WITHDRAW_REJECT", ev.AdjustmentReason.WITHDRAWAL), ("FUNDING_FEE", ev.AdjustmentReason.FUNDING),
    ("MARGIN_TRANSFER", ev.AdjustmentReason.TRANSFER), ("ASSET_TRANSFER", ev.AdjustmentReason.TRANSFER),
    ("AUTO_EXCHANGE", ev.AdjustmentReason.TRANSFER), ("MARGIN_TYPE_CHANGE", ev.AdjustmentReason.TRANSFER),
    ("ADJUSTMENT", ev.AdjustmentReason.CORRECTION), ("INSURANCE_CLEAR", ev.AdjustmentReason.CORRECTION),
    ("OPTIONS_PREMIUM_FEE", ev.AdjustmentReason.CORRECTION), ("OPTIONS_SETTLE_PROFIT", ev.AdjustmentReason.CORRECTION),
]  # fmt: skip


@pytest.mark.parametrize("reason, adjustment", CASH)
def test_each_cash_reason_is_a_balance_adjustment_before_the_report(reason, adjustment):
    t = futures(account_update(reason, [USDT, {"a": "BNB", "wb": "1.00000000", "cw": "0", "bc": "0"}]))
    assert t.facts[0] == AccountFact(ev.BalanceAdjusted(
        account_id="", ts_recorded=0, ts_event=A_NS, asset_id="USDT", amount=D("50.12345678"), reason=adjustment,
        reference=f"ACCOUNT_UPDATE:{reason}:USDT:1767600000938:122624.12345678"))  # fmt: skip
    assert [type(f.event) for f in t.facts] == [ev.BalanceAdjusted, ev.ExchangeBalancesReported]  # none for bc 0


def test_funding_of_a_cross_position_names_no_symbol_and_two_in_one_millisecond_differ():
    first = {"a": "USDT", "wb": "1000.5", "cw": "1000.5", "bc": "-0.25"}
    second = {"a": "USDT", "wb": "1000.25", "cw": "1000.25", "bc": "-0.25"}
    refs = {futures(account_update("FUNDING_FEE", [b])).facts[0].event.reference for b in (first, second)}
    assert len(refs) == 2


def test_the_docs_hedge_mode_example_is_not_supported():
    long = {**BTC_POSITION, "pa": "20", "ep": "6563.66500", "mt": "isolated", "iw": "13200.70726908", "ps": "LONG"}
    with pytest.raises(Untranslatable, match=r"^hedge mode position side LONG is not supported \(BTCUSDT 20\)$"):
        futures(account_update("ORDER", [USDT], [BTC_POSITION, long]))


def test_an_empty_hedge_mode_side_is_ignored():
    empty = {**BTC_POSITION, "pa": "0", "ps": "SHORT"}
    with_empty_side = reports(futures(account_update("ORDER", [USDT], [empty])))
    assert with_empty_side == reports(futures(account_update("ORDER", [USDT])))


@pytest.mark.parametrize("message, reason", [
    (account_update("NEW_REASON", [USDT]), "unknown ACCOUNT_UPDATE reason 'NEW_REASON' with a balance change of "
                                           "50.12345678 USDT"),
    (account_update("ORDER", [USDT], [{**BTC_POSITION, "s": "XRPUSDT"}]), "unknown symbol 'XRPUSDT'"),
    (account_update("ORDER", [{**USDT, "wb": "many"}]), "wb (wallet balance) is not a decimal number: 'many'"),
    (account_update("ORDER", [USDT], [{**BTC_POSITION, "ep": "-1"}]), "ep (entry price) must be >= 0, got -1"),
    (account_update("ORDER", [USDT], [{**BTC_POSITION, "ps": "MIDDLE"}]), "unknown position side 'MIDDLE'"),
    ({"e": "ACCOUNT_UPDATE", "E": 1, "T": 1, "a": [1]}, "a (update data) is not an object: [1]"),
    ({"e": "ACCOUNT_UPDATE", "E": 1, "T": 1, "a": {"m": "ORDER", "B": [1]}}, "B (balances) is not a list of objects"),
])  # fmt: skip
def test_bad_account_updates(message, reason):
    with pytest.raises(Untranslatable) as raised:
        futures(message)
    assert str(raised.value) == reason


def test_an_unknown_reason_without_a_balance_change_still_reports():
    t = futures(account_update("NEW_REASON", [{**USDT, "bc": "0"}]))
    assert [type(f.event) for f in t.facts] == [ev.ExchangeBalancesReported]


def test_account_update_with_nothing_listed_is_skipped():
    assert futures(account_update("MARGIN_TYPE_CHANGE", [])).skipped


def test_leverage_change_is_recorded_and_multi_assets_mode_is_skipped():
    message = {"e": "ACCOUNT_CONFIG_UPDATE", "E": 1767600000791, "T": 1767600000791, "ac": {"s": "BTCUSDT", "l": 25}}
    assert futures(message) == Translation(facts=(AccountFact(ev.LeverageSet(
        account_id="", ts_recorded=0, ts_event=1767600000791 * MS, symbol_id="BTCUSDT", leverage=D(25),
        reference=f"ACCOUNT_CONFIG_UPDATE:BTCUSDT:{1767600000791 * MS}:25"), symbols=("BTCUSDT",)),))  # fmt: skip
    assert futures({"e": "ACCOUNT_CONFIG_UPDATE", "E": 1, "T": 1, "ai": {"j": True}}).skipped
    with pytest.raises(Untranslatable, match="unknown symbol 'ABCUSDT'"):
        futures({**message, "ac": {"s": "ABCUSDT", "l": 25}})


@pytest.mark.parametrize("kind", ["MARGIN_CALL", "TRADE_LITE", "listenKeyExpired", "STRATEGY_UPDATE", "GRID_UPDATE",
                                  "CONDITIONAL_ORDER_TRIGGER_REJECT", "ALGO_UPDATE"])  # fmt: skip
def test_futures_messages_without_a_ledger_fact_are_skipped(kind):
    translation = futures({"e": kind, "E": 1767600000000, "T": 1767600000000})
    assert translation.facts == () and translation.skipped


def test_futures_refuses_spot_events_and_unknown_ones():
    with pytest.raises(Untranslatable, match=r"^unknown event type 'executionReport' \(a binance spot event\)$"):
        futures(execution_report())
    with pytest.raises(Untranslatable, match=r"^unknown event type 'foo'$"):
        futures({"e": "foo"})
    with pytest.raises(Untranslatable, match=r"^invalid JSON"):
        translate_futures(b"\x89PNG\r\n\x1a\n", FUTURES)
    with pytest.raises(Untranslatable, match="^not a Binance event: no event type field 'e'$"):
        translate_futures(b"{}", FUTURES)


# ================================================================================== exact numbers
plain_decimals = st.builds(
    lambda whole, fraction, places: f"{whole}.{str(fraction).zfill(places)[:places]}" if places else str(whole),
    st.integers(0, 10**15), st.integers(0, 10**8), st.integers(0, 8),
).filter(lambda text: Decimal(text) > 0)


@given(quantity=plain_decimals, price=plain_decimals, as_number=st.booleans())
@example(quantity="0.00000001", price="123456789012345.12345678", as_number=False)
@example(quantity="0.00000001", price="1000", as_number=True)
def test_quantities_and_prices_round_trip_exactly(quantity, price, as_number):
    """Whatever decimal text Binance sends is the exact number recorded, digit for digit (trailing zeros too)."""
    fields = {"x": "TRADE", "X": "PARTIALLY_FILLED", "q": quantity, "p": price, "l": quantity, "L": price, "t": 1}
    data = raw(execution_report(**fields))
    if as_number:  # a JSON number is a Decimal too, never a float
        data = data.replace(f'"l":"{quantity}"'.encode(), f'"l":{quantity}'.encode())
        data = data.replace(f'"L":"{price}"'.encode(), f'"L":{price}'.encode())
    fact = only(translate_spot(data, SPOT))
    text = lambda number: format(number, "f")  # noqa: E731 - the decimal's own digits, never an exponent
    assert (text(fact.event.quantity), text(fact.event.price)) == (quantity, price)
    assert (text(fact.ref.order.quantity), text(fact.ref.order.price)) == (quantity, price)
    futures_fact = only(futures(order_update(x="TRADE", X="FILLED", q=quantity, p=price, l=quantity, L=price, t=2)))
    assert (text(futures_fact.event.quantity), text(futures_fact.event.price)) == (quantity, price)


# ================================================================================== instruments
SPOT_INFO = {
    "timezone": "UTC", "serverTime": 1767600000000, "rateLimits": [], "exchangeFilters": [],
    "symbols": [{
        "symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "baseAssetPrecision": 8, "quoteAsset": "BTC",
        "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": True, "ocoAllowed": True, "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.00001000", "maxPrice": "922327.00000000",
             "tickSize": "0.00001000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00010000", "maxQty": "100000.00000000", "stepSize": "0.00010000"},
            {"filterType": "NOTIONAL", "minNotional": "0.00010000", "applyMinToMarket": True},
        ],
        "permissions": [], "permissionSets": [["SPOT", "MARGIN"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
    }, {
        "symbol": "SHIBTRY", "status": "BREAK", "baseAsset": "SHIB", "quoteAsset": "TRY",
        "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.00000000"},
                    {"filterType": "LOT_SIZE", "stepSize": "1.00000000"}],
    }],
}  # fmt: skip


def test_spot_exchange_info():
    assert load_spot_exchange_info(raw(SPOT_INFO)) == [
        ev.InstrumentSpec(asset_id="ETHBTC", symbol="ETHBTC", asset_type=AssetType.SPOT, name="ETH/BTC",
                          base_asset="ETH", quote_asset="BTC", tick_size=D("0.00001"), lot_size=D("0.0001"),
                          metadata={"status": "TRADING"}),
        ev.InstrumentSpec(asset_id="SHIBTRY", symbol="SHIBTRY", asset_type=AssetType.SPOT, name="SHIB/TRY",
                          base_asset="SHIB", quote_asset="TRY", tick_size=None, lot_size=D(1),
                          metadata={"status": "BREAK"}),
    ]  # fmt: skip


def futures_symbol(**fields: Any) -> dict[str, Any]:
    entry = {
        "symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
        "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "settlePlan": 0, "triggerProtect": "0.0500",
        "filters": [{"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
                    {"filterType": "LOT_SIZE", "maxQty": "1000", "minQty": "0.001", "stepSize": "0.001"},
                    {"filterType": "MARKET_LOT_SIZE", "maxQty": "120", "minQty": "0.001", "stepSize": "0.001"}],
        "orderTypes": ["LIMIT", "MARKET", "STOP"], "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }  # fmt: skip
    entry.update(fields)
    return entry


def test_futures_exchange_info():
    info = {"timezone": "UTC", "symbols": [
        futures_symbol(),
        futures_symbol(symbol="BTCUSDT_260327", contractType="CURRENT_QUARTER", deliveryDate=1774598400000),
        futures_symbol(symbol="ETHUSDT_250926", contractType="", deliveryDate=1758873600000, status="SETTLING"),
        futures_symbol(symbol="XYZUSDT", contractType="PERPETUAL_DELIVERING", deliveryDate=1767686400000),
    ]}  # fmt: skip
    common = {"base_asset": "BTC", "quote_asset": "USDT", "contract_size": D(1), "settlement_asset": "USDT",
              "tick_size": D("0.1"), "lot_size": D("0.001"), "initial_margin_rate": D("0.05"),
              "maintenance_margin_rate": D("0.025")}  # fmt: skip
    assert load_futures_exchange_info(raw(info)) == [
        ev.InstrumentSpec(asset_id="BTCUSDT", symbol="BTCUSDT", asset_type=AssetType.PERPETUAL,
                          name="BTC/USDT:USDT", metadata={"contract_type": "PERPETUAL", "status": "TRADING"}, **common),
        ev.InstrumentSpec(asset_id="BTCUSDT_260327", symbol="BTCUSDT_260327", asset_type=AssetType.FUTURE,
                          name="BTC/USDT:USDT-260327", expiry_timestamp=1774598400000 * MS,
                          metadata={"contract_type": "CURRENT_QUARTER", "status": "TRADING"}, **common),
        ev.InstrumentSpec(asset_id="ETHUSDT_250926", symbol="ETHUSDT_250926", asset_type=AssetType.FUTURE,
                          name="BTC/USDT:USDT-250926", expiry_timestamp=1758873600000 * MS,
                          metadata={"status": "SETTLING"}, **common),
        ev.InstrumentSpec(asset_id="XYZUSDT", symbol="XYZUSDT", asset_type=AssetType.PERPETUAL,
                          name="BTC/USDT:USDT", metadata={"contract_type": "PERPETUAL_DELIVERING", "status": "TRADING"},
                          **common),
    ]  # fmt: skip


@pytest.mark.parametrize("load", [load_spot_exchange_info, load_futures_exchange_info])
@pytest.mark.parametrize("data, reason", [
    (b"<html>503</html>", "not a Binance exchangeInfo file: invalid JSON: JSON is malformed"),
    (b"", "not a Binance exchangeInfo file: invalid JSON: Input data was truncated"),
    (b'{"symbols": ["\xc3("]}', "not a Binance exchangeInfo file: invalid JSON: 'utf-8' codec can't decode byte 0xc3"),
    (b'{"code": -1121, "msg": "Invalid symbol."}', "not a Binance exchangeInfo file: no 'symbols' list"),
    (b"[]", "not a Binance exchangeInfo file: no 'symbols' list"),
    (b'{"symbols": [7]}', "symbols[0] is not an object"),
    (b'{"symbols": [{"baseAsset": "BTC"}]}', "symbols[0]: symbol is missing or not a string: None"),
    (b'{"symbols": [{"symbol": "BTCUSDT", "quoteAsset": "USDT", "marginAsset": "USDT"}]}',
     "symbols[0] (BTCUSDT): baseAsset is missing or not a string: None"),
])  # fmt: skip
def test_bad_exchange_info_files(load, data, reason):
    with pytest.raises(ValueError) as raised:
        load(data)
    assert str(raised.value).startswith(reason) and "\n" not in str(raised.value)


def test_bad_filters_and_contracts():
    bad_tick = {"symbols": [futures_symbol(filters=[{"filterType": "PRICE_FILTER", "tickSize": "a dime"}])]}
    with pytest.raises(ValueError, match=r"^symbols\[0\] \(BTCUSDT\): PRICE_FILTER.tickSize is not a decimal"):
        load_futures_exchange_info(raw(bad_tick))
    undated = {"symbols": [futures_symbol(contractType="NEXT_QUARTER", deliveryDate=None)]}
    with pytest.raises(ValueError, match=r"^symbols\[0\] \(BTCUSDT\): a NEXT_QUARTER contract without a deliveryDate$"):
        load_futures_exchange_info(raw(undated))
    negative = {"symbols": [futures_symbol(requiredMarginPercent="-5")]}
    with pytest.raises(ValueError, match=r"requiredMarginPercent must be >= 0, got -5$"):
        load_futures_exchange_info(raw(negative))


def test_formats_are_in_the_table():
    assert get_format("binance") is SPOT_FORMAT and get_format("binance-futures") is FUTURES_FORMAT
    assert (SPOT_FORMAT.account_type, FUTURES_FORMAT.account_type) == (ev.AccountType.SPOT, ev.AccountType.FUTURES)
    assert SPOT_FORMAT.exchange == "binance" and FUTURES_FORMAT.exchange == "binance-futures"


# ================================================================================== simulated days
def record(messages: list[bytes], translate, instruments, account_type: ev.AccountType, intents=()) -> Ledger:
    """A minimal ingest: orders resolve by client order id, original client order id, the exchange order id
    seen before, else they are discovered as external orders; account facts as they are. The `intents` (expected
    orders) are placed and sent by "the kernel" just before the exchange first names them."""
    ticks = itertools.count(1)
    ledger = Ledger.open("memory://", clock=lambda: next(ticks))
    ledger.open_account("acc", exchange="binance", account_type=account_type, base_currency="USDT", ts_event=1)
    for spec_ in instruments.values():
        ledger.record_event(ev.AssetRegistered(account_id="acc", asset=spec_, ts_event=1, ts_recorded=next(ticks)))
    links: dict[str, str] = {}
    to_send = {expected.client_order_id: expected for expected in intents}
    for message in messages:
        for fact in translate(message, instruments).facts:
            if isinstance(fact, AccountFact):
                ledger.record_event(msgspec.structs.replace(fact.event, account_id="acc", ts_recorded=next(ticks)))
                continue
            ref = fact.ref
            expected = to_send.pop(ref.client_order_id, None)
            if expected is not None:
                sent = fact.event.ts_event - 1
                placed = {"intent_id": expected.client_order_id, "created_at": sent, "updated_at": sent,
                          "order": msgspec.to_builtins(expected.order)}
                ledger.place_intent("acc", placed)
                ledger.start_submission("acc", expected.client_order_id, client_order_id=expected.client_order_id,
                                        ts_event=sent)  # fmt: skip
                links["c:" + expected.client_order_id] = expected.client_order_id
            intent = next((links[k] for k in ("c:" + ref.client_order_id, "c:" + ref.orig_client_order_id,
                                              "x:" + ref.exchange_order_id) if k in links),
                          external_intent_id(ref.exchange_order_id))  # fmt: skip
            links["x:" + ref.exchange_order_id] = intent
            ledger.record_exchange_fact(msgspec.structs.replace(fact.event, account_id="acc", intent_id=intent),
                                        exchange_order_id=ref.exchange_order_id, order=ref.order)  # fmt: skip
    return ledger


def check_reports_agree(ledger: Ledger, *, locked: bool) -> int:
    """Fold the log; at every exchange report the ledger's own figures are the reported ones. Returns how many
    reports were checked."""
    books, checked = Books(), 0
    for _, event in ledger.read():
        books.apply(event)
        if isinstance(event, ev.ExchangeBalancesReported):
            for reported in event.balances:
                mine = books.balance("acc", reported.asset_id)
                assert mine is not None and mine.total == reported.total, (event, mine)
                assert not locked or mine.locked == reported.locked, (event, mine)
            checked += 1
        elif isinstance(event, ev.ExchangePositionsReported):
            for reported in event.positions:
                mine = books.position("acc", reported.symbol_id)
                assert mine is not None and mine.asset.quantity == reported.quantity, (event, mine)
                assert mine.asset.entry_price == reported.entry_price, (event, mine)
            checked += 1
    return checked


def check_orders(ledger: Ledger, expected: sim.Expected, intents: set[str]) -> None:
    books = Books.of(event for _, event in ledger.read())
    for cid, order in expected.orders.items():
        view = books.order_view("acc", cid if cid in intents else external_intent_id(order.exchange_order_id))
        assert view is not None, cid
        assert (view.state.status, view.filled_quantity, view.quantity) == (order.status, order.filled,
                                                                           order.quantity), cid  # fmt: skip
        assert view.fees == {k: v for k, v in order.fees.items() if v}, cid
        assert set(view.anomalies) <= ({"external_order"} if cid not in intents else set()), (cid, view.anomalies)


def test_the_spot_day_is_deterministic_and_every_message_translates():
    first, second = sim.Expected(), sim.Expected()
    messages = list(sim.simulate_spot_day(11, 120, first))
    assert messages == list(sim.simulate_spot_day(11, 120, second)) and first == second
    assert messages != list(sim.simulate_spot_day(12, 120))
    instruments = {s.symbol: s for s in load_spot_exchange_info(sim.spot_exchange_info())}
    translations = [translate_spot(m, instruments) for m in messages]
    assert sum(1 for t in translations if t.skipped) == first.skipped == 0
    assert len(messages) == first.messages
    kinds = {type(f.event) for t in translations for f in t.facts}
    assert kinds == {ev.OrderAccepted, ev.OrderFilled, ev.CancelAccepted, ev.OrderRejected, ev.OrderExpired,
                     ev.AmendAccepted, ev.BalanceAdjusted, ev.ExchangeBalancesReported}  # fmt: skip
    assert any(m.startswith(b'{"subscriptionId":0,"event":') for m in messages)
    assert {f.event.fee_asset for t in translations for f in t.facts if isinstance(f.event, ev.OrderFilled)} == {
        "BTC", "ETH", "BNB", "USDT"}


def test_the_spot_day_recorded_agrees_with_every_report_and_the_expectations():
    expected = sim.Expected()
    messages = list(sim.simulate_spot_day(5, 150, expected))
    instruments = {s.symbol: s for s in load_spot_exchange_info(sim.spot_exchange_info())}
    intents = [o for i, o in enumerate(expected.orders.values()) if i % 2 == 0]  # half placed by the kernel
    ledger = record(messages, translate_spot, instruments, ev.AccountType.SPOT, intents)
    assert check_reports_agree(ledger, locked=True) > 150
    books = Books.of(event for _, event in ledger.read())
    assert {b.asset_id: b.total for b in books.balances("acc")} == expected.balances
    assert {a: v for a, v in books.locked("acc").items() if v} == {a: v for a, v in expected.locked.items() if v}
    check_orders(ledger, expected, {o.client_order_id for o in intents})
    assert {o.status for o in expected.orders.values()} >= {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "NEW"}


def test_the_futures_day_recorded_agrees_with_every_report_and_the_expectations():
    expected = sim.Expected()
    messages = list(sim.simulate_futures_day(9, 150, expected))
    assert messages == list(sim.simulate_futures_day(9, 150))
    instruments = {s.symbol: s for s in load_futures_exchange_info(sim.futures_exchange_info())}
    translations = [translate_futures(m, instruments) for m in messages]
    assert sum(1 for t in translations if t.skipped) == expected.skipped > 0
    reasons = {f.event.reason for t in translations for f in t.facts if isinstance(f.event, ev.BalanceAdjusted)}
    assert reasons == {ev.AdjustmentReason.DEPOSIT, ev.AdjustmentReason.FUNDING}
    intents = [o for i, o in enumerate(expected.orders.values()) if i % 3 == 0]
    ledger = record(messages, translate_futures, instruments, ev.AccountType.FUTURES, intents)
    assert check_reports_agree(ledger, locked=False) > 150
    books = Books.of(event for _, event in ledger.read())
    assert {b.asset_id: b.total for b in books.balances("acc")} == expected.balances
    for symbol, quantity in expected.positions.items():
        position = books.position("acc", symbol)
        assert position is not None
        assert (position.asset.quantity, position.asset.entry_price) == (quantity, expected.entry_prices[symbol])
    state = books.account_state("acc")
    assert state is not None and state.total_realized_pnl == expected.realized_pnl
    check_orders(ledger, expected, {o.client_order_id for o in intents})
    flips = sum(1 for t in translations for f in t.facts if isinstance(f.event, ev.ExchangePositionsReported)
                for p in f.event.positions if p.quantity == 0)  # fmt: skip
    assert flips > 0  # positions closed (and flipped: a close is the first fill of a flip)


def test_recording_a_simulated_day_twice_records_nothing_new():
    messages = list(sim.simulate_futures_day(2, 40))
    instruments = {s.symbol: s for s in load_futures_exchange_info(sim.futures_exchange_info())}
    ledger = record(messages, translate_futures, instruments, ev.AccountType.FUTURES)
    head = ledger.head()
    links: dict[str, str] = {}
    for message in messages:  # the same facts again, as an ingest re-running the file would record them
        for fact in translate_futures(message, instruments).facts:
            if isinstance(fact, AccountFact):
                done = ledger.record_event(msgspec.structs.replace(fact.event, account_id="acc", ts_recorded=10**18))
            else:
                intent = links.setdefault(fact.ref.exchange_order_id, external_intent_id(fact.ref.exchange_order_id))
                done = ledger.record_exchange_fact(msgspec.structs.replace(fact.event, account_id="acc",
                                                                           intent_id=intent))  # fmt: skip
            assert done == (), fact
    assert ledger.head() == head


def test_exchange_info_files_of_the_simulator_load():
    spot_specs = load_spot_exchange_info(sim.spot_exchange_info(["BTCUSDT", "ETHBTC"]))
    assert [(s.symbol, s.name, s.tick_size, s.lot_size) for s in spot_specs] == [
        ("BTCUSDT", "BTC/USDT", D("0.01"), D("0.00001")), ("ETHBTC", "ETH/BTC", D("0.00001"), D("0.0001"))]
    futures_specs = load_futures_exchange_info(sim.futures_exchange_info())
    assert [(s.symbol, s.asset_type, s.expiry_timestamp) for s in futures_specs] == [
        ("BTCUSDT", AssetType.PERPETUAL, None), ("ETHUSDT", AssetType.PERPETUAL, None),
        ("BTCUSDT_260327", AssetType.FUTURE, sim.QUARTERLY_DELIVERY_MS * MS)]  # fmt: skip


def test_expectations_without_the_stream():
    assert sim.expect_spot_day(3, 20) == sim.expect_spot_day(3, 20)
    assert sim.expect_futures_day(3, 20).messages == sum(1 for _ in sim.simulate_futures_day(3, 20))
