"""ccxt's unified order, trade, balance and positions structures (written field by field from ccxt's
manual, as `json.dumps` writes what ccxt returns) to ledger facts, and bad input."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from adapters.translate.base import AccountFact, OrderFact, OrderRef, Translation, Untranslatable
from adapters.translate.ccxt_unified import translate
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, TimeInForce
from tests.unit.translate.ccxt_support import (
    ACCEPTED,
    EID,
    INSTRUMENTS,
    REF,
    SPEC,
    T0,
    T1,
    D,
    fact,
    line,
    order,
    terms,
    trade,
)


def test_open_order_is_accepted_by_its_exchange_order_id():
    assert translate(line(order("open")), INSTRUMENTS) == Translation(facts=(ACCEPTED,))


def test_closed_order_is_accepted_and_records_no_fill_without_trades():
    closed = order("closed", filled=1.5, remaining=0.0, average=0.06917684, cost=0.10376526, lastTradeTimestamp=T1)
    assert translate(line(closed), INSTRUMENTS) == Translation(facts=(ACCEPTED,))


def test_closed_order_listing_its_trades_records_them_after_the_accept():
    fills = [trade(id="t-1", amount=0.5, timestamp=T0 + 1), trade(id="t-2", amount=1.0, timestamp=T1, fee=None,
             fees=[], takerOrMaker="maker")]  # fmt: skip
    closed = order("closed", filled=1.5, remaining=0.0, trades=fills, lastTradeTimestamp=T1)
    assert translate(line(closed), INSTRUMENTS).facts == (
        ACCEPTED,
        OrderFact(REF, fact(ev.OrderFilled, T0 + 1, trade_id="t-1", quantity=D("0.5"), price=D("0.06917684"),
                            fee=D("0.0015"), fee_asset="ETH", liquidity=ev.Liquidity.TAKER)),
        OrderFact(REF, fact(ev.OrderFilled, T1, trade_id="t-2", quantity=D("1.0"), price=D("0.06917684"),
                            liquidity=ev.Liquidity.MAKER)),
    )  # fmt: skip


def test_canceled_order_is_accepted_then_canceled_at_its_last_update():
    canceled = order("canceled", lastUpdateTimestamp=T1)
    assert translate(line(canceled), INSTRUMENTS).facts == (
        ACCEPTED, terms(REF, T1), OrderFact(REF, fact(ev.CancelAccepted, T1)))  # fmt: skip


def test_expired_order_is_accepted_then_expired():
    expired = order("expired", timeInForce="IOC")
    ref = OrderRef(symbol="ETH/BTC", client_order_id="abcdef-ghijklmnop-qrstuvwxyz", exchange_order_id=EID,
                   order=msgspec.structs.replace(SPEC, time_in_force=TimeInForce.IOC))  # fmt: skip
    assert translate(line(expired), INSTRUMENTS).facts == (
        OrderFact(ref, fact(ev.OrderAccepted, T0, exchange_order_id=EID)),
        OrderFact(ref, fact(ev.OrderExpired, T0)),
    )


def test_rejected_order_is_rejected():
    assert translate(line(order("rejected")), INSTRUMENTS).facts == (
        OrderFact(REF, fact(ev.OrderRejected, T0, reason="rejected by the exchange (ccxt status 'rejected')",
                            exchange_order_id=EID)),
    )  # fmt: skip


def test_rejected_order_without_an_exchange_id_is_named_by_its_client_order_id():
    [rejected] = translate(line(order("rejected", id=None)), INSTRUMENTS).facts
    assert rejected.ref == OrderRef(symbol="ETH/BTC", client_order_id="abcdef-ghijklmnop-qrstuvwxyz",
                                    exchange_order_id="", order=SPEC)  # fmt: skip


def test_a_repeated_snapshot_translates_to_the_same_facts():
    first = translate(line(order("open")), INSTRUMENTS)
    later = translate(line(order("open", filled=0.5, remaining=1.0, lastUpdateTimestamp=T1)), INSTRUMENTS)
    # the same OrderAccepted, keyed by the exchange order id: the ledger records it once; the later snapshot
    # restates the terms (the ledger records nothing for terms it holds)
    assert first.facts == (ACCEPTED,) and later.facts == (ACCEPTED, terms(REF, T1))


def test_an_edited_order_restates_its_terms_at_its_last_update_before_its_fills_and_end():
    # editOrder changed amount 1.5 -> 2.5 and the price; the snapshot shows only the order as it is now
    edited = order("canceled", amount=2.5, price=0.07, filled=1.0, remaining=1.5, lastUpdateTimestamp=T1 + 5,
                   trades=[trade(id="t-1", amount=1.0, price=0.07, timestamp=T1)])  # fmt: skip
    ref = msgspec.structs.replace(REF, order=msgspec.structs.replace(SPEC, quantity=D("2.5"), price=D("0.07")))
    accepted, restated, filled, canceled = translate(line(edited), INSTRUMENTS).facts
    assert accepted == OrderFact(ref, fact(ev.OrderAccepted, T0, exchange_order_id=EID))
    assert restated == OrderFact(ref, fact(ev.AmendAccepted, T1 + 5, quantity=D("2.5"), price=D("0.07"),
                                           exec_id=f"{EID}:AMENDED@{T1 + 5}"), if_changed=True)  # fmt: skip
    assert (filled.event.trade_id, canceled.event) == ("t-1", fact(ev.CancelAccepted, T1 + 5))
    assert not (accepted.if_changed or filled.if_changed or canceled.if_changed), "facts, recorded as they are"


def test_a_market_orders_restated_terms_have_no_price():
    market = order("closed", type="market", price=0.069, average=0.069, lastUpdateTimestamp=T1)
    [_, restated] = translate(line(market), INSTRUMENTS).facts
    assert (restated.event.quantity, restated.event.price, restated.if_changed) == (D("1.5"), None, True)


@pytest.mark.parametrize("fields", [
    {"status": "open"},  # no lastUpdateTimestamp: nothing tells this snapshot from an older one
    {"status": "open", "timeInForce": "GTD", "lastUpdateTimestamp": T1},  # terms the ledger cannot describe
    {"status": "rejected", "lastUpdateTimestamp": T1},  # never live: no terms to amend
])  # fmt: skip
def test_a_snapshot_without_an_update_time_a_description_or_a_live_order_restates_no_terms(fields):
    facts = translate(line(order(**fields)), INSTRUMENTS).facts
    assert facts and not any(isinstance(f.event, ev.AmendAccepted) or f.if_changed for f in facts)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"type": "market", "price": 0.069, "average": 0.069},  # a market order's price is its average fill
     dict(order_type=OrderType.MARKET, price=None)),
    ({"type": "limit", "triggerPrice": 0.07, "stopPrice": 0.07},
     dict(order_type=OrderType.STOP_LIMIT, stop_price=D("0.07"))),
    ({"type": "market", "price": None, "triggerPrice": 0.07}, dict(order_type=OrderType.STOP, price=None,
                                                                   stop_price=D("0.07"))),
    ({"type": "stop_loss_limit", "stopLossPrice": 0.065}, dict(order_type=OrderType.STOP_LIMIT,
                                                                stop_price=D("0.065"))),
    ({"timeInForce": "PO", "postOnly": True}, dict(post_only=True)),
    ({"type": "limit_maker"}, dict(post_only=True)),
    ({"timeInForce": "FOK", "side": "sell", "reduceOnly": True},
     dict(time_in_force=TimeInForce.FOK, side=OrderSide.SELL, reduce_only=True)),
])  # fmt: skip
def test_the_order_is_described_from_its_type_prices_and_flags(fields, expected):
    [accepted] = translate(line(order("open", **fields)), INSTRUMENTS).facts
    assert accepted.ref.order == msgspec.structs.replace(SPEC, **expected)


@pytest.mark.parametrize("fields", [
    {"type": "trailing_stop_market"}, {"timeInForce": "GTD"}, {"side": None}, {"amount": None},
    {"type": "limit", "price": None},
])  # fmt: skip
def test_an_order_the_ledger_cannot_describe_still_records_its_status(fields):
    [accepted] = translate(line(order("open", **fields)), INSTRUMENTS).facts
    assert accepted.event == ACCEPTED.event and accepted.ref.order is None


def test_trade_is_a_fill_of_the_order_it_names():
    assert translate(line(trade()), INSTRUMENTS) == Translation(facts=(OrderFact(
        OrderRef(symbol="ETH/BTC", exchange_order_id=EID, order=SPEC),
        fact(ev.OrderFilled, T0, trade_id=EID, quantity=D("1.5"), price=D("0.06917684"), fee=D("0.0015"),
             fee_asset="ETH", liquidity=ev.Liquidity.TAKER),
    ),))  # fmt: skip


def test_trade_fee_from_fees_when_fee_is_null_summed_per_currency():
    fees = [{"cost": 0.0005, "currency": "BTC"}, {"cost": 0.0001, "currency": "BTC", "rate": 0.001}]
    [fill] = translate(line(trade(fee=None, fees=fees)), INSTRUMENTS).facts
    assert (fill.event.fee, fill.event.fee_asset) == (D("0.0006"), "BTC")


def test_trade_without_a_type_does_not_describe_its_order():
    [fill] = translate(line(trade(type=None, takerOrMaker=None)), INSTRUMENTS).facts
    assert fill.ref == OrderRef(symbol="ETH/BTC", exchange_order_id=EID) and fill.event.liquidity is None


def test_wrapped_and_bare_forms_mean_the_same():
    for value in (order("canceled"), trade()):
        kind = "order" if "status" in value else "trade"
        assert translate(line({"type": kind, "data": value}), INSTRUMENTS) == translate(line(value), INSTRUMENTS)


def test_numbers_are_the_json_text_exactly():
    [fill] = translate(b'{"id": "t", "order": "o", "timestamp": 1, "symbol": "ETH/BTC", "side": "sell", '
                       b'"type": null, "price": 0.1, "amount": 0.30000000000000004, "fee": null}',
                       INSTRUMENTS).facts  # fmt: skip
    assert (fill.event.price, fill.event.quantity) == (D("0.1"), D("0.30000000000000004"))


# ------------------------------------------------------------------------------ balances and positions
BALANCE = {  # the manual's balance structure
    "info": {}, "timestamp": 1499280391811, "datetime": "2017-07-05T18:46:31.811Z",
    "BTC": {"free": 0.123, "used": 0.456, "total": 0.579},
    "USD": {"free": 123.0, "used": 456.0, "total": 579.0},
    "free": {"BTC": 0.123, "USD": 123.0}, "used": {"BTC": 0.456, "USD": 456.0}, "total": {"BTC": 0.579, "USD": 579.0},
}  # fmt: skip


def test_balance_reports_every_currency_in_total_used_as_locked():
    [report] = translate(line(BALANCE), INSTRUMENTS).facts
    assert isinstance(report, AccountFact) and report.symbols == ()
    event = report.event
    assert isinstance(event, ev.ExchangeBalancesReported) and event.ts_event == 1499280391811 * 1_000_000
    assert event.balances == (ev.ReportedBalance(asset_id="BTC", total=D("0.579"), locked=D("0.456")),
                              ev.ReportedBalance(asset_id="USD", total=D("579.0"), locked=D("456.0")))  # fmt: skip
    assert event.report_id.startswith("balance:1499280391811:")
    assert translate(line(BALANCE), INSTRUMENTS) == translate(line({"type": "balance", "data": BALANCE}),
                                                              INSTRUMENTS)  # fmt: skip


def test_balance_report_ids_tell_reports_apart():
    def report_id(value: dict[str, Any]) -> str:
        return translate(line(value), INSTRUMENTS).facts[0].event.report_id

    same = report_id(BALANCE)
    assert report_id(json.loads(json.dumps(BALANCE))) == same  # redelivered: records once
    assert report_id({**BALANCE, "timestamp": 1499280391812}) != same  # taken later
    assert report_id({**BALANCE, "total": {"BTC": 0.58, "USD": 579.0}}) != same  # says something else


def test_balance_without_its_time_takes_the_wrappers_or_is_untranslatable():
    undated = {**BALANCE, "timestamp": None, "datetime": None}
    with pytest.raises(Untranslatable, match="timestamp is missing: a balance report needs the time it was taken"):
        translate(line(undated), INSTRUMENTS)
    [report] = translate(line({"type": "balance", "timestamp": 1499280391000, "data": undated}), INSTRUMENTS).facts
    assert report.event.ts_event == 1499280391000 * 1_000_000


def test_balance_total_from_free_and_used_when_ccxt_leaves_it_null():
    partial = {"timestamp": 1, "free": {"ETH": 1.25}, "used": {"ETH": 0.5}, "total": {"ETH": None}}
    [report] = translate(line(partial), INSTRUMENTS).facts
    assert report.event.balances == (ev.ReportedBalance(asset_id="ETH", total=D("1.75"), locked=D("0.5")),)


def position(symbol: str, side: str | None, contracts: float, **fields: Any) -> dict[str, Any]:
    """The manual's position structure."""
    p = {
        "info": {}, "id": None, "symbol": symbol, "timestamp": 1607723554607, "datetime": "2020-12-11T21:52:34.607Z",
        "isolated": True, "hedged": False, "side": side, "contracts": contracts, "contractSize": 100,
        "entryPrice": 20000.0, "markPrice": 20050.0, "notional": 100000.0, "leverage": 100, "collateral": 5300.0,
        "initialMargin": 5000.0, "maintenanceMargin": 1000.0, "initialMarginPercentage": 0.05,
        "maintenanceMarginPercentage": 0.01, "unrealizedPnl": 300.0, "liquidationPrice": 19850.0,
        "marginMode": "isolated", "percentage": 6.0,
    }  # fmt: skip
    p.update(fields)
    return p


