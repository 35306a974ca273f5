"""Review of the replay/snapshot speed work: edge cases that must give the results of a plain fold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kernel.ledger import Ledger
from kernel.testing import ACCOUNT, prepared_ledger
from projections import Books, state_hash
from projections.replay import ensure_snapshots, replay, state_at
from projections.snapshots import load_snapshot, snapshot_positions

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
    order = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": "1", "price": "100"}
    ledger.place_intent(ACCOUNT, {"intent_id": intent_id, "order": order, "created_at": ts, "updated_at": ts})
    ledger.start_submission(ACCOUNT, intent_id, client_order_id=f"c-{intent_id}", ts_event=ts + 1)
    ledger.record_accepted(ACCOUNT, intent_id, exchange_order_id=f"X-{intent_id}", ts_event=ts + 2)


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
