"""The ccxt format: ccxt's unified structures (written field by field from ccxt's manual, as `json.dumps`
writes what ccxt returns) to ledger facts; ccxt markets files to instruments; raw exchange payloads
through ccxt's own parsers (ccxt is required here); and the simulated ccxt day, recorded end to end."""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.translate import ccxt_sim, ccxt_unified, get_format
from adapters.translate.base import AccountFact, OrderFact, OrderRef, Translation, Untranslatable
from adapters.translate.ccxt_unified import load_markets, translate
from kernel import events as ev
from kernel.ledger import Ledger
from kernel.schema.order_spec import AssetType, OrderSide, OrderType, TimeInForce
from kernel.streams import external_intent_id
from projections import Books

D = Decimal
T0 = 1502962946216  # ms, the manual's example times
T1 = 1502962956216


def line(value: Any) -> bytes:
    return json.dumps(value).encode()


# ------------------------------------------------------------------------------ markets (ccxt's structure)
def market(symbol: str, market_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    base, _, rest = symbol.partition("/")
    quote, _, settle = rest.partition(":")
    settle = settle.split("-")[0] or None
    m = {
        "id": market_id, "symbol": symbol, "base": base, "quote": quote, "settle": settle,
        "baseId": base.lower(), "quoteId": quote.lower(), "settleId": settle.lower() if settle else None,
        "active": True, "type": kind, "spot": kind == "spot", "margin": False, "swap": kind == "swap",
        "future": kind == "future", "option": kind == "option", "contract": kind != "spot",
        "contractSize": None, "linear": None, "inverse": None, "expiry": None, "expiryDatetime": None,
        "strike": None, "optionType": None, "taker": 0.001, "maker": 0.001, "percentage": True,
        "tierBased": False, "precision": {"amount": 0.0001, "price": 0.01}, "limits": {}, "info": {},
    }  # fmt: skip
    m.update(fields)
    return m


MARKETS = {
    "ETH/BTC": market("ETH/BTC", "ETHBTC", "spot", precision={"amount": 0.0001, "price": 0.000001}),
    "BTC/USDT": market("BTC/USDT", "BTCUSDT", "spot", precision={"amount": 0.00001, "price": 0.01}),
    "BTC/USDT:USDT": market("BTC/USDT:USDT", "BTCUSDT_PERP", "swap", linear=True, inverse=False, contractSize=0.001,
                            precision={"amount": 1.0, "price": 0.1}),
    "BTC/USD:BTC": market("BTC/USD:BTC", "BTCUSD_PERP", "swap", linear=False, inverse=True, contractSize=100,
                          precision={"amount": 1.0, "price": 0.5}),
    "BTC/USDT:USDT-260327": market("BTC/USDT:USDT-260327", "BTCUSDT_260327", "future", linear=True, inverse=False,
                                   contractSize=1, expiry=1774598400000, precision={"amount": 0.001, "price": 0.1}),
}  # fmt: skip
SPECS = load_markets(line(MARKETS))
INSTRUMENTS = {spec.symbol: spec for spec in SPECS}


def test_markets_spot_swap_inverse_future_in_tick_size_mode():
    spot, _, perp, inverse, future = SPECS
    assert spot == ev.InstrumentSpec(
        asset_id="ETH/BTC", symbol="ETH/BTC", asset_type=AssetType.SPOT, name="ETH/BTC", base_asset="ETH",
        quote_asset="BTC", tick_size=D("0.000001"), lot_size=D("0.0001"),
        metadata={"id": "ETHBTC", "baseId": "eth", "quoteId": "btc"},
    )  # fmt: skip
    assert (perp.asset_type, perp.settlement_asset, perp.contract_size, perp.tick_size, perp.lot_size) == (
        AssetType.PERPETUAL, "USDT", D("0.001"), D("0.1"), D("1.0"))  # fmt: skip
    assert perp.metadata == {"id": "BTCUSDT_PERP", "baseId": "btc", "quoteId": "usdt", "settleId": "usdt"}
    assert (inverse.asset_type, inverse.settlement_asset, inverse.contract_size, inverse.tick_size) == (
        AssetType.INVERSE_PERPETUAL, "BTC", D(100), D("0.5"))  # fmt: skip
    assert (future.asset_type, future.expiry_timestamp, future.contract_size) == (
        AssetType.FUTURE, 1774598400000 * 1_000_000, D(1))  # fmt: skip


def test_markets_as_a_list_inverse_future_and_option():
    markets = [
        market("BTC/USD:BTC-260327", "BTCUSD_260327", "future", linear=False, inverse=True, contractSize=100,
               expiry=1774598400000),
        market("BTC/USD:BTC-260327-60000-C", "BTC-27MAR26-60000-C", "option", linear=False, inverse=True,
               contractSize=1, expiry=1774598400000, strike=60000, optionType="call"),
    ]  # fmt: skip
    future, option = load_markets(line(markets))
    assert future.asset_type is AssetType.INVERSE_FUTURE and future.expiry_timestamp == 1774598400000 * 1_000_000
    assert option.asset_type is AssetType.OPTION
    assert option.metadata == {"id": "BTC-27MAR26-60000-C", "baseId": "btc", "quoteId": "usd", "settleId": "btc",
                               "optionType": "call", "strike": "60000"}  # fmt: skip


def test_markets_linearity_from_the_settlement_currency_when_not_given():
    swap = market("ETH/USD:ETH", "ETHUSD", "swap", contractSize=10)  # linear and inverse are null
    [spec] = load_markets(line([swap]))
    assert spec.asset_type is AssetType.INVERSE_PERPETUAL


def test_markets_in_decimal_places_mode_whole_numbers_count_places():
    markets = {"BTC/USD": market("BTC/USD", "btcusd", "spot", precision={"amount": 8, "price": 2, "cost": 8}),
               "ETH/USD": market("ETH/USD", "ethusd", "spot", precision={"amount": 4, "price": 0})}  # fmt: skip
    btc, eth = load_markets(line(markets))
    assert (btc.tick_size, btc.lot_size) == (D("0.01"), D("1E-8"))
    assert (eth.tick_size, eth.lot_size) == (D(1), D("0.0001"))


def test_markets_a_whole_tick_among_fractional_ones_is_a_tick():
    markets = [market("BTC/USDT:USDT", "BTCUSDT", "swap", linear=True, precision={"amount": 0.001, "price": 1}),
               market("ETH/USDT", "ETHUSDT", "spot", precision={"amount": 0.0001, "price": 0.01})]  # fmt: skip
    btc, _ = load_markets(line(markets))
    assert (btc.tick_size, btc.lot_size) == (D(1), D("0.001"))


def test_markets_file_may_say_its_precision_mode():
    only_whole = [market("BTC/USDT:USDT", "BTCUSDT", "swap", linear=True, precision={"amount": 1, "price": 10})]
    [guessed] = load_markets(line(only_whole))
    assert guessed.tick_size == D("1E-10")  # read as 10 decimal places...
    [told] = load_markets(line({"precisionMode": 4, "markets": only_whole}))
    assert (told.tick_size, told.lot_size) == (D(10), D(1))  # ...unless the file says TICK_SIZE
    [by_name] = load_markets(line({"precisionMode": "DECIMAL_PLACES", "markets": only_whole}))
    assert by_name.tick_size == D("1E-10")
    [digits] = load_markets(line({"precisionMode": 3, "markets": only_whole}))
    assert (digits.tick_size, digits.lot_size) == (None, None)


@pytest.mark.parametrize(("data", "reason"), [
    (b"{not json", "not a ccxt markets file: invalid JSON"),
    (b'{"BTC/USDT": "\xff"}', "not a ccxt markets file: invalid JSON: 'utf-8' codec can't decode byte 0xff"),
    (b'"BTC/USDT"', "not a ccxt markets file: expected an object of symbol -> market, or a list of markets"),
    (b"[]", "not a ccxt markets file: it lists no market"),
    (line({"BTC/USDT": [MARKETS["BTC/USDT"]]}), "market 'BTC/USDT' is not an object"),
    (line({"BTC/USDT": MARKETS["ETH/BTC"]}), "market 'BTC/USDT' names another symbol: 'ETH/BTC'"),
    (line([{**MARKETS["ETH/BTC"], "id": None}]), "market 'ETH/BTC' has no id"),
    (line([{**MARKETS["ETH/BTC"], "symbol": None}]), "a market has no symbol"),
    (line([{**MARKETS["ETH/BTC"], "type": "index"}]), "market 'ETH/BTC' type 'index' is not spot, margin, swap"),
    (line([{**MARKETS["ETH/BTC"], "precision": {"amount": "a lot", "price": 0.01}}]),
     "market 'ETH/BTC' precision.amount is not a number: 'a lot'"),
    (line([{**MARKETS["ETH/BTC"], "precision": {"amount": 0.01, "price": 0}}]),
     "market 'ETH/BTC' precision.price must be a tick > 0, got 0"),
    (line([MARKETS["ETH/BTC"], MARKETS["ETH/BTC"]]), "market 'ETH/BTC' is listed twice"),
    (line([{**MARKETS["BTC/USDT:USDT"], "expiry": "soon"}]), "market 'BTC/USDT:USDT' expiry is not integer ms"),
    (line({"precisionMode": 7, "markets": [MARKETS["ETH/BTC"]]}), "precisionMode 7 is not TICK_SIZE (4)"),
])  # fmt: skip
def test_a_bad_markets_file_says_why_in_one_line(data, reason):
    with pytest.raises(ValueError) as error:
        load_markets(data)
    message = str(error.value)
    assert message.startswith(reason.replace(" ms", " milliseconds")) and "\n" not in message


def test_the_format_is_registered():
    fmt = get_format("ccxt")
    assert fmt is ccxt_unified.FORMAT
    assert (fmt.name, fmt.exchange, fmt.account_type, fmt.load_instruments) == (
        "ccxt", "ccxt", ev.AccountType.SPOT, load_markets)  # fmt: skip


# ------------------------------------------------------------------------------ unified structures
def fact(cls: type[ev.OrderEvent], ts_ms: int, **fields: Any) -> ev.OrderEvent:
    return cls(account_id="", intent_id="", ts_event=ts_ms * 1_000_000, ts_recorded=0, **fields)


def order(status: str | None, **fields: Any) -> dict[str, Any]:
    """The manual's order structure."""
    o = {
        "id": "12345-67890:09876/54321", "clientOrderId": "abcdef-ghijklmnop-qrstuvwxyz",
        "datetime": "2017-08-17T12:42:26.216Z", "timestamp": T0, "lastTradeTimestamp": None,
        "lastUpdateTimestamp": None, "status": status, "symbol": "ETH/BTC", "type": "limit", "timeInForce": "GTC",
        "side": "buy", "price": 0.06917684, "average": None, "amount": 1.5, "filled": 0.0, "remaining": 1.5,
        "cost": 0.0, "trades": [], "fee": None, "fees": [], "reduceOnly": None, "postOnly": False,
        "stopPrice": None, "triggerPrice": None, "takeProfitPrice": None, "stopLossPrice": None,
        "info": {"orderId": 54321, "status": str(status).upper()},
    }  # fmt: skip
    o.update(fields)
    return o


def trade(**fields: Any) -> dict[str, Any]:
    """The manual's trade structure."""
    t = {
        "info": {"id": 1}, "id": "12345-67890:09876/54321", "timestamp": T0, "datetime": "2017-08-17T12:42:26.216Z",
        "symbol": "ETH/BTC", "order": "12345-67890:09876/54321", "type": "limit", "side": "buy",
        "takerOrMaker": "taker", "price": 0.06917684, "amount": 1.5, "cost": 0.10376526,
        "fee": {"cost": 0.0015, "currency": "ETH", "rate": 0.002}, "fees": [{"cost": 0.0015, "currency": "ETH"}],
    }  # fmt: skip
    t.update(fields)
    return t


EID = "12345-67890:09876/54321"
SPEC = ev.OrderSpec(symbol="ETH/BTC", side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("1.5"),
                    price=D("0.06917684"))  # fmt: skip
REF = OrderRef(symbol="ETH/BTC", client_order_id="abcdef-ghijklmnop-qrstuvwxyz", exchange_order_id=EID, order=SPEC)
ACCEPTED = OrderFact(REF, fact(ev.OrderAccepted, T0, exchange_order_id=EID))


def terms(ref: OrderRef, ts_ms: int) -> OrderFact:
    """The order's terms as a snapshot updated at `ts_ms` shows them: an amend if they changed."""
    assert ref.order is not None
    return OrderFact(ref, fact(ev.AmendAccepted, ts_ms, quantity=ref.order.quantity, price=ref.order.price,
                               exec_id=f"{ref.exchange_order_id}:AMENDED@{ts_ms}"), if_changed=True)  # fmt: skip


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
        OrderFact(ref, fact(ev.OrderAccepted, T0, exchange_order_id=EID)), OrderFact(ref, fact(ev.OrderExpired, T0)))


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
    assert translate(line({"type": "positions", "data": positions}), INSTRUMENTS) == translate(line(positions),
                                                                                              INSTRUMENTS)


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


