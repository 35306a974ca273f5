"""Snapshots: a deterministic, code-free encoding of the whole books; a snapshot plus the tail of the log
folds to exactly the full fold; `state_at` from the nearest snapshot equals a replay; `ensure_snapshots`
writes what is missing and nothing twice."""

from __future__ import annotations

import copy
import pickle
import zlib

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st
from replay_history import record_demo

from kernel.ledger import Ledger
from kernel.order import Order
from projections import Books, state_hash
from projections.replay import ensure_snapshots, position_at, replay, state_at
from projections.snapshots import (
    SNAPSHOT_STREAM_ID,
    SNAPSHOT_TOPIC,
    RestoredOrder,
    SnapshotError,
    check_codec,
    decode_books,
    encode_books,
    load_snapshot,
    save_snapshot,
    snapshot_positions,
)

DEMO_EVENTS = 264  # the demo day (seed 7, 40 orders)


@pytest.fixture(scope="module")
def demo() -> tuple[Ledger, list, Books]:
    ledger = record_demo()
    log = list(ledger.read())
    assert len(log) == DEMO_EVENTS
    return ledger, log, Books.of(e for _, e in log)


def fresh_demo() -> Ledger:
    return record_demo()


# ------------------------------------------------------------------------------------------ the codec
def test_the_codec_knows_every_field_of_the_books():
    check_codec()


def test_the_codec_refuses_books_holding_something_it_does_not_know():
    books = Books()
    books.extra = {}  # type: ignore[attr-defined]
    with pytest.raises(SnapshotError, match="unknown \\['extra'\\]"):
        encode_books(books)


@given(cut=st.integers(0, DEMO_EVENTS))
def test_snapshot_plus_tail_is_the_full_fold(demo, cut):
    _, log, full = demo
    head = Books.of(e for _, e in log[:cut])
    data = encode_books(head)
    restored = decode_books(data)
    assert encode_books(restored) == data  # nothing lost, nothing reordered
    restored.apply_all(e for _, e in log[cut:])
    assert encode_books(restored) == encode_books(full)
    assert state_hash(restored) == state_hash(full)


def test_the_encoding_does_not_depend_on_dict_order(demo):
    _, _, full = demo
    shuffled = decode_books(encode_books(full))
    for name in ("orders", "open_orders", "accounts", "position_books", "balance_books", "reserved"):
        setattr(shuffled, name, dict(reversed(getattr(shuffled, name).items())))
    for order in shuffled.orders.values():
        order.fees = dict(reversed(order.fees.items()))
        order.fills = dict(reversed(order.fills.items()))
    assert encode_books(shuffled) == encode_books(full)


def test_the_restored_open_orders_are_the_orders_themselves(demo):
    _, log, _ = demo
    restored = decode_books(encode_books(Books.of(e for _, e in log[:120])))
    open_orders = [(a, i, o) for a, by_intent in restored.open_orders.items() for i, o in by_intent.items()]
    assert open_orders and all(restored.orders[(a, i)] is o for a, i, o in open_orders)
    assert restored.take_changes().orders == ()  # nothing pending for a read table


def test_bytes_that_are_not_a_snapshot_are_refused():
    with pytest.raises(SnapshotError, match="not a BooksSnapshot"):
        decode_books(b"\x80\x04K\x01.")  # a pickle of 1: never executed, refused as not a snapshot


# ------------------------------------------------------------------------------------------ restored orders
def _restored(log: list, cut: int = 150) -> tuple[Books, bytes]:
    data = encode_books(Books.of(e for _, e in log[:cut]))
    return decode_books(data), data


def test_restored_orders_sleep_until_used_and_then_are_the_orders_encoded(demo):
    _, log, _ = demo
    restored, data = _restored(log)
    orders = list(restored.orders.values())
    assert orders and all(isinstance(o, RestoredOrder) and o.asleep() for o in orders)
    original = Books.of(e for _, e in log[:150]).orders
    first, second = orders[0], orders[1]
    key = (first.account_id, first.intent_id)
    assert first.filled_quantity == original[key].filled_quantity  # a read wakes it
    assert not first.asleep() and second.asleep()
    for name in Order.__slots__:
        assert getattr(first, name) == getattr(original[key], name), name
    assert encode_books(restored) == data  # woken or asleep, the same bytes


def test_a_write_to_a_sleeping_order_wakes_it_first(demo):
    _, log, _ = demo
    restored, _ = _restored(log)
    order = next(iter(restored.orders.values()))
    version = Books.of(e for _, e in log[:150]).orders[(order.account_id, order.intent_id)].version
    order.cancel_requests = 99  # written while asleep: the rest is decoded first, then the write stands
    assert (order.cancel_requests, order.version, order.asleep()) == (99, version, False)


def test_a_missing_attribute_of_a_restored_order_is_an_attribute_error(demo):
    _, log, _ = demo
    order = next(iter(_restored(log)[0].orders.values()))
    assert not hasattr(order, "no_such_field")
    assert not order.asleep()  # looking woke it; it is whole
    with pytest.raises(AttributeError, match="no_such_field"):
        order.no_such_field  # noqa: B018


@pytest.mark.parametrize("dump", [copy.deepcopy, lambda b: pickle.loads(pickle.dumps(b))])
def test_restored_books_copy_and_fold_on_like_the_original(demo, dump):
    _, log, full = demo
    restored, _ = _restored(log)
    copied = dump(restored)
    copied.apply_all(e for _, e in log[150:])
    assert state_hash(copied) == state_hash(full)