def test_positions_are_signed_short_negative():
    positions = [position("BTC/USD:BTC", "long", 5), position("BTC/USDT:USDT", "short", 12.0, entryPrice=60000.5,
                                                              timestamp=1607723554999)]  # fmt: skip
    [report] = translate(line(positions), INSTRUMENTS).facts
    assert report.symbols == ("BTC/USD:BTC", "BTC/USDT:USDT")
    event = report.event
    assert isinstance(event, ev.ExchangePositionsReported) and event.ts_event == 1607723554999 * 1_000_000
    assert event.positions == (
        ev.ReportedPosition(symbol_id="BTC/USD:BTC", quantity=D(5), entry_price=D("20000.0")),
        ev.ReportedPosition(symbol_id="BTC/USDT:USDT", quantity=D("-12.0"), entry_price=D("60000.5")),
    )  # fmt: skip
    assert event.report_id.startswith("positions:1607723554999:")
    assert translate(line({"type": "positions", "data": positions}), INSTRUMENTS) == translate(
        line(positions), INSTRUMENTS
    )


def test_a_single_position_and_hedge_mode_netting():
    [single] = translate(line(position("BTC/USD:BTC", "short", 3)), INSTRUMENTS).facts
    assert single.event.positions == (ev.ReportedPosition(symbol_id="BTC/USD:BTC", quantity=D(-3),
                                                          entry_price=D("20000.0")),)  # fmt: skip
    hedged = [position("BTC/USD:BTC", "long", 5, hedged=True), position("BTC/USD:BTC", "short", 3, hedged=True)]
    [net] = translate(line({"type": "positions", "data": hedged}), INSTRUMENTS).facts
    assert net.event.positions == (ev.ReportedPosition(symbol_id="BTC/USD:BTC", quantity=D(2)),)


