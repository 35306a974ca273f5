"""AccountState, hand-computed: margin figures for FUTURES accounts, None for SPOT, what is listed, when."""

from __future__ import annotations

from projection_desk import D, Desk, perp_desk, spot_desk


def test_futures_account_figures():
    desk = perp_desk(initial_margin_rate="0.05")
    desk.instrument(symbol="ETHUSDT", base="ETH", settlement_asset="USDT", initial_margin_rate="0.05")
    desk.adjust("10000")
    desk.trade("BUY", "2", "100", fee="0.2")  # BTCUSDT long 2 @ 100
    desk.trade("SELL", "10", "50", fee="0.5", symbol="ETHUSDT")  # ETHUSDT short 10 @ 50
    desk.trade("BUY", "4", "45", symbol="ETHUSDT")  # realizes 4 × (50 − 45) = 20
    desk.mark("110")
    desk.mark("40", symbol="ETHUSDT")
    desk.adjust("-3", reason="FUNDING")
    state = desk.books().account_state("acc")
    assert state is not None
    unrealized = 2 * (110 - 100) + (-6) * (40 - 50)  # 20 + 60
    equity = D("10000") - D("0.7") + 20 - 3 + unrealized
    margin = D("2") * 110 * D("0.05") + 6 * 40 * D("0.05")  # 11 + 12
    assert (state.total_unrealized_pnl, state.total_realized_pnl) == (80, D("19.3"))
    assert (state.total_equity, state.total_margin_used) == (equity, margin)
    assert state.total_available_margin == equity - margin
    assert state.margin_level == D("438.9695652173913043478260870")  # 10096.3 ÷ 23, 28 digits
    assert [p.symbol_id for p in state.positions] == ["BTCUSDT", "ETHUSDT"]
    assert [b.asset_id for b in state.balances] == ["USDT"]
    assert state.metadata == {"account_type": "FUTURES", "base_currency": "USDT",
                              "realized_pnl_by_asset": {"USDT": "19.3"}}  # fmt: skip
    assert state.exchange == "test" and state.updated_at == desk.ts


def test_no_margin_used_means_no_margin_level():
    desk = perp_desk()
    desk.adjust("100")
    state = desk.books().account_state("acc")
    assert state is not None
    assert (state.total_equity, state.total_margin_used, state.margin_level) == (100, 0, None)
    assert (state.total_realized_pnl, state.total_unrealized_pnl) == (0, 0)


def test_spot_accounts_have_no_margin_figures():
    desk = spot_desk()
    desk.adjust("100")
    state = desk.books().account_state("acc")
    assert state is not None
    figures = (state.total_equity, state.total_margin_used, state.total_available_margin, state.margin_level,
               state.total_unrealized_pnl, state.total_realized_pnl)  # fmt: skip
    assert figures == (None,) * 6
    assert state.metadata == {"account_type": "SPOT", "base_currency": "USDT"}


def test_positions_in_another_settlement_asset_are_listed_not_summed():
    desk = perp_desk().instrument(symbol="BTCUSD", asset_type="INVERSE_PERPETUAL", quote="USD",
                                  contract_size="100", settlement_asset="BTC")  # fmt: skip
    desk.trade("BUY", "10", "20000", symbol="BTCUSD")
    desk.trade("SELL", "5", "25000", symbol="BTCUSD")
    desk.mark("25000", symbol="BTCUSD")
    state = desk.books().account_state("acc")
    assert state is not None
    assert [p.symbol_id for p in state.positions] == ["BTCUSD"]
    assert (state.total_unrealized_pnl, state.total_realized_pnl, state.total_margin_used) == (0, 0, 0)
    assert state.metadata["realized_pnl_by_asset"] == {"BTC": "0.005"}


def test_updated_at_is_the_latest_event_of_the_account_orders_included():
    desk = perp_desk()
    desk.order("BUY", "1", "100")
    books = desk.books()
    assert books.account_state("acc").updated_at == desk.ts  # type: ignore[union-attr]
    desk.open("other")
    assert desk.books().account_state("acc").updated_at == desk.ts - 1_000_000_000  # type: ignore[union-attr]


def test_only_opened_accounts_have_a_state_sorted_by_id():
    desk = Desk().open("b").open("a", account_type="SPOT")
    books = desk.books()
    assert [s.account_id for s in books.account_states()] == ["a", "b"]
    assert books.account_state("nobody") is None and books.account_ids() == ["a", "b"]


def test_exchange_reported_balances_are_kept_for_reconciliation():
    desk = spot_desk()
    desk.ledger.report_exchange_balances("acc", balances=[{"asset_id": "USDT", "total": "10.50", "locked": "1"},
                                                          {"asset_id": "BTC", "total": "0"}],
                                         ts_event=desk.tick())  # fmt: skip
    state = desk.books().account_state("acc")
    assert state is not None
    assert state.metadata["exchange_balances"] == {"BTC": {"total": "0", "locked": "0"},
                                                   "USDT": {"total": "10.5", "locked": "1"}}  # fmt: skip
    assert state.metadata["exchange_balances_at"] == desk.ts
    assert state.balances == []  # a report is not a movement


def test_margin_accounts_have_margin_figures_without_positions():
    desk = Desk().open(account_type="MARGIN").instrument(asset_type="MARGIN")
    desk.adjust("1000")
    desk.trade("BUY", "0.01", "50000", fee="0.5")
    books = desk.books()
    state = books.account_state("acc")
    assert state is not None and state.positions == [] and books.positions() == []
    assert (state.total_equity, state.total_margin_used, state.margin_level) == (D("499.5"), 0, None)
    assert [(b.asset_id, b.total) for b in state.balances] == [("BTC", D("0.01")), ("USDT", D("499.5"))]
