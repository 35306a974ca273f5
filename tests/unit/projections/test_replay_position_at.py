"""`position_at`: the last notification id recorded at or before a time, by binary search over ids (gaps
included), in O(log n) single-row reads; and the kernel's guarantee it rests on: one Ledger's
`ts_recorded` never goes backwards."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from replay_history import MS, NS, Clock, GappyRecorder, linear_position, ns, record_days, recorded_history

from kernel.ledger import Ledger
from projections.replay import ensure_snapshots, position_at, replay, state_at
from projections.snapshots import encode_books

T0 = ns("2026-03-06T09:00:00+00:00")
# Several events per moment (ties), moments seconds to days apart.
MOMENTS = [T0 + k * NS for k in range(5)] + [T0 + 3600 * NS * h for h in (2, 2, 30, 31, 80)] + [T0 + 90 * 3600 * NS]


@pytest.fixture(scope="module")
def history() -> tuple[Ledger, list]:
    return recorded_history(MOMENTS)


@given(offset=st.integers(-2 * NS, 92 * 3600 * NS))
def test_binary_search_matches_a_linear_scan(history, offset):
    ledger, log = history
    assert position_at(ledger, T0 + offset) == linear_position(log, T0 + offset)


def test_every_recorded_time_and_its_neighbours(history):
    ledger, log = history
    for ts in sorted({e.ts_recorded for _, e in log}):
        for t in (ts - 1, ts, ts + 1):
            assert position_at(ledger, t) == linear_position(log, t)


def test_before_the_first_event_is_0_and_after_the_last_is_the_head(history):
    ledger, log = history
    assert position_at(ledger, log[0][1].ts_recorded - 1) == 0
    assert position_at(ledger, 0) == 0 and position_at(ledger, -5) == 0
    assert position_at(ledger, log[-1][1].ts_recorded) == log[-1][0] == ledger.head()
    assert position_at(ledger, 2**64) == ledger.head()


def test_an_empty_log_answers_0():
    with Ledger.open("memory://") as ledger:
        assert position_at(ledger, T0) == 0


def test_a_time_is_integer_nanoseconds(history):
    with pytest.raises(TypeError):
        position_at(history[0], 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        position_at(history[0], True)


def test_it_costs_a_logarithmic_number_of_single_row_reads():
    clock = Clock()
    ledger = Ledger.open("memory://", clock=clock)
    record_days(ledger, clock, [T0 + k * MS for k in range(400)])  # ~1,000 events
    log = list(ledger.read())
    counting = GappyRecorder(ledger.recorder, gap=1)
    ledger.recorder = counting  # type: ignore[assignment]
    bound = 2 * math.ceil(math.log2(len(log))) + 2
    for ts in (T0 - 1, T0 + 137 * MS, T0 + 398 * MS + 1, T0 + 10**12):
        counting.calls = 0
        assert position_at(ledger, ts) == linear_position(log, ts)
        assert counting.calls <= bound


@pytest.mark.parametrize("gap", [2, 7])
def test_ids_with_gaps(gap):
    """PostgreSQL's ids can have holes (a rolled-back insert keeps its sequence value)."""
    clock = Clock()
    ledger = Ledger.open("memory://", clock=clock)
    record_days(ledger, clock, MOMENTS)
    ledger.recorder = GappyRecorder(ledger.recorder, gap=gap)  # type: ignore[assignment]
    log = list(ledger.read())
    assert [i for i, _ in log] == [gap * k for k in range(1, len(log) + 1)]
    for ts in sorted({t for _, e in log for t in (e.ts_recorded - 1, e.ts_recorded, e.ts_recorded + 1)}):
        assert position_at(ledger, ts) == linear_position(log, ts)
    assert ensure_snapshots(ledger, every=10, cutoff=None) == [gap * 10 * k for k in range(1, len(log) // 10 + 1)]
    for position in range(gap * len(log) + gap + 1):
        expected = replay(ledger, until_position=position)
        assert expected.position == gap * (min(position, gap * len(log)) // gap)
        got = state_at(ledger, position=position)
        assert got.position == expected.position and encode_books(got.books) == encode_books(expected.books)


def test_one_ledgers_stamps_never_go_backwards():
    readings = iter([T0 + 10, T0 + 20, T0 + 15, T0 + 30, T0 + 5, T0 + 31])
    ledger = Ledger.open("memory://", clock=lambda: next(readings))
    ledger.open_account("acc", exchange="x", account_type="SPOT", base_currency="USDT", ts_event=1)
    with ledger.batch() as batch:
        for n in range(5):
            batch.adjust_balance("acc", asset_id="USDT", amount="1", reason="DEPOSIT", ts_event=2, reference=f"r{n}")
    stamps = [e.ts_recorded for _, e in ledger.read()]
    assert stamps == [T0 + 10, T0 + 20, T0 + 20, T0 + 30, T0 + 30, T0 + 31]
    assert stamps == sorted(stamps) and all(a <= b for a, b in itertools.pairwise(stamps))
