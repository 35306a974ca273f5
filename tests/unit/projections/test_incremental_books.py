"""What the books keep as they fold instead of computing when asked gives the very same figures: `locked`
(kept per (account, asset) by `balances.LockedSum`) equals the sum afresh over the open orders digit for
digit after every event; the order document the digest hashes (built straight from the kernel `Order`)
equals the canonical dump of its `OrderView`; snapshots rebuild what is derived; the newest event types
fold without touching what they do not concern."""

from __future__ import annotations

import pickle
from decimal import Decimal, localcontext

import msgspec
from hypothesis import example, given
from hypothesis import strategies as st
from projection_desk import D, perp_desk, spot_desk
from test_projection_properties import futures_ledger, histories

from kernel import events as ev
from kernel.testing import ACCOUNT, T0_NS, apply_commands, memory_ledger
from projections import ARITHMETIC, Books, state_document, state_hash
from projections.balances import LockedSum, locked_by_asset
from projections.hashing import canonical
from projections.orders import OrderView, order_document
from projections.snapshots import decode_books, encode_books


def locked_afresh(books: Books, account_id: str) -> dict[str, str]:
    """`locked` as it was computed before the books kept it: every open order's reservation now, summed in
    intent-id order (as text: the digits and the exponent must agree, not only the value)."""
    account = books.accounts.get(account_id)
    open_here = books.open_orders.get(account_id, {})
    if account is None:
        return {}
    with localcontext(ARITHMETIC):
        sums = locked_by_asset(books._reservation(account, open_here[i]) for i in sorted(open_here))
    return {asset: str(amount) for asset, amount in sums.items()}


def as_text(locked: dict[str, Decimal]) -> dict[str, str]:
    return {asset: str(amount) for asset, amount in locked.items()}


def check_books(books: Books) -> None:
    for account_id in books.accounts:
        assert as_text(books.locked(account_id)) == locked_afresh(books, account_id)
        open_here = books.open_orders.get(account_id, {})
        account = books.accounts[account_id]
        expected = {(account_id, i): books._reservation(account, o) for i, o in open_here.items()}
        held = {k: v for k, v in books.reserved.items() if k[0] == account_id}
        assert held == {k: v for k, v in expected.items() if v is not None}
    for order in books.orders.values():
        document = order_document(order)
        assert document == canonical(OrderView.of(order).model_dump())
        assert msgspec.json.encode(document, order="sorted") == msgspec.json.encode(
            canonical(OrderView.of(order).model_dump()), order="sorted")  # fmt: skip


@given(histories(), st.booleans())
def test_locked_and_order_documents_agree_after_every_event(commands, futures):
    ledger = futures_ledger() if futures else memory_ledger()
    if futures:
        ledger.set_leverage(ACCOUNT, symbol_id="ETHUSDT", leverage="7", ts_event=T0_NS)
    apply_commands(ledger, commands, check=False)
    books = Books()
    for _, event in ledger.read():
        books.apply(event)
        check_books(books)
    restored = decode_books(encode_books(books))
    check_books(restored)
    assert restored._closing == books._closing
    assert state_hash(restored) == state_hash(books)


def test_locked_follows_leverage_and_instrument_changes():
    desk = perp_desk()
    desk.adjust("10000")
    desk.leverage("3")
    for price in ("100", "101.5", "99.25"):
        desk.order("BUY", "0.3", price)
    desk.order("SELL", "1.10", "120.00")
    books = desk.books()
    check_books(books)
    desk.leverage("7")
    desk.instrument(settlement_asset="USDT", initial_margin_rate="0.0333")
    books = desk.books()
    check_books(books)
    assert books.locked("acc")["USDT"] == (D("0.3") * (D("100") + D("101.5") + D("99.25")) + D("1.1") * 120) * \
        D("0.0333")  # fmt: skip


# ------------------------------------------------------------------ LockedSum on its own
DECIMALS = st.one_of(
    st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
    st.builds(lambda digits, exp, sign: Decimal((sign, tuple(int(c) for c in str(digits)), exp)),
              st.integers(0, 10**30), st.integers(-60, 20), st.integers(0, 1)),
    st.sampled_from([Decimal("0"), Decimal("0.000"), Decimal("-0.00"), Decimal("1E+3"), Decimal("1.000"),
                     Decimal("12345678901234567890123456789012345678901234E-50")]),
)  # fmt: skip
OPS = st.lists(st.tuples(st.sampled_from("abcdefg"), st.one_of(st.none(), DECIMALS)), max_size=40)


