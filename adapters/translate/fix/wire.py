"""FIX 4.4 on the wire: framing a log into messages and the strict tag=value parse of one message.

Framing (`frame`): one message per line, as FIX engines log them. A log prefix before `8=FIX` (e.g.
`2024-01-01 12:00:00.123 IN: `) is framing and is cut off; several messages on one line are cut where
`8=FIX` follows a field delimiter; a line with no `8=FIX` at all is yielded whole (the translator refuses
it, so it lands in quarantine). The delimiter is SOH (0x01) or `|`, found per message.

Parsing is strict: BeginString (8) first, BodyLength (9) second and equal to the bytes counted from after
its delimiter up to and including the delimiter before CheckSum (10); MsgType (35) third; CheckSum last,
three digits, the sum of every byte before `10=` modulo 256. The delimiter after the checksum may be
missing at the end of a line. A tag may repeat (repeating groups) but a field the translation uses must
be single. Raw data fields (95/96) holding the delimiter are not supported.

NAMES labels the fields in reasons; USED_TAGS (the fields the translation reads) is what `parse` checks
for repeats.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from adapters.translate.base import Untranslatable

SOH = b"\x01"
PIPE = b"|"


# ------------------------------------------------------------------------------ framing
def frame(stream: IO[bytes]) -> Iterator[bytes]:
    """Each FIX message of a log, from its `8=FIX`; see the module's docstring."""
    for line in stream:
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        start = _first_message(line)
        if start < 0:
            yield line  # not FIX at all: the translator says so, and the line goes to quarantine
            continue
        while True:
            nxt = _next_message(line, start + 5)
            if nxt < 0:
                yield line[start:]
                break
            yield line[start:nxt]
            start = nxt


def _first_message(line: bytes) -> int:
    """Where the line's first message begins: the first `8=FIX` that is not the end of a longer tag
    (`58=FIX...` in a line cut short is no message start); -1 if none."""
    start = line.find(b"8=FIX")
    while start > 0 and 0x30 <= line[start - 1] <= 0x39:
        start = line.find(b"8=FIX", start + 1)
    return start


def _next_message(line: bytes, at: int) -> int:
    """Where the next message on the line begins: an `8=FIX` right after a delimiter; -1 if none."""
    a = line.find(b"\x018=FIX", at)
    b = line.find(b"|8=FIX", at)
    if a < 0:
        return b + 1 if b >= 0 else -1
    return a + 1 if b < 0 or a < b else b + 1


# ------------------------------------------------------------------------------ field names
NAMES = {
    "11": "ClOrdID", "12": "Commission", "13": "CommType", "15": "Currency", "17": "ExecID", "18": "ExecInst",
    "19": "ExecRefID", "20": "ExecTransType", "31": "LastPx", "32": "LastQty", "35": "MsgType", "37": "OrderID",
    "38": "OrderQty", "39": "OrdStatus", "40": "OrdType", "41": "OrigClOrdID", "44": "Price", "52": "SendingTime",
    "54": "Side", "55": "Symbol", "58": "Text", "59": "TimeInForce", "60": "TransactTime", "99": "StopPx",
    "102": "CxlRejReason", "103": "OrdRejReason", "126": "ExpireTime", "150": "ExecType",
    "378": "ExecRestatementReason", "434": "CxlRejResponseTo", "479": "CommCurrency", "851": "LastLiquidityInd",
}  # fmt: skip
USED_TAGS = frozenset(NAMES)  # the body fields a translation reads: each must be single


def _label(tag: str) -> str:
    """`Symbol (55)`: how a reason names a field."""
    return f"{NAMES.get(tag, 'tag')} ({tag})"


def _show(value: bytes | str, limit: int = 40) -> str:
    """A value quoted for a one-line reason (repr escapes control bytes), cut when long."""
    return repr(value[:limit]) + ("..." if len(value) > limit else "")


