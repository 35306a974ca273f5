"""What every translator shares: the facts it returns, the error that sends a message to quarantine,
and strict converters for the numbers and times exchanges send.

A translator is a pure function `translate(raw: bytes, instruments) -> Translation`: one raw message in,
ledger facts out, nothing read from the clock or the store. It does not know intents or accounts: an
order fact names its order as the message does (`OrderRef`), and the ingest resolves that to an intent
stream, fills in `account_id`, `intent_id` and `ts_recorded`, and records it. Events are built with
those three as placeholders (`""`, `""`, `0`). (The result types are msgspec Structs: a translator makes
several per message, and a Struct is built several times faster than a frozen dataclass. They hold values
only, never a cycle, so the cyclic GC does not track them (`gc=False`): a large ingest holds thousands at
a time, and each full collection would otherwise walk them all.)
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import IO, Protocol

import msgspec

from kernel import events as ev
from kernel.errors import LedgerError

Instruments = Mapping[str, ev.InstrumentSpec]
"""The instruments a translator may use, by the symbol the exchange's messages name."""

UNSET = ""  # placeholder account_id / intent_id in a translated event; the ingest sets them
UNSTAMPED = 0  # placeholder ts_recorded; the ingest stamps the event when it records it


class Untranslatable(LedgerError, ValueError):
    """A message that cannot be parsed or mapped. Its text is the one-line reason kept beside the raw
    message in quarantine, e.g. "CheckSum (10) is 012, computed 187"."""


class OrderRef(msgspec.Struct, frozen=True, gc=False):
    """How a message names its order. The ingest looks for an intent by `client_order_id`, then by
    `orig_client_order_id`, then an external order by `exchange_order_id`; when none exists and `order` is
    given, the order is recorded as discovered (`ExternalOrderDiscovered`)."""

    symbol: str
    client_order_id: str = ""
    orig_client_order_id: str = ""
    exchange_order_id: str = ""
    order: ev.OrderSpec | None = None  # what the message says of the order itself


class OrderFact(msgspec.Struct, frozen=True, gc=False):
    ref: OrderRef
    event: ev.OrderEvent  # an exchange fact (never a request), with the placeholders above
    # An AmendAccepted restating the order's terms as a snapshot shows them (ccxt): the translator cannot
    # tell an amend from a restatement, the ledger can (`record_exchange_fact(if_changed=True)`).
    if_changed: bool = False


class AccountFact(msgspec.Struct, frozen=True, gc=False):
    event: ev.AccountEvent  # account_id and ts_recorded as placeholders
    symbols: tuple[str, ...] = ()  # instruments the event names (they must be known)


Fact = OrderFact | AccountFact


class Translation(msgspec.Struct, frozen=True, gc=False):
    """What one message means: facts to record, or (when `skipped` says why) nothing, by design, e.g. a
    FIX heartbeat. A message that means nothing and is not skipped is an error: raise `Untranslatable`."""

    facts: tuple[Fact, ...] = ()
    skipped: str = ""


class Translator(Protocol):
    def __call__(self, raw: bytes, instruments: Instruments) -> Translation: ...


class Framer(Protocol):
    """Cuts a byte stream into raw messages (one per item), never dropping a byte that is not framing."""

    def __call__(self, stream: IO[bytes]) -> Iterator[bytes]: ...


def lines(stream: IO[bytes]) -> Iterator[bytes]:
    """One message per line (JSON lines): blank lines are framing; line endings are stripped."""
    for line in stream:
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield line


def json_problem(raw: bytes, error: Exception) -> str:
    """Why `raw` did not decode as JSON, as "invalid JSON: ...", in the same words whichever msgspec is
    installed: text that is not UTF-8 is named by Python's own codec error (msgspec before 0.23 raised that
    UnicodeDecodeError itself; 0.23 reports "Invalid UTF-8 encoded string"). For the error path only."""
    return not_utf8(raw) or f"invalid JSON: {error}"


def not_utf8(raw: bytes) -> str | None:
    """"invalid JSON: <the codec's error>" when `raw` is not UTF-8 text, else None."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"invalid JSON: {e}"
    return None


# ------------------------------------------------------------------------------ strict converters
_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def decimal_of(value: object, field: str) -> Decimal:
    """An exact decimal from the text (or int) a message carries; anything else is untranslatable.
    A float is refused: JSON numbers must be decoded as Decimal (msgspec `float_hook=Decimal`)."""
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise Untranslatable(f"{field} is not a decimal number: {value!r}")


def ms_to_ns(value: object, field: str) -> int:
    """Milliseconds since the epoch (an int or digit string, as Binance and ccxt send) to ns."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise Untranslatable(f"{field} is not integer milliseconds: {value!r}")
    return int(value) * 1_000_000


_UTC_TIMESTAMP = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")


def fix_time_to_ns(value: str, field: str) -> int:
    """A FIX UTCTimestamp `YYYYMMDD-HH:MM:SS[.fraction]` (ms, µs or ns) to ns, exactly."""
    m = _UTC_TIMESTAMP.fullmatch(value)
    if m is None:
        raise Untranslatable(f"{field} is not a FIX UTCTimestamp: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1] and hour < 24
            and minute < 60 and second <= 60):  # fmt: skip
        raise Untranslatable(f"{field} is not a valid time: {value!r}")
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    fraction = (m.group(7) or "").ljust(9, "0")
    return seconds * 1_000_000_000 + int(fraction)