# ------------------------------------------------------------------------------------------ the store
def test_a_snapshot_is_a_stored_event_of_plain_data(demo):
    ledger, full = fresh_demo(), demo[2]
    assert save_snapshot(ledger, full, DEMO_EVENTS)
    (stored,) = ledger.snapshot_recorder().select_events(SNAPSHOT_STREAM_ID)
    assert (stored.originator_version, stored.topic) == (DEMO_EVENTS, SNAPSHOT_TOPIC)
    data = zlib.decompress(stored.state)  # compressed: the memory store has no compressor of its own
    assert isinstance(msgspec.msgpack.decode(data), list)  # MessagePack data, no code
    assert data == encode_books(full) and len(stored.state) < len(data)


def test_a_snapshot_that_does_not_inflate_is_refused():
    ledger = fresh_demo()
    ledger.snapshot_recorder().insert_events([StoredEvent(SNAPSHOT_STREAM_ID, 10, SNAPSHOT_TOPIC, b"not zlib")])
    with pytest.raises(SnapshotError, match="snapshot at 10 does not inflate"):
        load_snapshot(ledger, 20)


def test_saving_is_idempotent_and_a_lost_race_is_already_there(demo, monkeypatch):
    ledger, full = fresh_demo(), demo[2]
    assert save_snapshot(ledger, full, 10) is True
    assert save_snapshot(ledger, full, 10) is False
    recorder = ledger.snapshot_recorder()
    select = recorder.select_events
    # As if another process wrote it between our look and our insert: the store's key refuses the row.
    monkeypatch.setattr(recorder, "select_events", lambda *a, **k: [])
    assert save_snapshot(ledger, full, 10) is False
    assert [s.originator_version for s in select(SNAPSHOT_STREAM_ID)] == [10]
    with pytest.raises(ValueError):
        save_snapshot(ledger, full, 0)


def test_the_nearest_snapshot_at_or_before_a_position(demo):
    ledger, log = fresh_demo(), demo[1]
    for position in (50, 100):
        save_snapshot(ledger, Books.of(e for i, e in log if i <= position), position)
    assert load_snapshot(ledger, 49) is None and load_snapshot(ledger, 0) is None
    assert load_snapshot(ledger, 50).position == 50  # type: ignore[union-attr]
    assert load_snapshot(ledger, 99).position == 50  # type: ignore[union-attr]
    assert load_snapshot(ledger, 100).position == 100  # type: ignore[union-attr]
    assert load_snapshot(ledger).position == 100  # type: ignore[union-attr]
    found = load_snapshot(ledger, 75)
    assert found is not None and found.books.events_applied == 50


def test_snapshots_go_through_the_stores_compressor():
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
    ledger = record_demo(Ledger(env))
    full = replay(ledger).books
    assert save_snapshot(ledger, full, ledger.head())
    (stored,) = ledger.snapshot_recorder().select_events(SNAPSHOT_STREAM_ID)
    assert stored.state != encode_books(full) and len(stored.state) < len(encode_books(full))
    assert state_hash(load_snapshot(ledger).books) == state_hash(full)  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------ as-of
def test_state_at_every_position_equals_a_replay_to_it():
    ledger = fresh_demo()
    assert ensure_snapshots(ledger, every=40) == [40, 80, 120, 160, 200, 240]
    for position in range(DEMO_EVENTS + 2):
        as_of, replayed = state_at(ledger, position=position), replay(ledger, until_position=position)
        assert as_of.position == replayed.position == min(position, DEMO_EVENTS)
        assert encode_books(as_of.books) == encode_books(replayed.books)
        if position % 37 == 0:
            assert state_hash(as_of.books) == state_hash(replayed.books)


def test_state_at_a_time_is_the_state_at_its_position(demo):
    ledger, log, full = demo
    first, last = log[0][1].ts_recorded, log[-1][1].ts_recorded
    assert state_at(ledger, ts_ns=first - 1).position == 0
    assert state_hash(state_at(ledger, ts_ns=last).books) == state_hash(full)
    middle = log[100][1].ts_recorded
    position = position_at(ledger, middle)
    assert position >= 101
    assert encode_books(state_at(ledger, ts_ns=middle).books) == encode_books(state_at(ledger, position=position).books)
    assert state_at(ledger).position == DEMO_EVENTS
    with pytest.raises(ValueError, match="not both"):
        state_at(ledger, position=1, ts_ns=1)


def test_ensure_snapshots_writes_what_is_missing_and_resumes():
    ledger = fresh_demo()
    assert ensure_snapshots(ledger, every=100, until_position=150) == [100]
    assert ensure_snapshots(ledger, every=100) == [200]  # resumed from the snapshot at 100
    assert ensure_snapshots(ledger, every=100) == []
    assert ensure_snapshots(ledger, every=50) == [250]  # resumes from 200: 50 and 150 are left
    assert ensure_snapshots(ledger, every=50, rescan=True) == [50, 150]
    assert snapshot_positions(ledger) == [50, 100, 150, 200, 250]
    # filled in after 250: the nearest at or before a position is still found
    assert [load_snapshot(ledger, p).position for p in (60, 160, 199, 266)] == [50, 150, 150, 250]  # type: ignore[union-attr]
    assert ensure_snapshots(ledger, every=0, cutoff=None, rescan=True) == []
    with pytest.raises(ValueError):
        ensure_snapshots(ledger, every=-1)
