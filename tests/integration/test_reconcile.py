"""Reconciliation against exchange reports: each report compared with the ledger at its place in the
log; only the latest report of an asset or position counts; agreement gives an empty list."""

from __future__ import annotations

from decimal import Decimal

from adapters.ingest.reconcile import reconcile

from .helpers import ACCOUNT, live_order, open_spot_account

PERP = "BTCUSDT-PERP"


def spot_day(ledger) -> None:
    open_spot_account(ledger)
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1000", reason="DEPOSIT", reference="d1", ts_event=3)
    live_order(ledger, "o1", quantity="2", price="100")
    ledger.record_fill(ACCOUNT, "o1", trade_id="t1", quantity="2", price="100", fee="0.2", fee_asset="USDT",
                       ts_event=20)  # fmt: skip


def test_balances_that_agree_give_an_empty_list(store_url, open_ledger):
    ledger = open_ledger(store_url)
    spot_day(ledger)
    ledger.report_exchange_balances(ACCOUNT, balances=[{"asset_id": "USDT", "total": "799.8"},
                                                       {"asset_id": "BTC", "total": "2"},
                                                       {"asset_id": "BNB", "total": "0"}], ts_event=30)  # fmt: skip
    assert reconcile(ledger) == []


def test_a_difference_names_both_figures_and_the_report(store_url, open_ledger):
    ledger = open_ledger(store_url)
    spot_day(ledger)
    ledger.report_exchange_balances(ACCOUNT, balances=[{"asset_id": "USDT", "total": "800"}], ts_event=30)
    (d,) = reconcile(ledger)
    assert (d.account_id, d.kind, d.key, d.ledger, d.exchange, d.difference, d.reported_at) == (
        ACCOUNT, "balance", "USDT", Decimal("799.8"), Decimal("800"), Decimal("-0.2"), 30)  # fmt: skip
    assert d.position == ledger.head()
    assert d.as_json()["difference"] == "-0.2"
    assert reconcile(ledger, "another-account") == []


def test_only_the_latest_report_counts_and_is_compared_where_it_stands(store_url, open_ledger):
    ledger = open_ledger(store_url)
    spot_day(ledger)
    ledger.report_exchange_balances(ACCOUNT, balances=[{"asset_id": "BTC", "total": "5"}], ts_event=30)
    ledger.report_exchange_balances(ACCOUNT, balances=[{"asset_id": "BTC", "total": "2"}], ts_event=31)
    live_order(ledger, "o2", quantity="1", price="100")
    ledger.record_fill(ACCOUNT, "o2", trade_id="t2", quantity="1", price="100", ts_event=40)
    assert reconcile(ledger) == [], "the fill after the report is not the report's business"


def test_positions_are_reconciled_by_signed_quantity(store_url, open_ledger):
    ledger = open_ledger(store_url)
    ledger.open_account(ACCOUNT, exchange="binance-futures", account_type="FUTURES", base_currency="USDT", ts_event=1)
    ledger.register_asset(ACCOUNT, {"asset_id": PERP, "symbol": PERP, "asset_type": "PERPETUAL", "name": "perp",
                                    "contract_size": "1", "settlement_asset": "USDT"},
                          ts_event=2, base_asset="BTC", quote_asset="USDT")  # fmt: skip
    ledger.place_intent(ACCOUNT, {"intent_id": "s1", "created_at": 5, "updated_at": 5, "order": {
        "symbol": PERP, "side": "SELL", "order_type": "LIMIT", "quantity": "3", "price": "100"}})  # fmt: skip
    ledger.record_fill(ACCOUNT, "s1", trade_id="t1", quantity="3", price="100", ts_event=6)
    ledger.report_exchange_positions(ACCOUNT, positions=[{"symbol_id": PERP, "quantity": "-3"}], ts_event=7)
    assert reconcile(ledger) == []
    ledger.report_exchange_positions(ACCOUNT, positions=[{"symbol_id": PERP, "quantity": "-2"}], ts_event=8)
    (d,) = reconcile(ledger, ACCOUNT)
    assert (d.kind, d.key, d.ledger, d.exchange, d.difference) == ("position", PERP, -3, -2, -1)


def test_nothing_reported_nothing_to_reconcile(memory_url, open_ledger):
    ledger = open_ledger(memory_url)
    spot_day(ledger)
    assert reconcile(ledger) == []


def test_a_fill_logged_after_a_report_that_counted_it_is_no_difference(store_url, open_ledger):
    """E.g. a fill that waited in quarantine until its instrument was loaded: the exchange's report (logged
    before it) already counted it; the ledger now agrees."""
    ledger = open_ledger(store_url)
    spot_day(ledger)
    ledger.report_exchange_balances(ACCOUNT, balances=[{"asset_id": "BTC", "total": "3"}], ts_event=30)
    (d,) = reconcile(ledger)
    assert (d.ledger, d.exchange, d.ledger_now) == (2, 3, 2)
    live_order(ledger, "o2", quantity="1", price="100")
    ledger.record_fill(ACCOUNT, "o2", trade_id="t2", quantity="1", price="100", ts_event=25)
    assert reconcile(ledger) == []