# ------------------------------------------------------------------------------ raw payloads (needs ccxt)
BINANCE_MARKETS = [
    market("LTC/BTC", "LTCBTC", "spot", baseId="LTC", quoteId="BTC", precision={"amount": 0.001, "price": 1e-6}),
    market("BNB/BTC", "BNBBTC", "spot", baseId="BNB", quoteId="BTC", precision={"amount": 0.01, "price": 1e-7}),
    market("BTC/USDT", "BTCUSDT", "spot", baseId="BTC", quoteId="USDT", precision={"amount": 1e-5, "price": 0.01}),
]  # fmt: skip
BINANCE = {spec.symbol: spec for spec in load_markets(line(BINANCE_MARKETS))}


def raw(kind: str, payload: Any, exchange: str = "binance", **fields: Any) -> bytes:
    return line({"exchange": exchange, "type": kind, "raw": payload, **fields})


def test_raw_binance_order_through_ccxts_parser():
    query_order = {  # GET /api/v3/order, Binance's documented response
        "symbol": "LTCBTC", "orderId": 1, "orderListId": -1, "clientOrderId": "myOrder1", "price": "0.1",
        "origQty": "1.0", "executedQty": "0.0", "cummulativeQuoteQty": "0.0", "status": "NEW", "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "stopPrice": "0.0", "icebergQty": "0.0", "time": 1499827319559,
        "updateTime": 1499827319559, "isWorking": True, "workingTime": 1499827319559, "origQuoteOrderQty": "0.000000",
        "selfTradePreventionMode": "NONE",
    }  # fmt: skip
    spec = ev.OrderSpec(symbol="LTC/BTC", side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("1.0"),
                        price=D("0.1"))  # fmt: skip
    ref = OrderRef(symbol="LTC/BTC", client_order_id="myOrder1", exchange_order_id="1", order=spec)
    assert translate(raw("order", query_order), BINANCE).facts == (
        OrderFact(ref, fact(ev.OrderAccepted, 1499827319559, exchange_order_id="1")),
        terms(ref, 1499827319559),  # ccxt's lastUpdateTimestamp is Binance's updateTime
    )  # fmt: skip