WIDE = [Decimal("9" * 30 + "E+40"), Decimal("123456789E-70"), Decimal("-7E-65"), Decimal("5.5")]


@example([("a", WIDE[0]), ("b", WIDE[1]), ("c", WIDE[2]), ("a", None), ("d", WIDE[3]), ("c", None)])
@example([("b", WIDE[1]), ("a", WIDE[0]), ("b", None), ("c", WIDE[3]), ("a", None)])
@example([("a", WIDE[3]), ("b", WIDE[0]), ("c", WIDE[2]), ("b", None), ("c", None)])
@given(OPS)
def test_locked_sum_is_the_sum_afresh_digit_for_digit(ops):
    held: dict[str, Decimal] = {}
    half = len(ops) // 2
    given = dict(ops[:half])  # a sum made from amounts given at once (a snapshot's), worked out when first read
    sums: dict[str, LockedSum] = {"x": LockedSum(), "y": LockedSum({k: v for k, v in given.items() if v is not None})}
    sums["x"].value()  # from now on kept as it changes
    held.update(sums["y"].amounts)
    for intent_id, amount in ops[:half]:
        if amount is None:
            sums["x"].discard(intent_id)
        else:
            sums["x"].put(intent_id, amount)
    for intent_id, amount in ops[half:]:
        if amount is None:
            held.pop(intent_id, None)
            sums["x"].discard(intent_id)
            sums["y"].discard(intent_id)
        else:
            held[intent_id] = amount
            sums["x"].put(intent_id, amount)
            sums["y"].put(intent_id, amount)
        if held:
            with localcontext(ARITHMETIC):
                afresh = locked_by_asset([("x", held[i]) for i in sorted(held)])["x"]
            assert str(sums["x"].value()) == str(afresh)
        assert len(sums["x"]) == len(held)
    if held:
        assert str(sums["y"].value()) == str(sums["x"].value())
    copied = pickle.loads(pickle.dumps(sums))
    if held:
        assert str(copied["x"].value()) == str(sums["x"].value())


# ------------------------------------------------------------------ the newest event types
def test_exchange_positions_reported_touches_only_the_account():
    desk = perp_desk()
    desk.adjust("1000")
    desk.trade("BUY", "1", "100", fee="0.1")
    intent_id = desk.order("SELL", "0.5", "120")
    before = desk.books()
    desk.ledger.report_exchange_positions("acc", positions=[{"symbol_id": "BTCUSDT", "quantity": "1",
                                                             "entry_price": "100"}], ts_event=desk.tick())  # fmt: skip
    after = desk.books()
    assert isinstance(desk.events()[-1], ev.ExchangePositionsReported)
    doc_before, doc_after = state_document(before), state_document(after)
    assert doc_after["orders"] == doc_before["orders"]
    assert doc_after["positions"] == doc_before["positions"]
    assert doc_after["balances"] == doc_before["balances"]
    assert after.position("acc", "BTCUSDT") == before.position("acc", "BTCUSDT")
    assert after.locked("acc") == before.locked("acc")
    state_before, state_after = before.account_state("acc"), after.account_state("acc")
    assert state_after.updated_at == desk.ts > state_before.updated_at  # the account saw an event
    assert state_after.model_copy(update={"updated_at": 0}) == state_before.model_copy(update={"updated_at": 0})
    assert after.order_view("acc", intent_id) == before.order_view("acc", intent_id)
    check_books(after)


def test_execution_reported_changes_no_figure_of_its_order():
    desk = spot_desk()
    desk.adjust("1000")
    intent_id = desk.order("BUY", "2", "10")
    desk.fill(intent_id, "0.5", "10")
    before = desk.books()
    for kind in ("RESTATED", "TRADE_CORRECT"):
        desk.ledger.record_exchange_fact(ev.ExecutionReported(
            account_id="acc", intent_id=intent_id, exec_type=kind, exec_id=f"x-{kind}", ref_exec_id="t-1",
            ts_event=desk.tick(), ts_recorded=0))  # fmt: skip
    after = desk.books()
    assert isinstance(desk.events()[-1], ev.ExecutionReported)
    view_before, view_after = before.order_view("acc", intent_id), after.order_view("acc", intent_id)
    assert view_after.state.status == view_before.state.status
    assert view_after.remaining_quantity == view_before.remaining_quantity == D("1.5")
    assert view_after.anomalies == [*view_before.anomalies, "trade_corrected:t-1"]
    assert after.locked("acc") == before.locked("acc") == {"USDT": D("15.0")}
    assert after.reserved == before.reserved
    assert state_document(after)["balances"] == state_document(before)["balances"]
    check_books(after)
