"""Closed orders leave the books (`Books.evict_closed`) at page and batch boundaries; the state hash does
not notice, a late fact for an evicted order revives it from its stream, and the read tables keep every
order's row."""

from __future__ import annotations

import pytest
from replay_history import record_demo

from adapters.projector import project
from adapters.read_tables.memory import MemoryReadTables
from kernel.ledger import Ledger
from kernel.testing import ACCOUNT, memory_ledger
from projections import Books, ProjectionError, state_hash
from projections.replay import ensure_snapshots, replay, state_at
from projections.snapshots import decode_books, encode_books


def full_fold(ledger: Ledger) -> Books:
    return Books.of(e for _, e in ledger.read())


def place(ledger: Ledger, intent_id: str, ts: int, price: str = "100") -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": "1", "price": price}
    ledger.place_intent(ACCOUNT, {"intent_id": intent_id, "order": order, "created_at": ts, "updated_at": ts})
    ledger.start_submission(ACCOUNT, intent_id, client_order_id=f"c-{intent_id}", ts_event=ts + 1)
    ledger.record_accepted(ACCOUNT, intent_id, exchange_order_id=f"X-{intent_id}", ts_event=ts + 2)


def funded() -> Ledger:
    ledger = memory_ledger()
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1000000", reason="DEPOSIT", ts_event=1)
    return ledger


def test_the_demo_day_hashes_the_same_evicted_unevicted_and_from_snapshots():
    ledger = record_demo()
    whole = full_fold(ledger)
    for size in (1, 7, 50, 10_000):
        replayed = replay(ledger, page_size=size)
        assert state_hash(replayed.books) == state_hash(whole)
        assert replayed.books.closed_count > 0
        assert set(replayed.books.orders) == {k for k, o in whole.orders.items() if k in replayed.books.orders}
    assert ensure_snapshots(ledger, every=40, cutoff=None)
    as_of = state_at(ledger)
    assert state_hash(as_of.books) == state_hash(whole)
    restored = decode_books(encode_books(as_of.books))
    assert (restored.closed_count, restored.closed_digest) == (as_of.books.closed_count, as_of.books.closed_digest)
    assert state_hash(restored) == state_hash(whole)


def test_memory_is_bounded_by_open_orders_over_a_long_history():
    ledger = funded()
    ts = 10
    for n in range(600):
        place(ledger, f"o{n}", ts)
        if n % 10 != 0:  # one order in ten stays open
            if n % 2:
                ledger.record_fill(ACCOUNT, f"o{n}", trade_id=f"t{n}", quantity="1", price="100", ts_event=ts + 3)
            else:
                ledger.cancel_intent(ACCOUNT, f"o{n}", ts_event=ts + 3)
                ledger.record_cancel_accepted(ACCOUNT, f"o{n}", ts_event=ts + 4)
        ts += 10
    page = 100
    seen = []
    books = Books()
    for start in range(0, ledger.head(), page):
        replay(ledger, books=books, after=start, until_position=start + page, page_size=page)
        seen.append(len(books.orders))
    whole = full_fold(ledger)
    assert len(whole.orders) == 600 and state_hash(books) == state_hash(whole)
    open_orders = len(whole.order_keys(open_only=True))
    assert open_orders == 60 and len(books.orders) == open_orders
    assert max(seen) <= open_orders  # evicted at every page's end: what stays is open
    one_pass = replay(ledger, page_size=page).books
    assert len(one_pass.orders) == open_orders and state_hash(one_pass) == state_hash(whole)


def test_a_fill_after_cancel_revives_an_evicted_order():
    ledger = funded()
    place(ledger, "late", 10)
    ledger.cancel_intent(ACCOUNT, "late", ts_event=20)
    ledger.record_cancel_accepted(ACCOUNT, "late", ts_event=21)
    place(ledger, "other", 30)
    cut = ledger.head()
    ledger.record_fill(ACCOUNT, "late", trade_id="t9", quantity="0.6", price="99.5", ts_event=19)
    ledger.record_fill(ACCOUNT, "late", trade_id="t10", quantity="0.4", price="99.5", ts_event=19)

    first = replay(ledger, until_position=cut)
    assert (ACCOUNT, "late") not in first.books.orders
    assert first.books.closed_count == 1
    with pytest.raises(ProjectionError, match="before it was placed"):  # Books alone cannot fold it
        Books.of([]).apply(next(e for _, e in ledger.read(after=cut)))
    rest = replay(ledger, books=first.books, after=cut, page_size=1, evict=False)
    whole = full_fold(ledger)
    assert rest.books.order_view(ACCOUNT, "late") == whole.order_view(ACCOUNT, "late")
    assert "fill_after_cancel" in rest.books.order_view(ACCOUNT, "late").anomalies  # type: ignore[union-attr]
    assert rest.books.closed_count == 0
    assert state_hash(rest.books) == state_hash(whole)
    for size in (1, 2, 3, 100):
        assert state_hash(replay(ledger, page_size=size).books) == state_hash(whole)


def test_the_projector_evicts_after_writing_and_keeps_every_row():
    ledger = funded()
    place(ledger, "late", 10)
    ledger.cancel_intent(ACCOUNT, "late", ts_event=20)
    ledger.record_cancel_accepted(ACCOUNT, "late", ts_event=21)
    place(ledger, "filled", 30)
    ledger.record_fill(ACCOUNT, "filled", trade_id="f1", quantity="1", price="100", ts_event=40)
    place(ledger, "open", 50)
    tables = MemoryReadTables()
    project(ledger, tables=tables, handle_signals=False, batch_size=2)
    ledger.record_fill(ACCOUNT, "late", trade_id="t9", quantity="0.6", price="99.5", ts_event=19)
    project(ledger, tables=tables, handle_signals=False, batch_size=1)
    whole = full_fold(ledger)
    assert tables.orders() == whole.order_views() and len(whole.order_views()) == 3
    assert tables.balances() and [r.balance for r in tables.balances()] == whole.balances(ACCOUNT)
