"""Balances and `locked`, hand-computed: spot fills, fees in any asset, cash movements, what open orders
reserve (spot BUY/SELL, derivatives' initial margin), and when a balance row was last touched."""

from __future__ import annotations

import pytest
from projection_desk import D, perp_desk, spot_desk

from projections import Books


def balance(books: Books, asset: str, account: str = "acc"):
    found = books.balance(account, asset)
    assert found is not None, f"no {asset} balance"
    return found


def totals(books: Books) -> dict[str, object]:
    return {b.asset_id: b.total for b in books.balances("acc")}


# ------------------------------------------------------------------ spot fills and fees
def test_spot_buy_with_a_quote_fee():
    desk = spot_desk()
    desk.adjust("50000")
    desk.trade("BUY", "0.5", "60000", fee="30")
    assert totals(desk.books()) == {"BTC": D("0.5"), "USDT": D("19970")}  # 50000 − 30000 − 30


def test_spot_sell_with_a_bnb_fee():
    desk = spot_desk()
    desk.adjust("1", asset="BTC")
    desk.adjust("2", asset="BNB")
    desk.trade("SELL", "0.2", "61000", fee="0.01", fee_asset="BNB")
    assert totals(desk.books()) == {"BNB": D("1.99"), "BTC": D("0.8"), "USDT": D("12200")}


def test_a_fee_in_the_base_asset_and_a_rebate():
    desk = spot_desk()
    desk.adjust("1000")
    desk.trade("BUY", "1", "100", fee="0.001", fee_asset="BTC")
    desk.trade("BUY", "1", "100", fee="-0.05")
    assert totals(desk.books()) == {"BTC": D("1.999"), "USDT": D("800.05")}


@pytest.mark.parametrize(("reason", "amount", "expected"), [
    ("DEPOSIT", "100", D("1100")), ("WITHDRAWAL", "-250.5", D("749.5")), ("FUNDING", "-1.25", D("998.75")),
    ("FUNDING", "0.75", D("1000.75")), ("INTEREST", "0.01", D("1000.01")), ("CORRECTION", "-0.01", D("999.99")),
])  # fmt: skip
def test_balance_adjustments_move_cash_by_their_sign(reason, amount, expected):
    desk = perp_desk()
    desk.adjust("1000")
    desk.adjust(amount, reason=reason)
    b = balance(desk.books(), "USDT")
    assert (b.total, b.available, b.locked) == (expected, expected, 0)
    assert b.updated_at == desk.ts


def test_a_withdrawal_beyond_the_balance_shows_a_negative_total():
    desk = perp_desk()
    desk.adjust("-5", reason="WITHDRAWAL")
    assert balance(desk.books(), "USDT").total == -5


# ------------------------------------------------------------------ derivatives settle PnL and fees
def test_derivative_pnl_and_fees_settle_into_the_settlement_asset():
    desk = perp_desk()
    desk.adjust("1000")
    desk.trade("BUY", "1", "100", fee="0.04")
    desk.trade("SELL", "1", "150", fee="0.06")
    books = desk.books()
    assert totals(books) == {"USDT": D("1049.9")}  # no BTC moves: a perpetual exchanges no assets


def test_settlement_asset_falls_back_to_the_quote_asset():
    desk = perp_desk().instrument(symbol="ETHUSD", quote="USD", base="ETH")  # no settlement_asset given
    desk.trade("BUY", "1", "100", symbol="ETHUSD")
    desk.trade("SELL", "1", "90", fee="1", fee_asset="USD", symbol="ETHUSD")
    assert totals(desk.books()) == {"USD": D("-11")}


# ------------------------------------------------------------------ locked: spot
def test_an_open_spot_buy_locks_quote_until_it_fills_or_is_canceled():
    desk = spot_desk()
    desk.adjust("1000")
    intent = desk.order("BUY", "2", "100", submit=False)
    assert balance(desk.books(), "USDT").locked == 0  # an intent not yet sent reserves nothing
    desk.ledger.start_submission("acc", intent, client_order_id="c", ts_event=desk.tick())
    b = balance(desk.books(), "USDT")
    assert (b.total, b.locked, b.available) == (1000, 200, 800)
    desk.fill(intent, "0.5", "100")
    b = balance(desk.books(), "USDT")
    assert (b.total, b.locked, b.available) == (950, 150, 800)
    desk.cancel(intent)
    b = balance(desk.books(), "USDT")
    assert (b.total, b.locked, b.available) == (950, 0, 950)