# ------------------------------------------------------------------------------ parsing
Fields = dict[str, str]  # body fields by tag; an empty value reads as absent ("")


def parse(raw: bytes) -> tuple[str, Fields]:
    """Verify the frame of one message (BeginString, BodyLength, MsgType, CheckSum) and split its body
    fields; returns the MsgType and the fields (from MsgType to the field before CheckSum). Raises
    `Untranslatable` saying what is wrong."""
    if not raw.startswith(b"8=FIX"):
        raise Untranslatable(f"not a FIX message: begins {_show(raw, 24)}, not with BeginString (8=FIX)")
    soh, pipe = raw.find(SOH), raw.find(PIPE)
    if soh < 0 and pipe < 0:
        raise Untranslatable("truncated: no field delimiter (SOH or '|') after BeginString (8)")
    d = SOH if pipe < 0 or 0 <= soh < pipe else PIPE
    begin_end = soh if d == SOH else pipe  # the delimiter after BeginString
    end = len(raw) - 1 if raw.endswith(d) else len(raw)  # the delimiter after the checksum may be missing
    checksum_at = raw.rfind(d, 0, end) + 1  # where the last field begins
    if not raw.startswith(b"10=", checksum_at):
        if d + b"10=" in raw:
            raise Untranslatable("CheckSum (10) is not the last field")
        raise Untranslatable("truncated: no CheckSum (10)")
    length_end = raw.find(d, begin_end + 1)
    if not raw.startswith(b"9=", begin_end + 1):
        raise Untranslatable("BodyLength (9) is not the second field")
    if length_end >= checksum_at - 1:
        raise Untranslatable("MsgType (35) is not the third field")
    declared = raw[begin_end + 3 : length_end]
    if not (declared.isdigit() and len(declared) <= 9):
        raise Untranslatable(f"BodyLength (9) is not a length: {_show(declared)}")
    counted = checksum_at - length_end - 1
    if int(declared) != counted:
        raise Untranslatable(f"BodyLength (9) is {int(declared)}, counted {counted}")
    checksum = raw[checksum_at + 3 : end]
    if len(checksum) != 3 or not checksum.isdigit():
        raise Untranslatable(f"CheckSum (10) is not three digits: {_show(checksum)}")
    computed = sum(raw[:checksum_at]) & 0xFF
    if int(checksum) != computed:
        raise Untranslatable(f"CheckSum (10) is {checksum.decode()}, computed {computed:03d}")
    if not raw.startswith(b"35=", length_end + 1):
        raise Untranslatable("MsgType (35) is not the third field")
    try:
        body = raw[length_end + 1 : checksum_at - 1].decode()
    except UnicodeDecodeError as e:
        raise Untranslatable(f"not text: byte {raw[length_end + 1 + e.start]:#04x} at {length_end + 1 + e.start} "
                             "is not UTF-8") from None  # fmt: skip
    try:
        pairs = [p.split("=", 1) for p in body.split("\x01" if d == SOH else "|")]
        fields = dict(pairs)  # type: ignore[arg-type]
    except ValueError:
        bad = next(p for p in body.split("\x01" if d == SOH else "|") if "=" not in p)
        raise Untranslatable(f"malformed field {_show(bad)}: not tag=value") from None
    tags = "".join(fields)
    if not (tags.isascii() and tags.isdigit()) or "" in fields:
        bad = next(t for t in fields if not (t.isascii() and t.isdigit()))
        raise Untranslatable(f"malformed field: tag {_show(bad)} is not a number")
    if len(fields) != len(pairs):  # a repeating group, or a field sent twice
        seen: set[str] = set()
        for tag, _ in pairs:
            if tag in seen and tag in USED_TAGS:
                raise Untranslatable(f"{_label(tag)} appears more than once")
            seen.add(tag)
    msg_type = fields["35"]
    if not msg_type.isprintable():
        fields["35"] = repr(msg_type)  # only ever shown in a reason: keep it one line
    return fields["35"], fields
