"""Review of the replay/snapshot speed work: edge cases that must give the results of a plain fold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kernel.ledger import Ledger
from kernel.testing import ACCOUNT, prepared_ledger
from projections import Books, state_hash
from projections.replay import ensure_snapshots, replay, state_at
from projections.snapshots import load_snapshot, snapshot_positions

from .helpers import placed_and_accepted

NS = 1_000_000_000
DAY1 = 1_767_571_200 * NS  # 2026-01-05T00:00:00Z
DAY2 = DAY1 + 86_400 * NS


class Clock:
    def __init__(self, now: int) -> None:
        self.ns = now

    def __call__(self) -> int:
        self.ns += 1
        return self.ns


def place(ledger: Ledger, intent_id: str, ts: int) -> None:
    placed_and_accepted(ledger, ACCOUNT, intent_id, ts)


@pytest.fixture
def late_fill_opens_a_day(store_url: str) -> Iterator[Ledger]:
    """Day 1: orders placed and canceled (closed, evicted by a fold), one left open. Day 2 opens with a
    late fill for a canceled order: the first event of the day is about an evicted order."""
    clock = Clock(DAY1)
    ledger = prepared_ledger(store_url, clock=clock)
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1000000", reason="DEPOSIT", ts_event=1)
    for n in range(4):
        place(ledger, f"o{n}", 10 * n + 10)
        ledger.cancel_intent(ACCOUNT, f"o{n}", ts_event=10 * n + 13)
        ledger.record_cancel_accepted(ACCOUNT, f"o{n}", ts_event=10 * n + 14)
    place(ledger, "p", 100)
    clock.ns = DAY2
    ledger.record_fill(ACCOUNT, "o1", trade_id="t1", quantity="0.5", price="99", ts_event=200)
    ledger.record_fill(ACCOUNT, "p", trade_id="t2", quantity="0.25", price="100", ts_event=210)
    yield ledger
    ledger.close()


@pytest.mark.parametrize("page_size", [2, 3, 10_000])
def test_a_day_boundary_snapshot_before_a_late_fact_for_an_evicted_order(late_fill_opens_a_day: Ledger,
                                                                          page_size: int):  # fmt: skip
    """`ensure_snapshots` cuts a day-boundary snapshot (evicting closed orders first) in `before` the day's
    first event; when that event is a late fact for an evicted order, the order revived for it must not be
    evicted again by the cut before the event is folded."""
    ledger = late_fill_opens_a_day
    whole = Books.of(e for _, e in ledger.read())
    head = ledger.head()
    written = ensure_snapshots(ledger, every=0, cutoff="00:00", page_size=page_size)
    assert written == [head - 2]  # the close of day 1
    assert snapshot_positions(ledger) == written
    assert state_hash(state_at(ledger, position=head).books) == state_hash(whole)
    assert state_hash(replay(ledger, page_size=page_size).books) == state_hash(whole)
    snapshot = load_snapshot(ledger, head)
    assert snapshot is not None
    expected = Books.of(e for at, e in ledger.read() if at <= snapshot.position)
    assert state_hash(snapshot.books) == state_hash(expected)


# ------------------------------------------------------------------------------------------ checked sound
def _snapshot_bytes(ledger: Ledger) -> dict[int, bytes]:
    import zlib

    from projections.snapshots import SNAPSHOT_STREAM_ID

    return {s.originator_version: zlib.decompress(s.state)
            for s in ledger.snapshot_recorder().select_events(SNAPSHOT_STREAM_ID)}  # fmt: skip


def test_snapshots_cut_from_restored_books_with_sleeping_orders_are_the_bytes_of_a_fold_from_the_start():
    """`ensure_snapshots` resumed from a snapshot (its orders asleep, written back as their bytes) writes
    the same bytes as one run from the start."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "projections"))
    from replay_history import record_demo

    whole, steps = record_demo(orders=60), record_demo(orders=60)
    written = ensure_snapshots(whole, every=37, cutoff=None, page_size=7)
    resumed: list[int] = []
    position, head = 0, steps.head()
    while position < head:
        position = min(head, position + 50)
        resumed += ensure_snapshots(steps, every=37, cutoff=None, until_position=position, page_size=7)
    assert written and resumed == written
    assert _snapshot_bytes(steps) == _snapshot_bytes(whole)


def test_a_closed_order_restored_asleep_then_evicted_is_revived_for_a_late_fill(store_url: str,
                                                                               monkeypatch: pytest.MonkeyPatch):  # fmt: skip
    from projections.snapshots import save_snapshot

    revived: list[str] = []
    revive = Books.revive
    monkeypatch.setattr(Books, "revive", lambda books, order: (revived.append(order.intent_id), revive(books, order)))

    ledger = prepared_ledger(store_url)
    try:
        ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1000000", reason="DEPOSIT", ts_event=1)
        for n in range(3):
            place(ledger, f"o{n}", 10 * n + 10)
            ledger.cancel_intent(ACCOUNT, f"o{n}", ts_event=10 * n + 13)
            ledger.record_cancel_accepted(ACCOUNT, f"o{n}", ts_event=10 * n + 14)
        mid = ledger.head()
        ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1", reason="DEPOSIT", ts_event=150)  # evicts o*
        ledger.record_fill(ACCOUNT, "o1", trade_id="t1", quantity="0.5", price="99", ts_event=200)
        whole = Books.of(e for _, e in ledger.read())
        assert save_snapshot(ledger, Books.of(e for at, e in ledger.read() if at <= mid), mid)  # closed: held
        for page_size in (1, 10_000):
            for evict in (True, False):
                books = state_at(ledger, position=ledger.head(), page_size=page_size, evict=evict).books
                assert state_hash(books) == state_hash(whole)
        assert revived == ["o1"]  # page_size 1, evicting: the sleeping o0..o2 left after the deposit
    finally:
        ledger.close()


@pytest.mark.postgres
def test_an_aggregated_page_with_a_comma_in_a_topic_is_read_row_by_row(pg_url: str):
    import uuid

    from eventsourcing.persistence import StoredEvent

    from projections.pages import read_page

    ledger = prepared_ledger(pg_url)
    try:
        ledger.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "Odd,Topic.v1", b"{}")])
        ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1", reason="DEPOSIT", ts_event=1)
        stored = ledger.recorder.select_notifications(start=0, limit=100, inclusive_of_start=False)
        page = read_page(ledger, 0, None, 100)
        assert list(page.ids) == [n.id for n in stored] and list(page.topics) == [n.topic for n in stored]
        assert len(read_page(ledger, ledger.head(), None, 100)) == 0
    finally:
        ledger.close()
