"""Several writers on one store: the same order, the same trade ids, at the same time.

The multi-process tests start two OS processes, each with its own `Ledger` on the same PostgreSQL
schema (or SQLite file), release them together, and let them record overlapping sets of fills for one
order. Whatever the interleaving, each trade is recorded exactly once and the stream stays contiguous.
The in-process tests replay the same races step by step with two `Ledger` objects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from kernel import events as ev
from kernel.errors import ConflictingFact, RequestRefused
from kernel.schema.order_spec import StandardOrderStatus as S
from kernel.streams import order_stream_id

from .concurrency_worker import fill_of
from .helpers import ACCOUNT, D, intent, live_order, log, names, open_spot_account

WORKER = Path(__file__).with_name("concurrency_worker.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=("sqlite", pytest.param("postgres", marks=pytest.mark.postgres)))
def shared_url(request) -> str:
    """A store two processes can open at once."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])


def stream_events(ledger, intent_id: str) -> list[tuple[int, ev.Event]]:
    """(version, event) of one order stream, straight from the store."""
    stored = ledger.recorder.select_events(order_stream_id(ACCOUNT, intent_id))
    return [(s.originator_version, ledger.mapper.decode(s)) for s in stored]


def race(url: str, tmp_path: Path, jobs: dict[str, dict]) -> dict[str, dict]:
    """Run one worker process per job, release them together, and return their reports.

    Workers are started (and open their ledgers) one after the other -- opening at once is a separate
    test -- then all wait on one go file, so the recording itself overlaps."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    go = tmp_path / "go"
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, job in jobs.items():
            ready = tmp_path / f"{name}.ready"
            job = {**job, "url": url, "account_id": ACCOUNT, "go": str(go), "ready": str(ready),
                   "out": str(tmp_path / f"{name}.json")}  # fmt: skip
            proc = procs[name] = subprocess.Popen([sys.executable, str(WORKER), json.dumps(job)], env=env,
                                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
            deadline = time.monotonic() + 60
            while not ready.exists():
                if proc.poll() is not None:
                    pytest.fail(f"worker {name} died before the race:\n{proc.stdout.read().decode()}")
                assert time.monotonic() < deadline, f"worker {name} never got ready"
                time.sleep(0.01)
        go.touch()  # the barrier: every worker is connected and spinning on this file
        for name, proc in procs.items():
            out, _ = proc.communicate(timeout=120)
            report = tmp_path / f"{name}.json"
            assert proc.returncode == 0, f"worker {name} failed:\n{out.decode()}\n" + (
                report.read_text() if report.exists() else "")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {name: json.loads((tmp_path / f"{name}.json").read_text()) for name in jobs}


def test_two_processes_record_overlapping_fills_exactly_once(shared_url, tmp_path, open_ledger):
    a_numbers = list(range(100, 200)) + list(range(0, 100))  # the contested ids first, at the same time
    b_numbers = list(range(100, 200)) + list(range(200, 300))
    distinct = sorted(set(a_numbers) | set(b_numbers))
    total = sum(fill_of(n)[1] for n in distinct)
    notional = sum(fill_of(n)[1] * fill_of(n)[2] for n in distinct)

    setup = open_ledger(shared_url)
    open_spot_account(setup)
    live_order(setup, "race", str(total), "101")
    head_before = setup.head()
    assert len(log(setup)) == 5

    reports = race(shared_url, tmp_path, {
        "A": {"intent_id": "race", "trade_numbers": a_numbers, "batch_every": 3},
        "B": {"intent_id": "race", "trade_numbers": b_numbers, "batch_every": 4},
    })  # fmt: skip

    a, b = reports["A"], reports["B"]
    assert a["started"] < b["ended"] and b["started"] < a["ended"], "the two writers did not overlap"
    print(f"insert conflicts: A {a['insert_conflicts']}, B {b['insert_conflicts']}; "
          f"gave up and retried: A {a['concurrency_errors']}, B {b['concurrency_errors']}")

    check = open_ledger(shared_url)
    stream = stream_events(check, "race")
    assert [version for version, _ in stream] == list(range(1, len(stream) + 1))  # contiguous 1..N
    fills = [e for _, e in stream if isinstance(e, ev.OrderFilled)]
    counts = Counter(f.trade_id for f in fills)
    assert sorted(counts) == sorted(f"t{n}" for n in distinct)
    assert set(counts.values()) == {1}, {t: c for t, c in counts.items() if c != 1}
    assert len(stream) == 3 + len(distinct)  # placed, submitted, accepted, one event per trade
    for f in fills:
        _, qty, price = fill_of(int(f.trade_id[1:]))
        assert (f.quantity, f.price) == (qty, price)

    order = check.order(ACCOUNT, "race")
    assert order.filled_quantity == total
    assert order.filled_notional == notional
    assert order.status is S.FILLED
    assert order.anomalies == []

    entries = log(check)
    ids = [n for n, _ in entries]
    # PostgreSQL's ids have gaps where a conflicting insert rolled back: count entries, not ids.
    assert len(entries) == len(log(setup)) == 5 + len(distinct)
    assert ids[-1] == check.head() and ids[4] == head_before
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # every single-call fill that a racer was told it recorded is in the store
    for report in reports.values():
        assert set(report["claimed"]) <= set(counts)


def test_two_processes_place_intents_and_fill_across_orders(shared_url, tmp_path, open_ledger):
    """Both racers fill two orders; the account stream and both order streams stay whole."""
    setup = open_ledger(shared_url)
    open_spot_account(setup)
    live_order(setup, "o1", "100", "101")
    live_order(setup, "o2", "100", "101")
    reports = race(shared_url, tmp_path, {
        "A1": {"intent_id": "o1", "trade_numbers": list(range(0, 60)), "batch_every": 2},
        "B1": {"intent_id": "o1", "trade_numbers": list(range(30, 90)), "batch_every": 0},
        "A2": {"intent_id": "o2", "trade_numbers": list(range(0, 40)), "batch_every": 1},
    })  # fmt: skip
    assert all(r["error"] is None for r in reports.values())
    check = open_ledger(shared_url)
    for intent_id, numbers in (("o1", range(0, 90)), ("o2", range(0, 40))):
        stream = stream_events(check, intent_id)
        assert [v for v, _ in stream] == list(range(1, len(stream) + 1))
        trade_ids = [e.trade_id for _, e in stream if isinstance(e, ev.OrderFilled)]
        assert sorted(trade_ids) == sorted(f"t{n}" for n in numbers)
        assert check.order(ACCOUNT, intent_id).filled_quantity == sum(fill_of(n)[1] for n in numbers)


def test_big_batches_race_single_calls(shared_url, tmp_path, open_ledger):
    """Batches of 75 fills (PostgreSQL writes them by COPY) against single calls for the same trades."""
    setup = open_ledger(shared_url)
    open_spot_account(setup)
    numbers = list(range(150))
    live_order(setup, "big", str(sum(fill_of(n)[1] for n in numbers)), "101")
    reports = race(shared_url, tmp_path, {
        "batches": {"intent_id": "big", "trade_numbers": numbers, "batch_every": 1, "chunk": 75},
        "singles": {"intent_id": "big", "trade_numbers": numbers, "batch_every": 0},
    })  # fmt: skip
    assert all(r["error"] is None for r in reports.values())
    check = open_ledger(shared_url)
    stream = stream_events(check, "big")
    assert [v for v, _ in stream] == list(range(1, len(stream) + 1))
    trade_ids = [e.trade_id for _, e in stream if isinstance(e, ev.OrderFilled)]
    assert sorted(trade_ids) == sorted(f"t{n}" for n in numbers)
    order = check.order(ACCOUNT, "big")
    assert (order.status, order.anomalies) == (S.FILLED, [])


def open_at_once(url: str, writers: int = 6) -> list[str]:
    """Open `writers` ledgers on `url` at the same moment (threads); the errors, one line each."""
    from kernel.ledger import Ledger

    barrier = threading.Barrier(writers)
    errors: list[str] = []

    def open_and_close() -> None:
        barrier.wait()
        try:
            Ledger.open(url).close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")

    threads = [threading.Thread(target=open_and_close) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_many_writers_open_an_existing_store_at_once(shared_url, open_ledger):
    """Every service process opens the store when it starts; several start together (a deploy)."""
    open_spot_account(open_ledger(shared_url))  # tables exist
    for _ in range(3):
        assert open_at_once(shared_url) == []
    assert open_ledger(shared_url).account(ACCOUNT) is not None


def test_many_writers_open_a_new_store_at_once(shared_url):
    assert open_at_once(shared_url) == []


# ------------------------------------------------------------------------------ step by step, in-process
@pytest.fixture
def two_writers(shared_url, open_ledger):
    """Two ledgers on one store; `second` has the order cached at its current version."""
    first = open_ledger(shared_url)
    second = open_ledger(shared_url)
    open_spot_account(first)
    live_order(first, "i1", "10", "100")
    second.record_fill(ACCOUNT, "i1", trade_id="t0", quantity="1", price="100", ts_event=20)  # caches i1
    return first, second


def test_stale_writer_records_a_new_fill(two_writers):
    first, second = two_writers
    first.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    recorded = second.record_fill(ACCOUNT, "i1", trade_id="t2", quantity="1", price="100", ts_event=22)
    assert names(recorded) == ["OrderFilled"]
    order = first.order(ACCOUNT, "i1")
    assert sorted(order.fills) == ["t0", "t1", "t2"]
    assert order.filled_quantity == D("3")


def test_stale_writer_does_not_record_a_duplicate(two_writers):
    first, second = two_writers
    first.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    head = first.head()
    second.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    assert first.head() == head
    assert first.order(ACCOUNT, "i1").filled_quantity == D("2")


def test_stale_writer_reports_a_duplicate_as_nothing_recorded(two_writers):
    """Commands return "the events recorded; an empty tuple means a duplicate" (kernel/commands.py).

    Here the second writer's cache is stale, so it first decides to record t1; the insert conflicts and
    the decision, taken again on fresh state, records nothing. It must then say so."""
    first, second = two_writers
    first.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    head = first.head()
    returned = second.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    assert first.head() == head  # nothing was recorded ...
    assert returned == ()  # ... so nothing may be reported as recorded


def test_stale_writer_refuses_a_conflicting_duplicate(two_writers):
    first, second = two_writers
    first.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    head = first.head()
    with pytest.raises(ConflictingFact):
        second.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="2", price="100", ts_event=21)
    assert first.head() == head


def test_failed_retry_of_a_batch_leaves_no_unrecorded_fact_behind(two_writers):
    """A batch whose retry (after a conflict) is refused records nothing -- and must not leave the
    writer believing that the batch's other facts were recorded."""
    first, second = two_writers
    first.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=21)
    head = first.head()
    with pytest.raises(ConflictingFact):
        with second.batch() as batch:
            batch.record_fill(ACCOUNT, "i1", trade_id="tX", quantity="0.5", price="100", ts_event=22)
            # second has not seen t1: it conflicts only on the retry, after the insert failed
            batch.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="2", price="100", ts_event=21)
    assert first.head() == head  # the batch recorded nothing
    assert "tX" not in first.order(ACCOUNT, "i1").fills
    # tX was never recorded, so the same writer must record it now rather than call it a duplicate.
    assert names(second.record_fill(ACCOUNT, "i1", trade_id="tX", quantity="0.5", price="100",
                                    ts_event=22)) == ["OrderFilled"]  # fmt: skip
    assert first.order(ACCOUNT, "i1").fills["tX"] == (Decimal("0.5"), Decimal("100"))


def test_stale_writer_sees_an_intent_placed_elsewhere(two_writers):
    first, second = two_writers
    assert second.place_intent(ACCOUNT, intent("i2")) != ()
    with pytest.raises(RequestRefused, match="already exists"):
        first.place_intent(ACCOUNT, intent("i2"))  # first never looked at i2 before
    first.place_intent(ACCOUNT, intent("i3"))
    with pytest.raises(RequestRefused, match="already exists"):
        second.place_intent(ACCOUNT, intent("i3"))
    placed = [e.intent_id for _, e in log(first) if isinstance(e, ev.IntentPlaced)]
    assert placed == ["i1", "i2", "i3"]