def test_positions_without_times_take_the_wrappers():
    undated = [position("BTC/USD:BTC", "long", 5, timestamp=None)]
    with pytest.raises(Untranslatable, match="timestamp is missing: a positions report"):
        translate(line(undated), INSTRUMENTS)
    [report] = translate(line({"type": "positions", "data": undated, "timestamp": 1607723550000}), INSTRUMENTS).facts
    assert report.event.ts_event == 1607723550000 * 1_000_000


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(("raw", "reason"), [
    (b'{"id": "t", "order": ', "invalid JSON: "),
    (b'{"id": "t\xfe", "symbol": "ETH/BTC"}', "invalid JSON: 'utf-8' codec can't decode byte 0xfe"),
    (line(trade(amount="one and a half")), "amount is not a decimal number: 'one and a half'"),
    (line(trade(amount=True)), "amount is not a decimal number: True"),
    (line(order("open", amount="lots")), "amount is not a decimal number: 'lots'"),
    (line(trade(amount=0)), "amount must be > 0, got 0"),
    (line(trade(symbol="DOGE/USDT")), "unknown symbol 'DOGE/USDT'"),
    (line(order("open", symbol="DOGE/USDT")), "unknown symbol 'DOGE/USDT'"),
    (line([position("DOGE/USDT:USDT", "long", 1)]), "unknown symbol 'DOGE/USDT:USDT'"),
    (line({"symbol": "ETH/BTC", "bids": [], "asks": []}), "unknown shape: not a ccxt order, trade, balance or "
                                                          "positions (keys: asks, bids, symbol)"),
    (line({}), "an empty object: not a ccxt order, trade, balance or positions"),
    (line([]), "an empty list"),
    (line([trade()]), "a list that is not of ccxt positions"),
    (line("hello"), "not a JSON object: 'hello'"),
    (line(trade(timestamp=None)), "timestamp is missing: a fact needs the time it happened"),
    (line(order("open", timestamp=None)), "timestamp is missing"),
    (line(trade(timestamp=1502962946216.5)), "timestamp is not integer milliseconds"),
    (line({k: v for k, v in trade().items() if k != "timestamp"}), "timestamp is missing"),
    (line(order("pending")), "status 'pending' is not a ccxt order status (open, closed, canceled, expired, rejected)"),
    (line(order(None)), "status is missing"),
    (line(order("open", id=None)), "id is missing"),
    (line(trade(order=None)), "order is missing: a trade must name the order it fills"),
    (line(trade(id=None)), "id is missing"),
    (line(trade(side="long")), "side is not 'buy' or 'sell': 'long'"),
    (line(trade(takerOrMaker="both")), "takerOrMaker is not 'taker' or 'maker': 'both'"),
    (line(trade(fee={"cost": 0.1, "currency": None})), "fee.currency is missing or not a string for a fee of 0.1"),
    (line(trade(fee=None, fees=[{"cost": 0.1, "currency": "BNB"}, {"cost": 0.2, "currency": "ETH"}])),
     "fees are in several currencies (BNB, ETH): the ledger keeps one fee per fill"),
    (line(trade(amount=1e30)), "amount is too large"),
    (line(order("closed", trades=[trade(id=None)])), "trades[0].id is missing"),
    (line(order("closed", trades=[trade(order="another")])), "trades[0].order is 'another', not the order"),
    (line({**order("open"), "contracts": 1}), "ambiguous: the object looks like a ccxt order and a positions"),
    (line({**BALANCE, "total": {"BTC": None}, "free": {}}),
     "total['BTC'] is missing, and free and used do not give it"),
    (line([position("BTC/USD:BTC", None, 5)]), "positions[0].side is not 'long' or 'short': None"),
    (line([position("BTC/USD:BTC", "long", None)]), "positions[0].contracts is missing"),
    (line({"type": "positions", "data": "none"}), "positions is not a list or a position: 'none'"),
    (line({"type": "order", "data": [order("open")]}), "data is not an object"),
])  # fmt: skip
def test_bad_input_is_untranslatable_with_a_one_line_reason(raw, reason):
    with pytest.raises(Untranslatable) as error:
        translate(raw, INSTRUMENTS)
    message = str(error.value)
    assert message.startswith(reason) and "\n" not in message, message
