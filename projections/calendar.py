"""Trading days: when a day opens and closes under a cut-off time in a time zone, on `ts_recorded` (ns, UTC).

    TradingCalendar(cutoff="00:00", tz="UTC"): close_ns(day), open_ns(day), day_of(ts_ns)
    as_date(day) -> date  (a date, or its YYYY-MM-DD text)

Pure: no store, no clock. `projections.replay` turns a day into positions of the log (`day_bounds`,
`replay_day`) and cuts a snapshot at every day's close (`ensure_snapshots`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NS_PER_SECOND = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_CUTOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class TradingCalendar:
    """Trading days under a cut-off time in a time zone (on `ts_recorded`).

    Day D ends at its close, `close_ns(D)`: the cut-off on date D in `tz`, where a cut-off of 00:00 is the
    midnight that ends date D (24:00). So with the default 00:00 UTC a day is the UTC calendar date; with
    17:00 America/New_York, day D runs from 17:00 New York time on D-1 to 17:00 on D (the FX convention:
    what happens after the cut-off belongs to the next day). A day is [close(D-1), close(D)). Local times
    are resolved by zoneinfo (a cut-off inside a DST gap or fold takes the offset before the change).
    """

    def __init__(self, cutoff: str = "00:00", tz: str = "UTC"):
        match = _CUTOFF.match(cutoff) if isinstance(cutoff, str) else None
        if match is None:
            raise ValueError(f"cutoff: expected HH:MM (00:00 to 23:59), got {cutoff!r}")
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"tz: unknown time zone {tz!r} (use an IANA name such as Europe/London)") from None
        self.cutoff, self.tz = cutoff, tz
        self.time = time(int(match[1]), int(match[2]))
        self._midnight = self.time == time(0, 0)

    def close_ns(self, day: date) -> int:
        """When day `day` closes: ns since the epoch, UTC. ValueError for a day at the ends of the calendar
        (year 1 or 9999), whose boundaries are outside what a datetime holds."""
        try:
            on = day + timedelta(days=1) if self._midnight else day
            local = datetime.combine(on, self.time, tzinfo=self.zone)
            delta = local.astimezone(UTC) - _EPOCH
        except OverflowError:
            raise ValueError(f"{day.isoformat()!r}: out of range") from None
        return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000

    def open_ns(self, day: date) -> int:
        """When day `day` opens: the close of the day before."""
        if day == date.min:
            raise ValueError(f"{day.isoformat()!r}: out of range")
        return self.close_ns(day - timedelta(days=1))

    def day_of(self, ts_ns: int) -> date:
        """The trading day a time belongs to: the D with open_ns(D) <= ts_ns < close_ns(D)."""
        seconds = ts_ns // NS_PER_SECOND
        day = (_EPOCH + timedelta(seconds=seconds)).astimezone(self.zone).date()
        while ts_ns >= self.close_ns(day):
            day += timedelta(days=1)
        while ts_ns < self.open_ns(day):
            day -= timedelta(days=1)
        return day


def as_date(day: date | str) -> date:
    if isinstance(day, datetime):
        raise TypeError(f"a trading day is a date, got the datetime {day!r}")
    if isinstance(day, date):
        return day
    try:
        return date.fromisoformat(day)
    except (TypeError, ValueError):
        raise ValueError(f"day: expected YYYY-MM-DD, got {day!r}") from None
