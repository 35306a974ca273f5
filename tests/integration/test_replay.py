"""Replay, snapshots, as-of and trading days on memory://, a SQLite file and a PostgreSQL schema
(`store_url`): the same events give the same books on every store, page size and snapshot."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from adapters.demo import DemoDay
from kernel.ledger import Ledger
from projections import state_hash
from projections.replay import (
    TradingCalendar,
    day_bounds,
    ensure_snapshots,
    position_at,
    replay,
    replay_day,
    state_at,
)
from projections.snapshots import SNAPSHOT_STREAM_ID, encode_books, snapshot_positions

NS = 1_000_000_000
NY = "America/New_York"
DEMO_ORDERS = 25


def record_demo(ledger: Ledger, *, steps_per_batch: int = 20) -> None:
    """The demo day, recorded in batches of a few commands (several transactions, simulated clock)."""
    day = DemoDay(seed=11, orders=DEMO_ORDERS)
    ledger.clock = day.clock
    steps = day.steps()
    for start in range(0, len(steps), steps_per_batch):
        with ledger.batch() as batch:
            for step in steps[start : start + steps_per_batch]:
                day.now_ns = step.ts_event
                getattr(batch, step.method)(*step.args, **step.kwargs)


@pytest.fixture(scope="module")
def memory_demo() -> tuple[str, bytes]:
    """The hash and full encoding of the demo day's books, folded from a memory store."""
    with Ledger.open("memory://") as ledger:
        record_demo(ledger)
        books = replay(ledger).books
        return state_hash(books), encode_books(books)


@pytest.fixture
def demo(store_url, open_ledger) -> Ledger:
    ledger = open_ledger(store_url)
    record_demo(ledger)
    return ledger


def ns(iso: str) -> int:
    moment = datetime.fromisoformat(iso)
    return int(moment.timestamp()) * NS + moment.microsecond * 1_000


class Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns


def record_days(ledger: Ledger, clock: Clock, moments: list[int]) -> None:
    clock.ns = moments[0]
    ledger.open_account("acc", exchange="x", account_type="SPOT", base_currency="USDT", ts_event=moments[0])
    ledger.register_asset("acc", {"asset_id": "BTCUSDT", "symbol": "BTCUSDT", "asset_type": "SPOT", "name": "B"},
                          ts_event=moments[0], base_asset="BTC", quote_asset="USDT")  # fmt: skip
    for n, moment in enumerate(moments):
        clock.ns = moment
        with ledger.batch() as batch:
            batch.adjust_balance("acc", asset_id="USDT", amount=f"{100 + n}", reason="DEPOSIT", ts_event=moment,
                                 reference=f"d{n}")  # fmt: skip
            if n % 2:
                order = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": "1", "price": "10"}
                batch.place_intent("acc", {"intent_id": f"o{n}", "order": order, "created_at": moment,
                                           "updated_at": moment})  # fmt: skip
                batch.start_submission("acc", f"o{n}", client_order_id=f"c{n}", ts_event=moment)
                batch.record_fill("acc", f"o{n}", trade_id=f"t{n}", quantity="1", price="10", ts_event=moment)


# NY afternoons and evenings around a 17:00 cut-off, across the 2026-03-08 DST change; trading day 03-11
# (17:00 New York) has no events.
MOMENTS = [ns(t) for t in (
    "2026-03-05T16:59:59-05:00", "2026-03-05T17:00:00-05:00", "2026-03-06T10:00:00-05:00",
    "2026-03-08T16:59:00-04:00", "2026-03-08T17:00:01-04:00", "2026-03-10T16:00:00-04:00",
    "2026-03-12T17:30:00-04:00",
)]  # fmt: skip


# ------------------------------------------------------------------------------------------ replay
def test_every_page_size_gives_the_memory_stores_books(demo, memory_demo):
    expected_hash, expected_bytes = memory_demo
    results = [replay(demo, page_size=size) for size in (1, 7, 10_000)]
    assert {state_hash(r.books) for r in results} == {expected_hash}
    assert {encode_books(r.books) for r in results} == {expected_bytes}
    assert {r.position for r in results} == {demo.head()}


