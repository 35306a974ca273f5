"""Read tables (adapters.read_tables) kept by the projector (adapters.projector): every row equals a clean
fold of the log, whatever the batch size, after re-runs, after appends, after a crash mid-batch (SIGKILL),
and live (`follow`: LISTEN on PostgreSQL, polling on SQLite), stopping cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from adapters.demo import PERP, SPOT, DemoDay
from adapters.projector import Stop, books_at, fold_log, project
from adapters.read_tables import (
    MemoryReadTables,
    ReadTablesError,
    TrackingConflict,
    open_read_tables,
)
from kernel import events as ev
from kernel.mapper import Envelope
from kernel.streams import order_stream_id
from projections import Books, ProjectionError, state_hash
from projections.replay import ensure_snapshots
from projections.snapshots import load_snapshot

REPO_ROOT = Path(__file__).resolve().parents[2]
CHUNK = 500  # demo steps per recording transaction


def record_day(ledger, seed: int = 7, orders: int = 12) -> int:
    """Record a demo day into `ledger`; another seed on the same ledger adds a second day's orders on the
    same accounts (without its funding payment, whose reference every seed shares)."""
    day = DemoDay(seed=seed, orders=orders)
    ledger.clock = day.clock
    steps = [s for s in day.steps() if seed == 7 or s.kwargs.get("reason") != "FUNDING"]
    for start in range(0, len(steps), CHUNK):
        with ledger.batch() as batch:
            for step in steps[start : start + CHUNK]:
                day.now_ns = step.ts_event
                getattr(batch, step.method)(*step.args, **step.kwargs)
    return ledger.head()


def tables_for(ledger):
    tables = MemoryReadTables() if ledger.store_url.startswith("memory") else open_read_tables(ledger)
    return tables


def assert_tables_equal_fold(tables, ledger, until: int | None = None) -> None:
    """Every row of every table equals the books folded from the log (up to `until`), and nothing more."""
    books = Books.of(e for _, e in ledger.read(until=until))
    assert tables.position() == (until if until is not None else ledger.head())
    assert tables.orders() == books.order_views()
    assert [(r.account_id, r.symbol, r.position) for r in tables.positions()] == [
        (*k, books.position(*k)) for k in books.position_keys()]  # fmt: skip
    assert [(r.account_id, r.asset_id, r.balance) for r in tables.balances()] == [
        (*k, books.balance(*k)) for k in books.balance_keys()]  # fmt: skip
    assert tables.accounts() == books.account_states()
    # the typed columns agree with the models (what `ledger query` filters on)
    for account_id in (SPOT, PERP):
        assert tables.orders(account_id, open_only=True) == books.order_views(account_id, open_only=True)
        assert [r.position for r in tables.positions(account_id, open_only=True)] == books.positions(
            account_id, open_only=True)  # fmt: skip
        assert [r.balance for r in tables.balances(account_id)] == books.balances(account_id)
        assert tables.accounts(account_id) == [books.account_state(account_id)]
    assert tables.orders(symbol="ETHUSDT") == [v for v in books.order_views() if v.order.symbol == "ETHUSDT"]
    for view in books.order_views()[::5]:  # one order by its key (`ledger query orders --order`)
        assert tables.orders(view.account_id, intent_id=view.intent_id) == [view]


@pytest.fixture
def ledger(store_url, open_ledger):
    return open_ledger(store_url)


def test_project_equals_a_clean_fold_and_a_rerun_writes_nothing(ledger):
    tables = tables_for(ledger)
    head = record_day(ledger)
    batches = []
    assert project(ledger, tables=tables, batch_size=40, on_batch=batches.append) == head
    assert_tables_equal_fold(tables, ledger)
    assert sum(b.events for b in batches) == len(list(ledger.read())) and batches[-1].position == head
    assert all(b.events <= 40 and b.first_id <= b.position and len(b.recorded_ns) == b.events for b in batches)

    again = []
    assert project(ledger, tables=tables, on_batch=again.append) == head
    assert again == []  # nothing new: nothing written, the tracking position unchanged
    assert tables.position() == head

    head2 = record_day(ledger, seed=8, orders=10)  # more events on the same accounts
    assert head2 > head
    assert project(ledger, tables=tables, batch_size=7, on_batch=again.append) == head2
    assert again[0].first_id > head and sum(b.events for b in again) == len(list(ledger.read(after=head)))
    assert_tables_equal_fold(tables, ledger)
    tables.close()


def test_tables_not_built_say_so(ledger):
    tables = tables_for(ledger)
    for read in (tables.position, tables.orders, tables.positions, tables.balances, tables.accounts):
        with pytest.raises(ReadTablesError, match="not built yet: run `ledger project`"):
            read()
    tables.create()
    assert (tables.position(), tables.orders(), tables.positions(), tables.accounts()) == (0, [], [], [])
    tables.close()


@pytest.mark.parametrize("batch_size", [1, 23, 5000])
def test_any_batch_size_gives_the_same_tables(sqlite_url, open_ledger, batch_size):
    ledger = open_ledger(sqlite_url)
    record_day(ledger, orders=10)
    assert project(ledger, batch_size=batch_size) == ledger.head()
    with open_read_tables(ledger) as tables:
        assert_tables_equal_fold(tables, ledger)


def test_batches_cut_short_by_time_commit_what_they_folded(memory_url, open_ledger):
    ledger = open_ledger(memory_url)
    record_day(ledger, orders=40)
    tables, batches = MemoryReadTables(), []
    project(ledger, tables=tables, batch_size=1000, max_batch_s=0.0, on_batch=batches.append)
    assert {b.events for b in batches[:-1]} == {256}  # cut at the first look at the clock
    assert_tables_equal_fold(tables, ledger)


@pytest.mark.parametrize("url_fixture", ["sqlite_url", pytest.param("pg_url", marks=pytest.mark.postgres)])
def test_a_failed_write_rolls_back_the_rows_with_the_tracking(url_fixture, request, open_ledger):
    ledger = open_ledger(request.getfixturevalue(url_fixture))
    tables = tables_for(ledger)
    record_day(ledger, orders=10)
    project(ledger, tables=tables, batch_size=100)
    before = (tables.position(), tables.orders(), tables.accounts())
    head = record_day(ledger, seed=9, orders=10)

    def crash(*args):
        write_rows(*args)
        raise OSError("disk on fire")

    write_rows, tables._write_rows = tables._write_rows, crash  # the rows are written, then it fails
    with pytest.raises(OSError, match="disk on fire"):
        project(ledger, tables=tables, batch_size=100_000)
    assert (tables.position(), tables.orders(), tables.accounts()) == before
    del tables._write_rows
    assert project(ledger, tables=tables) == head
    assert_tables_equal_fold(tables, ledger)
    tables.close()


def test_a_restart_rebuilds_the_books_from_the_nearest_snapshot(ledger):
    tables = tables_for(ledger)
    head = record_day(ledger, orders=30)
    assert ensure_snapshots(ledger, every=50, cutoff=None)
    stop = Stop()  # one batch of 75 events, then stop: the tables end between two snapshots
    assert project(ledger, tables=tables, batch_size=75, stop=stop, on_batch=lambda _: stop.set()) == tables.position()
    position = tables.position()
    snapshot = load_snapshot(ledger, position)
    assert snapshot is not None and 0 < snapshot.position < position
    assert state_hash(books_at(ledger, position, Stop())) == state_hash(fold_log(ledger, position, Stop()))
    loaded = []

    def spy(ledger, position, stop):
        loaded.append(position)
        return books_at(ledger, position, stop)

    assert project(ledger, tables=tables, load_books=spy) == head
    assert loaded == [position]
    assert_tables_equal_fold(tables, ledger)
    tables.close()


def test_an_event_the_books_cannot_fold_stops_the_projector_where_it_is(sqlite_url, open_ledger):
    ledger = open_ledger(sqlite_url)
    good = record_day(ledger, orders=8)
    # Written behind the kernel's back: an order event for an order that was never placed.
    ghost = ev.OrderExpired(account_id=SPOT, intent_id="ghost", ts_event=1, ts_recorded=1)
    ledger.recorder.insert_events([ledger.mapper.to_stored_event(Envelope(order_stream_id(SPOT, "ghost"), 1, ghost))])
    record_day(ledger, seed=8, orders=8)
    for _ in range(2):  # and again: never skipped
        with pytest.raises(ProjectionError, match=f"notification {good + 1}: .*ghost"):
            project(ledger, batch_size=10_000)
        with open_read_tables(ledger) as tables:
            assert_tables_equal_fold(tables, ledger, until=good)  # what came before it is committed


def test_two_writers_on_one_set_of_tables_conflict(sqlite_url, open_ledger):
    ledger = open_ledger(sqlite_url)
    record_day(ledger, orders=10)
    with open_read_tables(ledger) as first, open_read_tables(ledger) as second:
        first.create()
        assert first.position() == second.position() == 0
        books = Books.of(e for _, e in ledger.read())
        first.write(books, books.take_changes(), ledger.head(), {})  # no history: only the tracking matters here
        with pytest.raises(TrackingConflict):
            second.write(books, books.take_changes(), ledger.head(), {})
        assert second.position() == ledger.head()  # re-read: it may go on from there


def test_tables_ahead_of_the_log_are_refused(memory_url, open_ledger):
    longer, shorter = open_ledger(memory_url), open_ledger(memory_url)
    record_day(longer, orders=12)
    record_day(shorter, orders=8)
    tables = MemoryReadTables()
    project(longer, tables=tables)
    with pytest.raises(ReadTablesError, match="beyond the log's head"):
        project(shorter, tables=tables)
    tables.reset()
    assert project(shorter, tables=tables) == shorter.head()
    assert_tables_equal_fold(tables, shorter)


def test_follow_in_a_thread_stops_when_asked(memory_url, open_ledger):
    ledger = open_ledger(memory_url)
    record_day(ledger, orders=8)
    tables, stop, result = MemoryReadTables(), Stop(), []
    thread = threading.Thread(target=lambda: result.append(project(ledger, tables=tables, follow=True, stop=stop)))
    thread.start()
    try:
        wait_until(lambda: tables.tracking == ledger.head())
        head = record_day(ledger, seed=8, orders=8)
        wait_until(lambda: tables.tracking == head)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive() and result == [head]
    assert_tables_equal_fold(tables, ledger)


# ------------------------------------------------------------------------------------ other processes
def wait_until(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def tracked(tables) -> int:
    try:
        return tables.position()
    except ReadTablesError:  # not created yet
        return -1


def spawn(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


@pytest.mark.postgres
def test_sigkill_mid_batch_then_restart_equals_a_clean_replay(pg_url, open_ledger):
    ledger = open_ledger(pg_url)
    head = record_day(ledger, orders=500)  # a few thousand events
    assert head > 2500
    # The projector announces each batch once its rows are written, still inside the transaction, and
    # hangs in the 5th: killed there, the batch's rows and its tracking must both vanish.
    proc = spawn(f"""
        import sys, time
        from adapters.projector import project
        from adapters.read_tables.postgres import PostgresReadTables
        write_rows, batches = PostgresReadTables._write_rows, []
        def announce(self, cur, rows):
            write_rows(self, cur, rows)
            batches.append(len(rows))
            print("in-transaction", len(batches), flush=True)
            time.sleep(60 if len(batches) == 5 else 0)
        PostgresReadTables._write_rows = announce
        project({pg_url!r}, follow=True, batch_size=300, max_batch_s=60)
    """)
    try:
        for line in proc.stdout:
            if line.strip() == "in-transaction 5":
                break
        else:
            raise AssertionError(f"the projector ended early: {proc.stderr.read()}")
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
    with open_read_tables(ledger) as tables:
        position = tables.position()
        assert position == [n for n, _ in ledger.read()][4 * 300 - 1] < head
        assert_tables_equal_fold(tables, ledger, until=position)  # 4 batches committed, the 5th not at all
        assert project(pg_url) == head  # restarted, not following
        assert_tables_equal_fold(tables, ledger)


@pytest.mark.parametrize(("url_fixture", "sig"), [
    ("sqlite_url", signal.SIGTERM), ("sqlite_url", signal.SIGINT),
    pytest.param("pg_url", signal.SIGTERM, marks=pytest.mark.postgres),
])  # fmt: skip
def test_follow_picks_up_new_events_and_stops_on_a_signal(url_fixture, sig, request, open_ledger):
    url = request.getfixturevalue(url_fixture)
    ledger = open_ledger(url)
    record_day(ledger, orders=10)
    # On PostgreSQL the safety-net poll is an hour away: only the LISTEN can wake the projector in time.
    poll = 3600 if url_fixture == "pg_url" else 0.05
    proc = spawn(f"""
        from adapters.projector import project
        print("reached", project({url!r}, follow=True, poll_interval_s={poll}), flush=True)
    """)
    try:
        with open_read_tables(ledger) as tables:
            wait_until(lambda: tracked(tables) == ledger.head(), what="the first catch-up")
            for seed in (8, 9):  # appended while it follows, in two separate waves
                head = record_day(ledger, seed=seed, orders=10)
                wait_until(lambda head=head: tracked(tables) == head, timeout=10, what=f"events of seed {seed}")
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=10)
            assert proc.returncode == 0, err
            assert out.split() == ["reached", str(head)]
            assert_tables_equal_fold(tables, ledger)
    finally:
        proc.kill()
        proc.wait()