def test_raw_binance_filled_order_with_its_fills():
    new_order_full = {  # POST /api/v3/order, newOrderRespType FULL, Binance's documented response
        "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
        "transactTime": 1507725176595, "price": "0.00000000", "origQty": "10.00000000", "executedQty": "10.00000000",
        "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": "10.00000000", "status": "FILLED",
        "timeInForce": "GTC", "type": "MARKET", "side": "SELL", "workingTime": 1507725176595,
        "selfTradePreventionMode": "NONE",
        "fills": [
            {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000", "commissionAsset": "USDT",
             "tradeId": 56},
            {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000", "commissionAsset": "USDT",
             "tradeId": 57},
        ],
    }  # fmt: skip
    accepted, restated, first, second = translate(raw("order", new_order_full), BINANCE).facts
    assert restated == terms(accepted.ref, 1507725176595)
    assert accepted.ref.order == ev.OrderSpec(symbol="BTC/USDT", side=OrderSide.SELL, order_type=OrderType.MARKET,
                                              quantity=D("10.00000000"))  # fmt: skip
    assert accepted.event == fact(ev.OrderAccepted, 1507725176595, exchange_order_id="28")
    assert first.event == fact(ev.OrderFilled, 1507725176595, trade_id="56", quantity=D("1.00000000"),
                               price=D("4000.00000000"), fee=D("4.00000000"), fee_asset="USDT")  # fmt: skip
    assert (second.event.trade_id, second.event.fee) == ("57", D("19.99500000"))  # the exchange's text, exactly


