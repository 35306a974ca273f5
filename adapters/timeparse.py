"""TIME on the command line: ISO 8601 (with a zone; without one it is UTC) or integer nanoseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kernel.schema.order_spec import UINT64_MAX

NS_PER_SECOND = 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time_ns(text: str) -> int:
    """`2026-01-05T12:00:00+02:00`, `2026-01-05 12:00`, `2026-01-05` (midnight), or `1767571200000000000`.

    Raises ValueError with a one-line reason."""
    raw = text.strip()
    if raw.isdigit():
        value = int(raw)
        if value > UINT64_MAX:
            raise ValueError(f"{text!r}: nanoseconds beyond 2^64-1")
        return value
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r}: not ISO 8601 (2026-01-05T12:00:00Z) nor integer nanoseconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    since = moment - EPOCH  # exact integer arithmetic: no float seconds
    if since.days < 0:
        raise ValueError(f"{text!r}: before 1970-01-01T00:00:00Z")
    return (since.days * 86_400 + since.seconds) * NS_PER_SECOND + since.microseconds * 1000


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: not a day (YYYY-MM-DD)") from None
