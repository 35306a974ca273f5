"""Properties of the folds over generated histories (the ledger's own hypothesis strategies): positions
equal the sum of signed fills, realized PnL equals an independent exact-rational reference (flips
included), a margin account's cash adds up, spot balances and `locked` follow the fills and open orders,
and the state hash depends on the events only -- not on how they are chunked or how often folded."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal, localcontext
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st
from projection_desk import Desk

from kernel import events as ev
from kernel.exchange.models import AssetMetadata
from kernel.ledger import Ledger
from kernel.schema.order_spec import OrderSide, StandardOrderStatus
from kernel.testing import (
    ACCOUNT,
    QUOTE_ASSET,
    SYMBOLS,
    T0_NS,
    Command,
    adversarial_streams,
    apply_commands,
    call,
    decimals_exact,
    memory_ledger,
    order_lifecycles,
    prices,
    quantities,
)
from projections import ARITHMETIC, Books, state_hash

TOLERANCE = Fraction(1, 10**12)  # the books round each quotient to 28 digits; the reference is exact
CONTRACT_SIZES = {"BTCUSDT": Decimal(1), "ETHUSDT": Decimal("0.1")}
TERMINAL = {StandardOrderStatus.FILLED, StandardOrderStatus.CANCELED, StandardOrderStatus.REJECTED,
            StandardOrderStatus.EXPIRED}  # fmt: skip


# ------------------------------------------------------------------ the reference
def reference_pnl(fills, size: Fraction, inverse: bool) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """Average-cost netting in exact rationals. `fills` are (signed quantity, price, fee). Returns
    (quantity, realized PnL of the current life net of its fees, gross PnL of the whole history, fees)."""
    quantity = entry = life = gross = fees = Fraction(0)
    for signed, price, fee in fills:
        fees += fee
        if quantity == 0 or (quantity > 0) == (signed > 0):
            if quantity == 0:
                life, entry = Fraction(0), price
            else:
                entry = (abs(quantity) * entry + abs(signed) * price) / (abs(quantity) + abs(signed))
            quantity += signed
            life -= fee
            continue
        closed = min(abs(signed), abs(quantity))
        per_unit = (1 / entry - 1 / price) if inverse else (price - entry)
        pnl = closed * size * per_unit * (1 if quantity > 0 else -1)
        gross += pnl
        if abs(signed) <= abs(quantity):
            life += pnl - fee
        else:  # flips: the new life carries the opening share of the fee
            life, entry = -fee * (abs(signed) - closed) / abs(signed), price
        quantity += signed
    return quantity, life, gross, fees


def close(actual: Decimal | None, expected: Fraction) -> bool:
    return actual is not None and abs(Fraction(actual) - expected) <= TOLERANCE * (1 + abs(expected))


# ------------------------------------------------------------------ histories
def futures_ledger() -> Ledger:
    ticks = itertools.count(T0_NS)
    ledger = Ledger.open("memory://", clock=lambda: next(ticks))
    ledger.open_account(ACCOUNT, exchange="TEST", account_type="FUTURES", base_currency=QUOTE_ASSET, ts_event=T0_NS)
    for symbol in SYMBOLS:
        asset = AssetMetadata(asset_id=symbol, symbol=symbol, asset_type="PERPETUAL", name=symbol,
                              contract_size=CONTRACT_SIZES[symbol], settlement_asset=QUOTE_ASSET,
                              initial_margin_rate=Decimal("0.05") if symbol == "BTCUSDT" else None)  # fmt: skip
        ledger.register_asset(ACCOUNT, asset, ts_event=T0_NS, base_asset=symbol.removesuffix(QUOTE_ASSET),
                              quote_asset=QUOTE_ASSET)  # fmt: skip
    return ledger


CASH = st.tuples(st.sampled_from(["DEPOSIT", "WITHDRAWAL", "FUNDING"]), decimals_exact("0.01", "5000", 2),
                 st.booleans())  # fmt: skip


@st.composite
def histories(draw: st.DrawFn, max_orders: int = 3) -> list[Command]:
    """Up to `max_orders` order lifecycles, each delivered adversarially, interleaved, with cash movements
    (deposits, withdrawals, funding of either sign) in between."""
    streams = [draw(order_lifecycles(intent_id=f"o-{k}", max_steps=4).flatmap(adversarial_streams))
               for k in range(draw(st.integers(1, max_orders)))]  # fmt: skip
    cash = [
        call("adjust_balance", ACCOUNT, asset_id=QUOTE_ASSET, reason=reason, ts_event=T0_NS, reference=f"cash-{n}",
             amount=amount if reason == "DEPOSIT" or (reason == "FUNDING" and up) else -amount)
        for n, (reason, amount, up) in enumerate(draw(st.lists(CASH, max_size=4)))
    ]  # fmt: skip
    streams.append(cash)
    merged: list[Command] = []
    while any(streams):
        merged.append(draw(st.sampled_from([s for s in streams if s])).pop(0))
    return merged


def fills_by_symbol(books: Books, events: list[ev.Event]) -> dict[str, list[tuple[Fraction, Fraction, Fraction]]]:
    fills: dict[str, list] = defaultdict(list)
    for e in events:
        if isinstance(e, ev.OrderFilled):
            intent = books.orders[(e.account_id, e.intent_id)].intent
            assert intent is not None
            signed = e.quantity if intent.side is OrderSide.BUY else -e.quantity
            fills[intent.symbol].append((Fraction(signed), Fraction(e.price), Fraction(e.fee)))
    return fills


def cash_total(events: list[ev.Event], *reasons: str) -> Decimal:
    return sum((e.amount for e in events if isinstance(e, ev.BalanceAdjusted) and e.reason in reasons), Decimal(0))


# ------------------------------------------------------------------ properties
@given(histories())
def test_margin_account_positions_pnl_and_cash_follow_the_fills(commands):
    ledger = futures_ledger()
    apply_commands(ledger, commands, check=False)
    events = [e for _, e in ledger.read()]
    books = Books.of(events)
    fills = fills_by_symbol(books, events)
    gross = fees = Fraction(0)
    for symbol, symbol_fills in sorted(fills.items()):
        quantity, life, symbol_gross, symbol_fees = reference_pnl(symbol_fills, Fraction(CONTRACT_SIZES[symbol]),
                                                                  inverse=False)  # fmt: skip
        position = books.position(ACCOUNT, symbol)
        assert position is not None
        assert position.asset.quantity == sum((q for q, _, _ in symbol_fills), Fraction(0)) == quantity
        assert close(position.asset.realized_pnl, life), (position.asset.realized_pnl, float(life))
        gross, fees = gross + symbol_gross, fees + symbol_fees
    state = books.account_state(ACCOUNT)
    assert state is not None and close(state.total_realized_pnl, gross - fees)
    deposits, withdrawals = cash_total(events, "DEPOSIT"), -cash_total(events, "WITHDRAWAL")
    funding = cash_total(events, "FUNDING")
    balance = books.balance(ACCOUNT, QUOTE_ASSET)
    settled = balance.total if balance is not None else Decimal(0)
    assert close(settled, Fraction(deposits - withdrawals + funding) + gross - fees)
    with localcontext(ARITHMETIC):  # the books' figures may carry more than the default 28 digits
        assert settled == deposits - withdrawals + state.total_realized_pnl + funding  # exactly, in the books


SIDES = st.sampled_from(["BUY", "SELL"])
FEES = decimals_exact("-0.01", "0.5", 4)


@given(st.lists(st.tuples(SIDES, quantities(), prices(), FEES), min_size=1, max_size=8),
       st.sampled_from(["PERPETUAL", "INVERSE_PERPETUAL"]), st.sampled_from(["1", "10", "0.001"]))  # fmt: skip
def test_trade_sequences_match_the_reference_linear_and_inverse(trades, asset_type, size):
    desk = Desk().open(base="USDT").instrument(asset_type=asset_type, contract_size=size, settlement_asset="USDT")
    for side, quantity, price, fee in trades:
        desk.trade(side, quantity, price, fee)
    books = desk.books()
    signed = [(Fraction(q if s == "BUY" else -q), Fraction(p), Fraction(f)) for s, q, p, f in trades]
    quantity, life, gross, fees = reference_pnl(signed, Fraction(Decimal(size)), asset_type.startswith("INVERSE"))
    position = books.position("acc", "BTCUSDT")
    assert position is not None and position.asset.quantity == quantity
    assert close(position.asset.realized_pnl, life)
    state = books.account_state("acc")
    assert state is not None and close(state.total_realized_pnl, gross - fees)
    assert books.balance("acc", "USDT").total == state.total_realized_pnl  # type: ignore[union-attr]  # no cash
    assert (position.side is None) == (quantity == 0) and (position.asset.entry_price is None) == (quantity == 0)


@given(histories())
def test_spot_balances_and_locked_follow_fills_and_open_orders(commands):
    ledger = memory_ledger()
    apply_commands(ledger, commands, check=False)
    events = [e for _, e in ledger.read()]
    books = Books.of(events)
    fills = fills_by_symbol(books, events)
    assert books.positions() == []
    expected: dict[str, Fraction] = defaultdict(Fraction)
    expected[QUOTE_ASSET] += Fraction(cash_total(events, "DEPOSIT", "WITHDRAWAL", "FUNDING"))
    for symbol, symbol_fills in fills.items():
        for signed, price, fee in symbol_fills:
            expected[symbol.removesuffix(QUOTE_ASSET)] += signed
            expected[QUOTE_ASSET] -= signed * price + fee
    balances = {b.asset_id: b for b in books.balances(ACCOUNT)}
    assert {a: Fraction(b.total) for a, b in balances.items() if b.total or a in expected} == {
        a: v for a, v in expected.items() if v or a in balances}  # fmt: skip
    locked: dict[str, Decimal] = defaultdict(Decimal)
    for view in books.order_views(ACCOUNT):
        if view.state.status in TERMINAL or view.state.reconciliation_status == "PENDING":
            continue  # closed, or never sent
        base = view.order.symbol.removesuffix(QUOTE_ASSET)
        if view.order.side == "SELL":
            locked[base] += view.remaining_quantity
        elif (view.price or view.order.stop_price) is not None:
            locked[QUOTE_ASSET] += view.remaining_quantity * (view.price or view.order.stop_price)  # type: ignore[operator]
    assert {a: b.locked for a, b in balances.items() if b.locked} == {a: v for a, v in locked.items() if v}
    for b in balances.values():
        assert b.available == b.total - b.locked


@given(histories(), st.data())
def test_the_hash_depends_on_the_events_only(commands, data):
    ledger = futures_ledger()
    apply_commands(ledger, commands, check=False)
    events = [e for _, e in ledger.read()]
    whole = state_hash(Books.of(events))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=5)))
    chunked = Books()
    for start, stop in zip([0, *cuts], [*cuts, len(events)], strict=True):
        chunked.apply_all(events[start:stop])
    paged = Books.of(e for _, e in ledger.read(page_size=data.draw(st.integers(1, 7))))
    assert state_hash(chunked) == state_hash(paged) == state_hash(Books.of(events)) == whole
