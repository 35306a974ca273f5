"""Batches, reading the log and durability, run on memory://, a SQLite file and a PostgreSQL schema (`store_url`)."""

from __future__ import annotations

import itertools

import pytest

from kernel import events as ev
from kernel.errors import ConflictingFact, RequestRefused
from kernel.schema.order_spec import StandardOrderStatus as S

from .helpers import ACCOUNT, D, assert_nothing_recorded, intent, live_order, log, names, open_spot_account, order_spec


# ------------------------------------------------------------------------------------ batches
def test_batch_records_everything_together(ledger):
    live_order(ledger, "i1", "1")
    head = ledger.head()
    with ledger.batch() as batch:
        batch.place_intent(ACCOUNT, intent("i2", "2"))
        batch.start_submission(ACCOUNT, "i2", client_order_id="c2", ts_event=11)
        batch.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20)
        batch.record_fill(ACCOUNT, "i1", trade_id="t2", quantity="0.5", price="100", ts_event=20)
        assert batch.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20) == ()
        assert ledger.head() == head  # nothing is visible before the block ends
    entries = log(ledger)[head:]
    assert [n for n, _ in entries] == list(range(head + 1, head + 5))
    assert names(e for _, e in entries) == ["IntentPlaced", "SubmissionStarted", "OrderFilled", "OrderFilled"]
    assert ledger.order(ACCOUNT, "i1").status is S.FILLED
    assert ledger.order(ACCOUNT, "i2").status is S.PENDING_NEW


def test_batch_is_atomic(ledger):
    live_order(ledger, "i1", "1")
    head = ledger.head()
    with pytest.raises(RuntimeError, match="boom"):
        with ledger.batch() as batch:
            batch.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20)
            batch.place_intent(ACCOUNT, intent("i2"))
            raise RuntimeError("boom")
    assert_nothing_recorded(ledger, head)
    assert ledger.order(ACCOUNT, "i2") is None
    assert ledger.order(ACCOUNT, "i1").filled_quantity == D("0")
    # The fill was not recorded, so it is not a duplicate now: the ledger records it.
    assert names(ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100",
                                    ts_event=20)) == ["OrderFilled"]  # fmt: skip
    assert ledger.place_intent(ACCOUNT, intent("i2")) != ()


def test_batch_with_a_refused_request_records_nothing(ledger):
    live_order(ledger, "i1", "1")
    head = ledger.head()
    with pytest.raises(RequestRefused):
        with ledger.batch() as batch:
            batch.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20)
            batch.place_intent(ACCOUNT, intent("i1"))  # already exists
    assert_nothing_recorded(ledger, head)
    assert names(ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100",
                                    ts_event=20)) == ["OrderFilled"]  # fmt: skip


# ------------------------------------------------------------------------------------ reading the log
def test_read_pages_give_the_log_in_order(ledger):
    live_order(ledger, "i1", "10")
    for i in range(7):
        ledger.record_fill(ACCOUNT, "i1", trade_id=f"t{i}", quantity="1", price=str(100 + i), ts_event=20 + i)
    full = log(ledger)
    assert len(full) == ledger.head() == 12
    ids = [n for n, _ in full]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert names(e for _, e in full)[:5] == ["AccountOpened", "AssetRegistered", "IntentPlaced",
                                             "SubmissionStarted", "OrderAccepted"]  # fmt: skip
    assert [e.trade_id for _, e in full[5:]] == [f"t{i}" for i in range(7)]
    for page_size in (1, 2, 5, 12, 1000):
        assert list(ledger.read(page_size=page_size)) == full, page_size
        assert list(ledger.read(after=ids[3], page_size=page_size)) == full[4:], page_size
        assert list(ledger.read(after=ids[3], until=ids[8], page_size=page_size)) == full[4:9], page_size
    assert list(ledger.read(after=ids[-1])) == []


def test_same_history_on_every_backend(memory_url, sqlite_url, pg_url, open_ledger):
    """With a fixed clock, the three stores keep the very same events in the very same order."""

    def scenario(url: str) -> list[bytes]:
        ticks = itertools.count(1_700_000_000_000_000_000, 1000)
        ledger = open_ledger(url, clock=lambda: next(ticks))
        open_spot_account(ledger)
        live_order(ledger, "i1", "0.3", "100")
        ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.1", price="100", ts_event=20)
        ledger.record_fill(ACCOUNT, None, trade_id="e1", quantity="1", price="7", ts_event=21,
                           exchange_order_id="EX1", order=order_spec("1", "7"))  # fmt: skip
        with ledger.batch() as batch:
            batch.record_fill(ACCOUNT, "i1", trade_id="t2", quantity="0.2", price="100.5", ts_event=22)
            batch.adjust_balance(ACCOUNT, asset_id="USDT", amount="-0.01", reason="CORRECTION", ts_event=23)
        return [ev.encode(e) for _, e in ledger.read()]

    stored = [scenario(url) for url in (memory_url, sqlite_url, pg_url)]
    assert len(stored[0]) == 10
    assert stored[0] == stored[1] == stored[2]


# ------------------------------------------------------------------------------------ durability
@pytest.fixture(params=("sqlite", pytest.param("postgres", marks=pytest.mark.postgres)))
def durable_url(request) -> str:
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])


def test_reopened_store_has_the_same_state(durable_url, open_ledger):
    first = open_ledger(durable_url)
    open_spot_account(first)
    live_order(first, "i1", "1")
    first.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.25", price="100", ts_event=20)
    first.record_fill(ACCOUNT, None, trade_id="e1", quantity="1", price="7", ts_event=21,
                      exchange_order_id="EX1", order=order_spec("3", "7"))  # fmt: skip
    before = log(first)
    order_before = first.order_state(ACCOUNT, "i1")
    first.close()

    again = open_ledger(durable_url)
    assert log(again) == before
    assert again.head() == len(before) == 8
    assert again.order_state(ACCOUNT, "i1") == order_before
    assert again.order(ACCOUNT, "i1").filled_quantity == D("0.25")
    assert again.order(ACCOUNT, "ext:EX1").filled_quantity == D("1")
    # The reopened ledger knows what was recorded: duplicates stay duplicates ...
    assert again.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.25", price="100", ts_event=20) == ()
    with pytest.raises(ConflictingFact):
        again.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.3", price="100", ts_event=20)
    with pytest.raises(RequestRefused, match="already exists"):
        again.place_intent(ACCOUNT, intent("i1"))
    # ... and new facts continue the same streams.
    again.record_fill(ACCOUNT, "i1", trade_id="t2", quantity="0.75", price="100", ts_event=22)
    assert again.order(ACCOUNT, "i1").status is S.FILLED
    assert again.order(ACCOUNT, "i1").version == 5
    assert again.head() == 9


def test_memory_store_is_per_ledger(memory_url, open_ledger):
    first = open_ledger(memory_url)
    open_spot_account(first)
    assert open_ledger(memory_url).head() == 0
