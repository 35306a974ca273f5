"""Positions, one hand-computed example per rule of DESIGN "Projection semantics"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from projection_desk import D, Desk, perp_desk, spot_desk

from projections import Books


def position(books: Books, symbol: str = "BTCUSDT"):
    found = books.position("acc", symbol)
    assert found is not None
    return found


def account_total(books: Books) -> Decimal:
    state = books.account_state("acc")
    assert state is not None and state.total_realized_pnl is not None
    return state.total_realized_pnl


# ------------------------------------------------------------------ linear, long
def test_opening_long_sets_entry_and_charges_the_fee():
    desk = perp_desk()
    desk.trade("BUY", "2", "100", fee="0.2")
    p = position(desk.books())
    assert (p.asset.quantity, p.asset.entry_price, p.asset.realized_pnl, p.side) == (2, 100, D("-0.2"), "LONG")
    assert p.position_id == "acc:BTCUSDT" and p.asset.asset_id == "BTCUSDT-PERPETUAL"


def test_adding_moves_the_entry_quantity_weighted():
    desk = perp_desk()
    desk.trade("BUY", "2", "100", fee="0.2")
    desk.trade("BUY", "1", "130", fee="0.1")
    p = position(desk.books())
    assert p.asset.quantity == 3 and p.asset.entry_price == 110  # (2×100 + 1×130) ÷ 3
    assert p.asset.realized_pnl == D("-0.3")


def test_reducing_realizes_against_the_unchanged_entry():
    desk = perp_desk()
    desk.trade("BUY", "2", "100")
    desk.trade("BUY", "1", "130")
    desk.trade("SELL", "1", "120", fee="0.5")
    p = position(desk.books())
    assert p.asset.quantity == 2 and p.asset.entry_price == 110
    assert p.asset.realized_pnl == D("9.5")  # 1 × (120 − 110) − 0.5


def test_closing_keeps_a_flat_row_with_its_realized_pnl():
    desk = perp_desk()
    desk.trade("BUY", "2", "100", fee="0.2")
    desk.trade("SELL", "2", "90", fee="0.2")
    books = desk.books()
    p = position(books)
    assert (p.asset.quantity, p.side, p.asset.entry_price, p.asset.unrealized_pnl) == (0, None, None, 0)
    assert p.asset.realized_pnl == D("-20.4")  # 2 × (90 − 100) − 0.2 − 0.2
    assert p.asset.margin_used == 0 and p.asset.liquidation_price is None
    assert books.positions(open_only=True) == [] and len(books.positions()) == 1
    assert books.account_state("acc").positions == []  # type: ignore[union-attr]


def test_weighted_entry_is_a_28_digit_quotient():
    desk = perp_desk()
    desk.trade("BUY", "1", "100")
    desk.trade("BUY", "2", "101")
    assert position(desk.books()).asset.entry_price == D("100.6666666666666666666666667")  # 302 ÷ 3


# ------------------------------------------------------------------ short, contract size
def test_short_realizes_with_the_sign_reversed_and_the_contract_size():
    desk = perp_desk(contract_size="10")
    desk.trade("SELL", "3", "200")
    desk.trade("BUY", "1", "150", fee="1")
    p = position(desk.books())
    assert (p.asset.quantity, p.side, p.asset.entry_price) == (-2, "SHORT", 200)
    assert p.asset.realized_pnl == 499  # 1 × (200 − 150) × 10 − 1


# ------------------------------------------------------------------ flips
def test_a_flip_closes_at_the_fill_price_and_splits_the_fee_pro_rata():
    desk = perp_desk()
    desk.adjust("1000")
    desk.trade("BUY", "2", "100", fee="0.1")
    desk.trade("SELL", "5", "90", fee="0.5")  # closes 2 (fee 0.2), opens 3 short (fee 0.3)
    books = desk.books()
    p = position(books)
    assert (p.asset.quantity, p.side, p.asset.entry_price) == (-3, "SHORT", 90)
    assert p.asset.realized_pnl == D("-0.3")  # the new life: its share of the fee only
    assert account_total(books) == D("-20.6")  # −0.1 + 2 × (90 − 100) − 0.5
    assert books.balance("acc", "USDT").total == D("979.4")  # type: ignore[union-attr]


def test_a_flip_fee_split_is_exact_to_the_last_digit():
    desk = perp_desk()
    desk.trade("BUY", "1", "100")
    desk.trade("SELL", "3", "100", fee="1")  # closing share 1/3 (rounded), the opening part gets the rest
    books = desk.books()
    assert position(books).asset.realized_pnl == D("-0.6666666666666666666666666667")
    assert account_total(books) == -1  # the two shares add up to the whole fee


def test_realized_restarts_each_life_and_the_account_total_accumulates():
    desk = perp_desk()
    desk.trade("BUY", "1", "100", fee="0.1")
    desk.trade("SELL", "1", "110", fee="0.1")  # life 1: 10 − 0.2 = 9.8
    desk.trade("SELL", "2", "105", fee="0.2")  # life 2 opens short from flat
    books = desk.books()
    assert position(books).asset.realized_pnl == D("-0.2")
    assert account_total(books) == D("9.6")
    desk.trade("BUY", "3", "100", fee="0.3")  # closes 2 (+10, fee 0.2), flips to long 1 (fee 0.1)
    books = desk.books()
    assert position(books).asset.realized_pnl == D("-0.1")
    assert account_total(books) == D("9.6") + 10 - D("0.3")


# ------------------------------------------------------------------ inverse contracts
@pytest.mark.parametrize(("first", "second", "expected"), [
    (("BUY", "20000"), ("SELL", "25000"), D("0.01")),   # 10 × 100 × (1/20000 − 1/25000)
    (("BUY", "25000"), ("SELL", "20000"), D("-0.01")),
    (("SELL", "25000"), ("BUY", "20000"), D("0.01")),   # short: sign reversed
])  # fmt: skip
def test_inverse_contracts_realize_in_the_coin(first, second, expected):
    desk = Desk().open(base="BTC").instrument(symbol="BTCUSD", asset_type="INVERSE_PERPETUAL", quote="USD",
                                              contract_size="100", settlement_asset="BTC")  # fmt: skip
    desk.adjust("1", asset="BTC")
    desk.trade(first[0], "10", first[1], symbol="BTCUSD")
    desk.trade(second[0], "10", second[1], symbol="BTCUSD")
    books = desk.books()
    assert position(books, "BTCUSD").asset.realized_pnl == expected
    assert books.balance("acc", "BTC").total == 1 + expected  # type: ignore[union-attr]
    assert books.balance("acc", "USD") is None


def test_inverse_unrealized_and_margin_use_the_reciprocal():
    desk = Desk().open(base="BTC").instrument(symbol="BTCUSD", asset_type="INVERSE_PERPETUAL", quote="USD",
                                              contract_size="100", settlement_asset="BTC",
                                              initial_margin_rate="0.1", maintenance_margin_rate="0.005")  # fmt: skip
    desk.leverage("10", symbol="BTCUSD")
    desk.trade("BUY", "10", "20000", symbol="BTCUSD")
    desk.mark("25000", symbol="BTCUSD")
    p = position(desk.books(), "BTCUSD")
    assert p.asset.unrealized_pnl == D("0.01")
    assert p.asset.margin_used == D("0.004")  # 10 × 100 ÷ 25000 × 0.1
    assert p.asset.liquidation_price is None  # the estimate is for linear contracts


# ------------------------------------------------------------------ marks, margin, liquidation
def test_unrealized_follows_the_latest_mark():
    desk = perp_desk(contract_size="10")
    desk.trade("BUY", "2", "110")
    assert position(desk.books()).asset.unrealized_pnl is None  # no mark yet
    desk.mark("115")
    desk.mark("120")
    p = position(desk.books())
    assert (p.asset.mark_price, p.asset.unrealized_pnl) == (120, 200)  # 2 × (120 − 110) × 10
    desk.trade("SELL", "5", "120")
    p = position(desk.books())  # short 3 at 120, marked at 120; flipped without a fee
    assert (str(p.asset.unrealized_pnl), str(p.asset.realized_pnl)) == ("0", "0")  # never "-0"


@pytest.mark.parametrize(("side", "expected"), [("BUY", D("90.5")), ("SELL", D("109.5"))])
def test_liquidation_estimate_isolated_linear(side, expected):
    desk = perp_desk(maintenance_margin_rate="0.005")
    desk.trade(side, "2", "100")
    assert position(desk.books()).asset.liquidation_price is None  # leverage unknown
    desk.leverage("10")
    p = position(desk.books())
    assert p.asset.liquidation_price == expected  # 100 × (1 ∓ 1/10 ± 0.005)
    assert p.leverage == 10


def test_no_liquidation_estimate_without_a_maintenance_rate_or_below_leverage_one():
    desk = perp_desk()
    desk.leverage("10")
    desk.trade("BUY", "1", "100")
    assert position(desk.books()).asset.liquidation_price is None
    desk = perp_desk(maintenance_margin_rate="0.005")
    desk.leverage("0.5")
    desk.trade("BUY", "1", "100")
    assert position(desk.books()).asset.liquidation_price is None  # 100 × (1 − 2 + 0.005) < 0


@pytest.mark.parametrize(("terms", "leverage", "expected"), [
    ({"initial_margin_rate": "0.05"}, "10", D("12")),  # 2 × 120 × 0.05: the rate wins
    ({}, "10", D("24")),                               # 2 × 120 ÷ 10
    ({}, None, D("240")),                              # neither: the whole notional
])  # fmt: skip
def test_margin_used_at_the_mark(terms, leverage, expected):
    desk = perp_desk(**terms)
    if leverage:
        desk.leverage(leverage)
    desk.trade("BUY", "2", "100")
    assert position(desk.books()).asset.margin_used == 200 * expected / 240  # at the entry before a mark
    desk.mark("120")
    assert position(desk.books()).asset.margin_used == expected


# ------------------------------------------------------------------ what makes a position
def test_spot_fills_make_no_position():
    desk = spot_desk()
    desk.adjust("1000")
    desk.trade("BUY", "0.01", "50000")
    books = desk.books()
    assert books.positions() == [] and books.position("acc", "BTCUSDT") is None


def test_a_fee_in_another_asset_stays_out_of_realized_pnl():
    desk = perp_desk()
    desk.adjust("5", asset="BNB")
    desk.trade("BUY", "1", "100", fee="0.01", fee_asset="BNB")
    books = desk.books()
    assert position(books).asset.realized_pnl == 0
    assert books.balance("acc", "BNB").total == D("4.99")  # type: ignore[union-attr]
    assert books.balance("acc", "USDT").total == 0  # type: ignore[union-attr]


def test_a_rebate_adds_to_realized_pnl():
    desk = perp_desk()
    desk.trade("BUY", "1", "100", fee="-0.02")
    assert position(desk.books()).asset.realized_pnl == D("0.02")


def test_fills_after_a_cancel_and_overfills_still_move_the_position():
    desk = perp_desk()
    intent = desk.order("BUY", "1", "100")
    desk.cancel(intent)
    desk.fill(intent, "1", "100")  # the exchange matched first
    desk.fill(intent, "0.5", "100")  # and more than the order's quantity
    books = desk.books()
    assert position(books).asset.quantity == D("1.5")
    assert books.order_view("acc", intent).anomalies == ["fill_after_cancel", "overfill"]  # type: ignore[union-attr]


def test_position_timestamps_follow_fills_marks_and_leverage():
    desk = perp_desk()
    desk.instrument(symbol="ETHUSDT")
    desk.trade("BUY", "1", "100")
    filled_at = desk.ts
    assert position(desk.books()).updated_at == filled_at
    desk.mark("101")
    assert position(desk.books()).asset.updated_at == desk.ts
    desk.mark("102", symbol="ETHUSDT")  # another symbol: not this position
    assert position(desk.books()).updated_at == desk.ts - 1_000_000_000