def test_snapshot_plus_tail_is_the_full_fold_at_random_cut_points(demo, store_url):
    head = demo.head()
    written = ensure_snapshots(demo, every=37)
    assert written == snapshot_positions(demo) and len(written) == head // 37
    assert ensure_snapshots(demo, every=37) == []  # idempotent
    cuts = sorted({0, 1, head, *random.Random(f"cuts-{head}").sample(range(1, head), 12), *written})
    for cut in cuts:
        as_of, replayed = state_at(demo, position=cut), replay(demo, until_position=cut, page_size=5)
        assert as_of.position == replayed.position == cut
        assert encode_books(as_of.books) == encode_books(replayed.books), cut
    assert state_hash(state_at(demo, position=written[-1] + 1).books) == state_hash(
        replay(demo, until_position=written[-1] + 1).books)  # fmt: skip


def test_snapshots_live_in_the_stores_snapshot_table(demo, store_url):
    ensure_snapshots(demo, every=50)
    rows = demo.snapshot_recorder().select_events(SNAPSHOT_STREAM_ID, desc=True, limit=1)
    assert rows and rows[0].topic == "BooksSnapshot.v3"
    if store_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            assert db.execute("SELECT count(*) FROM stored_snapshots").fetchone()[0] == demo.head() // 50
    elif store_url.startswith("postgresql"):
        recorder = demo.snapshot_recorder()
        assert recorder.events_table_name == "ledger_snapshots"  # type: ignore[attr-defined]
    # A second Ledger on the same store (a fresh process, say) finds them.
    if not store_url.startswith("memory"):
        with Ledger.open(store_url) as other:
            assert snapshot_positions(other) == snapshot_positions(demo)
            assert state_hash(state_at(other).books) == state_hash(replay(demo).books)


# ------------------------------------------------------------------------------------------ time and days
def test_positions_for_times_and_trading_days(store_url, open_ledger):
    clock = Clock()
    ledger = open_ledger(store_url, clock=clock)
    record_days(ledger, clock, MOMENTS)
    log = list(ledger.read())
    stamps = sorted({e.ts_recorded for _, e in log})
    for ts in [0, *[t + d for t in stamps for d in (-1, 0, 1)], 2**63]:
        assert position_at(ledger, ts) == max((i for i, e in log if e.ts_recorded <= ts), default=0)

    calendar = TradingCalendar("17:00", NY)
    ensure_snapshots(ledger, every=0, cutoff="17:00", tz=NY)
    for day in (date(2026, 3, d) for d in range(4, 15)):
        ids = [i for i, e in log if calendar.open_ns(day) <= e.ts_recorded < calendar.close_ns(day)]
        bounds = day_bounds(ledger, day, "17:00", NY)
        assert bounds == ((ids[0], ids[-1]) if ids else None), day
        result = replay_day(ledger, day, cutoff="17:00", tz=NY)
        assert result.events == len(ids)
        assert encode_books(result.books) == encode_books(replay(ledger, until_position=result.closing_position).books)
    assert day_bounds(ledger, "2026-03-11", "17:00", NY) is None
    opening = day_bounds(ledger, "2026-03-06", "17:00", NY)  # opens with the event stamped at 17:00:00
    assert opening is not None
    assert [e.ts_recorded for i, e in log if i in opening][0] == ns("2026-03-05T17:00:00-05:00")
    assert all(e.ts_recorded < MOMENTS[1] for i, e in log if i < opening[0])


@pytest.mark.postgres
def test_ids_with_gaps_on_postgres(pg_url, open_ledger):
    """A conflicting insert keeps its sequence value: the log's ids have holes. Nothing here counts ids."""
    clock = Clock()
    first, second = open_ledger(pg_url, clock=clock), open_ledger(pg_url, clock=clock)
    record_days(first, clock, MOMENTS[:3])
    for n in range(6):
        clock.ns = MOMENTS[3] + n * NS
        writer, other = (first, second) if n % 2 else (second, first)
        other.adjust_balance("acc", asset_id="USDT", amount="1", reason="DEPOSIT", ts_event=1, reference=f"o{n}")
        writer.adjust_balance("acc", asset_id="USDT", amount="2", reason="DEPOSIT", ts_event=1, reference=f"w{n}")
    log = list(first.read())
    ids = [i for i, _ in log]
    assert ids != list(range(1, len(ids) + 1)), "expected the conflicts to leave holes in the ids"
    for ts in sorted({e.ts_recorded + d for _, e in log for d in (-1, 0, 1)}):
        assert position_at(first, ts) == max((i for i, e in log if e.ts_recorded <= ts), default=0)
    ensure_snapshots(first, every=4, cutoff=None)
    for position in range(ids[-1] + 2):
        as_of, replayed = state_at(first, position=position), replay(first, until_position=position)
        assert as_of.position == replayed.position == max((i for i in ids if i <= position), default=0)
        assert encode_books(as_of.books) == encode_books(replayed.books)