def test_raw_binance_trade_through_ccxts_parser():
    my_trade = {  # GET /api/v3/myTrades, Binance's documented response
        "symbol": "BNBBTC", "id": 28457, "orderId": 100234, "orderListId": -1, "price": "4.00000100",
        "qty": "12.00000000", "quoteQty": "48.000012", "commission": "10.10000000", "commissionAsset": "BNB",
        "time": 1499865549590, "isBuyer": True, "isMaker": False, "isBestMatch": True,
    }  # fmt: skip
    assert translate(raw("trade", my_trade), BINANCE).facts == (OrderFact(
        OrderRef(symbol="BNB/BTC", exchange_order_id="100234"),
        fact(ev.OrderFilled, 1499865549590, trade_id="28457", quantity=D("12.00000000"), price=D("4.00000100"),
             fee=D("10.10000000"), fee_asset="BNB", liquidity=ev.Liquidity.TAKER),
    ),)  # fmt: skip


def test_raw_binance_balance_through_ccxts_parser():
    account = {  # GET /api/v3/account, Binance's documented response
        "makerCommission": 15, "takerCommission": 15, "buyerCommission": 0, "sellerCommission": 0,
        "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": 123456789, "accountType": "SPOT",
        "balances": [{"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"},
                     {"asset": "LTC", "free": "4763368.68006011", "locked": "0.00000000"}],
        "permissions": ["SPOT"], "uid": 354937868,
    }  # fmt: skip
    [report] = translate(raw("balance", account), BINANCE).facts
    assert report.event.ts_event == 123456789 * 1_000_000
    assert report.event.balances == (  # 16 significant digits: a float would not keep them all, the text does
        ev.ReportedBalance(asset_id="BTC", total=D("4723846.89208129"), locked=D(0)),
        ev.ReportedBalance(asset_id="LTC", total=D("4763368.68006011"), locked=D(0)),
    )  # fmt: skip


