"""The Binance USDⓈ-M futures translator (`binance-futures`): ORDER_TRADE_UPDATE and ACCOUNT_UPDATE, written
field by field after "Event: Order Update" and "Event: Balance and Position Update" (our own values).
Every expectation is a whole fact (struct equality)."""

from __future__ import annotations

import pytest

from adapters.translate.base import AccountFact, OrderFact, OrderRef, Translation, Untranslatable
from adapters.translate.binance import (
    translate_futures,
)
from kernel import events as ev
from tests.unit.translate.binance_support import (
    F_NS,
    F_REF,
    FUTURES,
    MS,
    PLACEHOLDERS,
    D,
    execution_report,
    futures,
    only,
    order_update,
    spec,
)


# ================================================================================== futures ORDER_TRADE_UPDATE
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