def test_an_open_spot_sell_locks_base_whatever_its_type():
    desk = spot_desk()
    desk.adjust("3", asset="BTC")
    desk.order("SELL", "1.5", "100")
    desk.order("SELL", "0.5", order_type="STOP", stop_price="90")
    b = balance(desk.books(), "BTC")
    assert (b.locked, b.available) == (2, 1)
    assert desk.books().locked("acc") == {"BTC": 2}


def test_an_amend_moves_what_is_locked_and_overcommitment_shows():
    desk = spot_desk()
    intent = desk.order("BUY", "1", "100")
    books = desk.books()
    assert (balance(books, "USDT").total, balance(books, "USDT").available) == (0, -100)  # a row for the lock
    desk.ledger.record_amend_accepted("acc", intent, quantity="3", price="90", ts_event=desk.tick())
    assert balance(desk.books(), "USDT").locked == 270


def test_market_buys_reserve_nothing_stop_buys_reserve_at_the_stop():
    desk = spot_desk()
    desk.adjust("1000")
    desk.order("BUY", "1")
    assert balance(desk.books(), "USDT").locked == 0
    desk.order("BUY", "2", order_type="STOP", stop_price="110")
    assert balance(desk.books(), "USDT").locked == 220


def test_terminal_orders_leave_the_open_index():
    desk = spot_desk()
    desk.adjust("1000")
    open_one = desk.order("BUY", "1", "100")
    filled = desk.trade("BUY", "1", "100")
    rejected = desk.order("BUY", "1", "100", accept=False)
    desk.ledger.record_rejected("acc", rejected, reason="no", ts_event=desk.tick())
    books = desk.books()
    assert books.order_keys("acc", open_only=True) == [("acc", open_one)]
    assert {filled, rejected} < {k[1] for k in books.order_keys("acc")}
    assert balance(books, "USDT").locked == 100


# ------------------------------------------------------------------ locked: derivatives
@pytest.mark.parametrize(("terms", "leverage", "expected"), [
    ({"initial_margin_rate": "0.05"}, "5", D("10")),  # 2 × 100 × 0.05
    ({}, "5", D("40")),                               # 2 × 100 ÷ 5
    ({}, None, D("200")),                             # no rate, no leverage: the notional
    ({"contract_size": "10", "initial_margin_rate": "0.1"}, None, D("200")),
])  # fmt: skip
def test_an_open_derivative_order_locks_its_initial_margin(terms, leverage, expected):
    desk = perp_desk(**terms)
    if leverage:
        desk.leverage(leverage)
    desk.order("BUY", "2", "100")
    desk.order("SELL", "1")  # MARKET: nothing
    desk.order("SELL", "1", "100", reduce_only=True)  # reduce-only: nothing
    b = balance(desk.books(), "USDT")
    assert (b.locked, b.available) == (expected, -expected)


def test_leverage_changes_what_open_orders_lock_and_touch_the_balance():
    desk = perp_desk()
    desk.adjust("1000")
    desk.leverage("5")
    desk.order("BUY", "2", "100")
    assert balance(desk.books(), "USDT").locked == 40
    desk.leverage("20")
    b = balance(desk.books(), "USDT")
    assert (b.locked, b.updated_at) == (10, desk.ts)
    changes = desk.books().take_changes()
    assert ("acc", "USDT") in changes.balances


def test_inverse_orders_lock_margin_in_the_coin():
    from projection_desk import Desk

    desk = Desk().open(base="BTC").instrument(symbol="BTCUSD", asset_type="INVERSE_PERPETUAL", quote="USD",
                                              contract_size="100", settlement_asset="BTC",
                                              initial_margin_rate="0.1")  # fmt: skip
    desk.order("BUY", "10", "20000", symbol="BTCUSD")
    assert balance(desk.books(), "BTC").locked == D("0.005")  # 10 × 100 ÷ 20000 × 0.1


def test_locked_is_what_the_reservation_index_says():
    desk = spot_desk()
    desk.adjust("1000")
    for price in ("10", "20", "30"):
        desk.order("BUY", "1", price)
    desk.order("SELL", "0.1", "100")
    books = desk.books()
    indexed: dict[str, object] = {}
    for asset, amount in books.reserved.values():
        indexed[asset] = indexed.get(asset, 0) + amount
    assert books.locked("acc") == indexed == {"USDT": 60, "BTC": D("0.1")}
