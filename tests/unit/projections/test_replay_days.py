"""Trading days: the calendar (cut-off in a time zone, DST included), a day's first and last positions,
an empty day, day-boundary snapshots, and `replay_day` from the opening state."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from replay_history import NS, Clock, ns, record_days, recorded_history

from kernel.ledger import Ledger
from projections import state_hash
from projections.replay import TradingCalendar, day_bounds, ensure_snapshots, replay, replay_day, state_at
from projections.snapshots import encode_books, snapshot_positions

NY = "America/New_York"  # DST began 2026-03-08 at 02:00 local (EST -5 -> EDT -4)

# Events in New York afternoons and evenings around the 17:00 cut-off, across the DST change, with a
# gap: nothing from Mar 10 17:00 to Mar 12 17:00 New York time (trading day Mar 11 (17:00 NY) is empty).
MOMENTS = [
    ns("2026-03-05T15:00:00-05:00"), ns("2026-03-05T16:59:59-05:00"), ns("2026-03-05T17:00:00-05:00"),
    ns("2026-03-06T12:00:00-05:00"), ns("2026-03-07T18:30:00-05:00"), ns("2026-03-08T16:59:59.999999-04:00"),
    ns("2026-03-08T17:00:00-04:00"), ns("2026-03-09T23:00:00-04:00"), ns("2026-03-10T09:00:00-04:00"),
    ns("2026-03-12T17:00:00-04:00"), ns("2026-03-13T08:00:00-04:00"),
]  # fmt: skip


@pytest.fixture(scope="module")
def history() -> tuple[Ledger, list]:
    return recorded_history(MOMENTS)


def expected_bounds(log: list, opens: int, closes: int) -> tuple[int, int] | None:
    ids = [i for i, e in log if opens <= e.ts_recorded < closes]
    return (ids[0], ids[-1]) if ids else None


# ------------------------------------------------------------------------------------------ the calendar
def test_the_default_day_is_the_utc_date():
    calendar = TradingCalendar()
    assert calendar.open_ns(date(2026, 1, 5)) == ns("2026-01-05T00:00:00+00:00")
    assert calendar.close_ns(date(2026, 1, 5)) == ns("2026-01-06T00:00:00+00:00")
    assert calendar.day_of(ns("2026-01-05T23:59:59.999999+00:00")) == date(2026, 1, 5)
    assert calendar.day_of(ns("2026-01-06T00:00:00+00:00")) == date(2026, 1, 6)


def test_a_17_00_new_york_cutoff_across_the_dst_change():
    calendar = TradingCalendar("17:00", NY)
    assert calendar.close_ns(date(2026, 3, 6)) == ns("2026-03-06T22:00:00+00:00")  # EST
    assert calendar.close_ns(date(2026, 3, 8)) == ns("2026-03-08T21:00:00+00:00")  # EDT
    day = date(2026, 3, 8)  # 23 hours long
    assert calendar.close_ns(day) - calendar.open_ns(day) == 23 * 3600 * NS
    assert calendar.day_of(ns("2026-03-06T16:59:59-05:00")) == date(2026, 3, 6)
    assert calendar.day_of(ns("2026-03-06T17:00:00-05:00")) == date(2026, 3, 7)  # after the cut-off: next day


def test_a_midnight_cutoff_in_a_zone_is_that_zones_date():
    calendar = TradingCalendar("00:00", "Asia/Tokyo")
    assert calendar.open_ns(date(2026, 1, 5)) == ns("2026-01-05T00:00:00+09:00")
    assert calendar.close_ns(date(2026, 1, 5)) == ns("2026-01-06T00:00:00+09:00")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from([("00:00", "UTC"), ("17:00", NY), ("08:30", "Europe/London"), ("02:30", NY),
                        ("23:59", "Australia/Sydney")]))  # fmt: skip
def test_a_time_belongs_to_the_day_between_two_closes(moment, setting):
    calendar = TradingCalendar(*setting)
    ts = ns(moment.isoformat() + "+00:00")
    day = calendar.day_of(ts)
    assert calendar.open_ns(day) <= ts < calendar.close_ns(day)
    assert calendar.close_ns(day - timedelta(days=1)) == calendar.open_ns(day)


@pytest.mark.parametrize("cutoff", ["24:00", "7:00", "17:60", "ab", "", None])
def test_a_bad_cutoff_is_refused(cutoff):
    with pytest.raises(ValueError, match="cutoff"):
        TradingCalendar(cutoff)  # type: ignore[arg-type]


@pytest.mark.parametrize("setting", [("00:00", "UTC"), ("17:00", "America/New_York"), ("09:00", "Asia/Tokyo")])
@pytest.mark.parametrize("day", [date.min, date.max])
def test_a_day_at_the_ends_of_the_calendar_is_out_of_range_not_an_overflow(day, setting):
    """Where its open or close is outside what a datetime holds, a ValueError (the CLI's bad input), never
    the OverflowError datetime raises; where both exist, they are ns like any day's."""
    calendar = TradingCalendar(*setting)
    outcomes = []
    for bound in (calendar.open_ns, calendar.close_ns):
        try:
            outcomes.append(type(bound(day)))
        except ValueError as e:
            assert str(e) == f"{day.isoformat()!r}: out of range"
            outcomes.append(ValueError)
    assert ValueError in outcomes or outcomes == [int, int]
    if setting[0] == "00:00":  # a midnight cut-off: the first day opens, and the last closes, out of range
        assert ValueError in outcomes


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "../etc/passwd"])
def test_an_unknown_zone_is_refused(tz):
    with pytest.raises(ValueError, match="tz"):
        TradingCalendar("00:00", tz)