def test_raw_numbers_keep_the_exchanges_text_beyond_float_precision():
    my_trade = {"symbol": "BNBBTC", "id": 1, "orderId": 2, "price": "0.123456789012345678", "qty": "1",
                "commission": "0", "commissionAsset": "BNB", "time": 1, "isBuyer": False, "isMaker": True}  # fmt: skip
    [fill] = translate(raw("trade", my_trade), BINANCE).facts
    assert fill.event.price == D("0.123456789012345678") and fill.event.liquidity is ev.Liquidity.MAKER


def test_exact_merge_takes_the_float_where_string_mode_disagrees():
    assert ccxt_unified._exact({"price": "0.10", "amount": "2" * 3, "info": {}}, {"price": 0.1, "amount": 6.0}) == {
        "price": D("0.10"), "amount": D("6.0")}  # "222" is string-mode nonsense: the float parse decides


@pytest.mark.parametrize(("value", "reason"), [
    (raw("trade", {"symbol": "DOGEBTC", "id": 1, "orderId": 2, "price": "1", "qty": "1", "time": 1}),
     "unknown symbol 'DOGEBTC'"),
    (raw("order", {}, exchange="nosuchexchange"), "unknown ccxt exchange 'nosuchexchange'"),
    (raw("positions", {}), "type 'positions' is not a raw kind ccxt parses (order, trade, balance)"),
    (raw("order", "text"), "raw is not a JSON object: 'text'"),
    (raw("order", {"orderId": 1}, symbol="DOGE/BTC"), "unknown symbol 'DOGE/BTC'"),
])  # fmt: skip
def test_bad_raw_payloads_are_untranslatable(value, reason):
    with pytest.raises(Untranslatable) as error:
        translate(value, BINANCE)
    assert str(error.value).startswith(reason), str(error.value)


