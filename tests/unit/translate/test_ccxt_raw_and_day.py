"""Raw exchange payloads through ccxt's own parsers (ccxt is required here), and the simulated ccxt day
recorded end to end."""

from __future__ import annotations

import sys
import time
from typing import Any

import msgspec
import pytest

from adapters.translate import ccxt_sim, ccxt_unified
from adapters.translate.base import OrderFact, OrderRef, Untranslatable
from adapters.translate.ccxt_unified import load_markets, translate
from kernel import events as ev
from kernel.ledger import Ledger
from kernel.schema.order_spec import OrderSide, OrderType
from kernel.streams import external_intent_id
from projections import Books
from tests.unit.translate.ccxt_support import (
    D,
    fact,
    line,
    market,
    terms,
)

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
        "price": D("0.10"),
        "amount": D("6.0"),
    }  # "222" is string-mode nonsense: the float parse decides


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
                event = msgspec.structs.replace(
                    f.event, account_id="acc", intent_id=external_intent_id(f.ref.exchange_order_id)
                )
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