# ------------------------------------------------------------------------------------------ day bounds
@pytest.mark.parametrize("setting", [("00:00", "UTC"), ("17:00", NY), ("09:30", "Europe/Paris")])
def test_day_bounds_are_the_ids_recorded_between_the_days_open_and_close(history, setting):
    ledger, log = history
    calendar = TradingCalendar(*setting)
    day = date(2026, 3, 3)
    while day <= date(2026, 3, 15):
        expected = expected_bounds(log, calendar.open_ns(day), calendar.close_ns(day))
        assert day_bounds(ledger, day, *setting) == expected, day
        day += timedelta(days=1)


def test_the_17_00_new_york_days(history):
    ledger, log = history
    first_day = day_bounds(ledger, date(2026, 3, 5), "17:00", NY)
    assert first_day is not None and first_day[0] == 1
    assert log[first_day[1] - 1][1].ts_recorded == ns("2026-03-05T16:59:59-05:00")
    next_day = day_bounds(ledger, "2026-03-06", "17:00", NY)  # opens with the 17:00:00 event
    assert next_day is not None and next_day[0] == first_day[1] + 1
    assert log[next_day[0] - 1][1].ts_recorded == ns("2026-03-05T17:00:00-05:00")
    assert day_bounds(ledger, "2026-03-11", "17:00", NY) is None  # no events that day
    assert day_bounds(ledger, "2026-03-02", "17:00", NY) is None  # before the log
    assert day_bounds(ledger, "2026-03-20", "17:00", NY) is None  # after it


def test_a_day_is_a_date(history):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        day_bounds(history[0], "05/03/2026")
    with pytest.raises(TypeError):
        day_bounds(history[0], datetime(2026, 3, 5))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ replaying days
def test_ensure_snapshots_cuts_at_every_day_boundary():
    clock = Clock()
    ledger = Ledger.open("memory://", clock=clock)
    record_days(ledger, clock, MOMENTS)
    log = list(ledger.read())
    calendar = TradingCalendar("17:00", NY)
    days = sorted({calendar.day_of(e.ts_recorded) for _, e in log})
    closes = [day_bounds(ledger, d, "17:00", NY)[1] for d in days[:-1]]  # type: ignore[index]
    assert ensure_snapshots(ledger, every=0, cutoff="17:00", tz=NY) == closes
    assert ensure_snapshots(ledger, every=0, cutoff="17:00", tz=NY) == []
    assert snapshot_positions(ledger) == closes


@pytest.mark.parametrize("snapshots", [False, True])
def test_replay_day_folds_the_days_events_onto_its_opening_state(snapshots):
    clock = Clock()
    ledger = Ledger.open("memory://", clock=clock)
    record_days(ledger, clock, MOMENTS)
    if snapshots:
        ensure_snapshots(ledger, every=5, cutoff="17:00", tz=NY)
    for day in (date(2026, 3, 5), date(2026, 3, 9), date(2026, 3, 13)):
        first, last = day_bounds(ledger, day, "17:00", NY)  # type: ignore[misc]
        result = replay_day(ledger, day, cutoff="17:00", tz=NY, page_size=3)
        assert (result.day, result.opening_position, result.closing_position) == (day, first - 1, last)
        assert result.events == last - first + 1
        closing = replay(ledger, until_position=last).books
        assert encode_books(result.books) == encode_books(closing)
        assert state_hash(result.books) == state_hash(closing)


def test_replaying_an_empty_day_gives_its_opening_books(history):
    ledger, _ = history
    result = replay_day(ledger, "2026-03-11", cutoff="17:00", tz=NY)
    assert result.events == 0 and result.opening_position == result.closing_position
    opening = state_at(ledger, ts_ns=ns("2026-03-10T17:00:00-04:00") - 1)
    assert result.opening_position == opening.position > 0
    assert state_hash(result.books) == state_hash(opening.books)
    before = replay_day(ledger, "2026-03-01", cutoff="17:00", tz=NY)
    assert (before.opening_position, before.closing_position, before.events) == (0, 0, 0)