def test_raw_payloads_without_the_ccxt_extra_say_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ccxt", None)  # import ccxt now raises ImportError
    with pytest.raises(Untranslatable) as error:
        translate(raw("trade", {"symbol": "BNBBTC"}), BINANCE)
    assert str(error.value) == "raw ccxt payloads need the ccxt extra: pip install 'exchange-ledger[ccxt]'"


# ------------------------------------------------------------------------------ the simulated day
def test_simulated_day_is_deterministic_and_has_every_status_and_duplicates():
    lines = list(ccxt_sim.simulate_ccxt_day(7, 200))
    assert lines == list(ccxt_sim.simulate_ccxt_day(7, 200)) and lines != list(ccxt_sim.simulate_ccxt_day(8, 200))
    expected = ccxt_sim.expect_ccxt_day(7, 200)
    assert len(lines) == expected.lines and len(set(lines)) < len(lines)  # duplicates
    assert set(expected.statuses.values()) == {"NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED", "REJECTED"}
    assert any(line.startswith(b'{"type":') for line in lines) and any(line.startswith(b'{"id":') for line in lines)


def test_simulated_day_recorded_through_the_ledger_gives_the_expected_books():
    specs = load_markets(ccxt_sim.markets_json())
    instruments = {spec.symbol: spec for spec in specs}
    ledger = Ledger.open("memory://", clock=iter(range(10**18, 10**19)).__next__)
    ledger.open_account("acc", exchange="ccxt", account_type="SPOT", base_currency="USDT", ts_event=1)
    for spec in specs:
        ledger.record_event(ev.AssetRegistered(account_id="acc", asset=spec, ts_event=1, ts_recorded=1))
    recorded = []
    for raw_line in ccxt_sim.simulate_ccxt_day(3, 150):
        for f in translate(raw_line, instruments).facts:  # what the ingest does, for external orders
            if isinstance(f, OrderFact):
                event = msgspec.structs.replace(f.event, account_id="acc",
                                                intent_id=external_intent_id(f.ref.exchange_order_id))
                recorded += ledger.record_exchange_fact(event, exchange_order_id=f.ref.exchange_order_id,
                                                        order=f.ref.order, if_changed=f.if_changed)  # fmt: skip
            else:
                recorded += ledger.record_event(msgspec.structs.replace(f.event, account_id="acc", ts_recorded=2))
    expected = ccxt_sim.expect_ccxt_day(3, 150)
    fills = [e for e in recorded if isinstance(e, ev.OrderFilled)]
    assert len(fills) == len({e.trade_id for e in fills}) == expected.trades  # duplicates recorded once
    for eid, status in expected.statuses.items():
        order_ = ledger.order("acc", external_intent_id(eid))
        assert (order_.status, order_.filled_quantity, order_.anomalies) == (
            status, expected.filled[eid], ["external_order"]), eid  # fmt: skip
    books = Books.of(event for _, event in ledger.read())
    computed = {b.asset_id: (b.total, b.locked) for b in books.balances("acc")}
    assert computed == expected.balances  # the exchange's report agrees with the ledger's books
    [report] = [e for e in recorded if isinstance(e, ev.ExchangeBalancesReported)]
    assert {b.asset_id: (b.total, b.locked) for b in report.balances} == expected.balances


def test_a_trade_line_translates_in_well_under_30_microseconds():
    trade_lines = [raw_line for raw_line in ccxt_sim.simulate_ccxt_day(1, 300) if b'"takerOrMaker"' in raw_line
                   and b'"status"' not in raw_line]  # fmt: skip
    instruments = {spec.symbol: spec for spec in load_markets(ccxt_sim.markets_json())}
    best = min(_seconds(trade_lines, instruments) for _ in range(5)) / len(trade_lines)
    assert best < 100e-6, f"{best * 1e6:.1f} µs per trade line"  # measured ~13 µs; loose for slow CI machines


def _seconds(lines: list[bytes], instruments: Any) -> float:
    start = time.perf_counter()
    for raw_line in lines:
        translate(raw_line, instruments)
    return time.perf_counter() - start
