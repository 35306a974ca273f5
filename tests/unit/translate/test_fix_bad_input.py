"""FIX bad input refused with a one-line reason (truncated, wrong checksum or body length, bad numbers,
unknown symbols and message types, binary bytes), and exact numbers under any damage."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.translate.base import Translation, Untranslatable
from adapters.translate.fix import translate
from adapters.translate.fix_sim import (
    fix_message,
)
from kernel import events as ev
from tests.unit.translate.fix_support import (
    FILL_FIELDS,
    INSTRUMENTS,
    ORDER,
    TRANSACT,
    cancel_reject,
    execution_report,
    header,
    refused,
    the_fact,
)

# ------------------------------------------------------------------------------ bad input
GOOD = execution_report("F", "1", *FILL_FIELDS)


def framed(body: bytes) -> bytes:
    """A message around a raw body (from MsgType on), with right BodyLength and CheckSum: for bodies
    `fix_message` cannot write."""
    message = b"8=FIX.4.4\x019=%d\x01" % len(body) + body
    return message + b"10=%03d\x01" % (sum(message) & 0xFF)


def body_of(raw: bytes) -> bytes:
    start = raw.index(b"\x0135=") + 1
    return raw[start : raw.rindex(b"\x0110=") + 1]


def test_truncated():
    assert refused(GOOD[:100]) == "truncated: no CheckSum (10)"
    assert refused(GOOD[: GOOD.rindex(b"10=")]) == "truncated: no CheckSum (10)"
    assert refused(GOOD[:-3]) == "CheckSum (10) is not three digits: b'1'"
    assert refused(b"8=FIX.4.4") == "truncated: no field delimiter (SOH or '|') after BeginString (8)"


def test_wrong_checksum():
    good = int(GOOD[-4:-1])
    bad = GOOD[:-4] + b"%03d\x01" % ((good + 1) % 256)
    assert refused(bad) == f"CheckSum (10) is {(good + 1) % 256:03d}, computed {good:03d}"
    flipped = GOOD.replace(b"55=BTCUSDT", b"55=BTCUSDC")  # same length, one byte changed
    assert refused(flipped) == f"CheckSum (10) is {good:03d}, computed {(good - ord('T') + ord('C')) % 256:03d}"


def test_wrong_body_length():
    declared = len(body_of(GOOD))
    for body in (body_of(GOOD) + b"58=x\x01", body_of(GOOD)[:-6]):
        message = b"8=FIX.4.4\x019=%d\x01" % declared + body
        raw = message + b"10=%03d\x01" % (sum(message) & 0xFF)  # the checksum is right: only the length is wrong
        assert refused(raw) == f"BodyLength (9) is {declared}, counted {len(body)}"
    assert refused(GOOD.replace(b"\x019=%d" % declared, b"\x019=x")) == "BodyLength (9) is not a length: b'x'"


def test_frame_errors():
    parts = GOOD.split(b"\x01")
    assert refused(b"\x01".join([parts[0], parts[2], parts[1], *parts[3:]])) == "BodyLength (9) is not the second field"
    assert refused(framed(body_of(GOOD).replace(b"35=8\x0149=VENUE", b"49=VENUE\x0135=8"))) == (
        "MsgType (35) is not the third field"
    )
    assert refused(GOOD + b"58=trailing\x01") == "CheckSum (10) is not the last field"
    assert refused(b"8=FIX.4.4\x019=0\x0110=%03d\x01" % (sum(b"8=FIX.4.4\x019=0\x01") % 256)) == (
        "MsgType (35) is not the third field"
    )
    assert refused(framed(body_of(GOOD) + b"no equals sign\x01")) == "malformed field 'no equals sign': not tag=value"
    assert refused(framed(body_of(GOOD) + b"X9=1\x01")) == "malformed field: tag 'X9' is not a number"
    assert refused(framed(body_of(GOOD) + b"=1\x01")) == "malformed field: tag '' is not a number"


def test_non_numeric_quantities_and_prices():
    assert refused(execution_report("F", "1", (32, "abc"), (31, "1"))) == "LastQty (32) is not a decimal number: 'abc'"
    assert refused(execution_report("F", "1", (32, "1"), (31, "1,5"))) == "LastPx (31) is not a decimal number: '1,5'"
    order = [(55, "BTCUSDT"), (54, "1"), (38, "NaN"), (40, "2"), (44, "1")]
    assert refused(execution_report("0", "0", order=order)) == "OrderQty (38) is not a decimal number: 'NaN'"
    assert refused(execution_report("F", "1", (32, "1"), (31, "1"), (12, "x"))) == (
        "Commission (12) is not a decimal number: 'x'"
    )
    assert refused(execution_report("F", "1", (32, "1" * 30), (31, "1"))) == (
        "LastQty (32) is too large: at most 24 integer digits, got " + "1" * 30
    )


def test_fills_of_nothing_and_odd_commissions():
    assert refused(execution_report("F", "1", (32, "0"), (31, "1"))) == "LastQty (32) of a fill must be > 0, got 0"
    assert refused(execution_report("F", "1", (32, "-1"), (31, "1"))) == "LastQty (32) of a fill must be > 0, got -1"
    assert refused(execution_report("F", "1", (31, "1"))) == (
        "ExecutionReport (35=8) reports a fill without LastQty (32)"
    )
    assert refused(execution_report("F", "1", (32, "1"), (31, "1"), (12, "0.1"), (13, "2"))) == (
        "CommType (13) '2' is not supported: only 3 (absolute) is"
    )


def test_unknown_symbol():
    order = [(55, "XYZUSDT"), (54, "1"), (38, "1"), (40, "2"), (44, "1")]
    assert refused(execution_report("0", "0", order=order)) == "unknown symbol 'XYZUSDT'"
    assert refused(cancel_reject("1", (55, "XYZUSDT"))) == "unknown symbol 'XYZUSDT'"


def test_unknown_message_type():
    raw = fix_message([*header("D"), (11, "C1"), *ORDER, (60, TRANSACT)])
    assert refused(raw) == ("unsupported MsgType NewOrderSingle (35=D): only ExecutionReport (35=8) and "
                            "OrderCancelReject (35=9) are translated")  # fmt: skip
    assert refused(fix_message(header("ZZ"))).startswith("unsupported MsgType (35=ZZ)")


@pytest.mark.parametrize("tag, name", [(37, "OrderID"), (17, "ExecID"), (150, "ExecType"), (39, "OrdStatus"),
                                       (55, "Symbol"), (54, "Side")])  # fmt: skip
def test_missing_required_tag(tag: int, name: str):
    fields = [*header("8"), (37, "O1"), (11, "C1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER, (60, TRANSACT)]
    raw = fix_message([f for f in fields if f[0] != tag])
    assert refused(raw) == f"ExecutionReport (35=8) has no {name} ({tag})"


def test_missing_required_tag_of_a_cancel_reject():
    raw = fix_message([*header("9"), (37, "O1"), (11, "C1-X"), (39, "1"), (60, TRANSACT)])
    assert refused(raw) == "OrderCancelReject (35=9) has no CxlRejResponseTo (434)"
    assert refused(cancel_reject("3")) == "CxlRejResponseTo (434) has an unsupported value '3'"


def test_unsupported_values():
    assert refused(execution_report("J", "2")) == "ExecType (150) has an unsupported value 'J'"
    assert refused(execution_report("0", "Z")) == "OrdStatus (39) has an unsupported value 'Z'"
    order = [(55, "BTCUSDT"), (54, "5"), (38, "1"), (40, "2"), (44, "1")]
    assert refused(execution_report("0", "0", order=order)) == "Side (54) has an unsupported value '5'"
    assert refused(execution_report("0", "0", ids=[(37, "NONE")])) == (
        "ExecutionReport (35=8) accepts an order without an OrderID (37)"
    )
    assert refused(execution_report("0", "0", (60, "20240102-25:00:00"))) == "TransactTime (60) appears more than once"
    raw = fix_message([*header("8"), (37, "O1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER, (60, "2024-01-02")])
    assert refused(raw) == "TransactTime (60) is not a FIX UTCTimestamp: '2024-01-02'"
    raw = fix_message([*header("8"), (37, "O1"), (17, "E1"), (150, "0"), (39, "0"), *ORDER,
                       (60, "20240231-00:00:00")])  # fmt: skip
    assert refused(raw) == "TransactTime (60) is not a valid time: '20240231-00:00:00'"


def test_garbage_and_binary_bytes():
    assert refused(b"hello world") == "not a FIX message: begins b'hello world', not with BeginString (8=FIX)"
    assert refused(b"") == "not a FIX message: begins b'', not with BeginString (8=FIX)"
    assert refused(b"\x00\xff\xfe\x01\x02binary\x80") == (
        "not a FIX message: begins b'\\x00\\xff\\xfe\\x01\\x02binary\\x80', not with BeginString (8=FIX)"
    )
    assert refused(b'{"e": "executionReport"}').startswith("not a FIX message")
    body = body_of(GOOD) + b"58=\xff\xfe\x01"  # well framed, but not text
    assert refused(framed(body)) == f"not text: byte 0xff at {len(framed(body)) - 10} is not UTF-8"


# ------------------------------------------------------------------------------ exact numbers
decimals = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e15"), places=8,
                       allow_nan=False, allow_infinity=False)  # fmt: skip


@given(quantity=decimals, price=decimals, fee=st.decimals(min_value=-1000, max_value=1000, places=10),
       delimiter=st.sampled_from([b"\x01", b"|"]))  # fmt: skip
def test_fill_quantities_and_prices_round_trip_exactly(quantity: Decimal, price: Decimal, fee: Decimal,
                                                       delimiter: bytes):  # fmt: skip
    texts = [str(quantity), str(price), str(fee)]
    if "E" in "".join(texts).upper():  # FIX writes plain decimals
        texts = [f"{quantity:f}", f"{price:f}", f"{fee:f}"]
    raw = execution_report("F", "1", (32, texts[0]), (31, texts[1]), (12, texts[2]), delimiter=delimiter)
    event = the_fact(raw).event
    assert isinstance(event, ev.OrderFilled)
    assert (event.quantity, event.price, event.fee) == (quantity, price, fee)
    assert [str(event.quantity), str(event.price), str(event.fee)] == [str(Decimal(t)) for t in texts]


@given(message=st.sampled_from([GOOD, execution_report("5", "0", delimiter=b"|"), cancel_reject("1")]),
       edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), st.binary(max_size=4)), min_size=1,
                      max_size=4),
       reframe=st.booleans())  # fmt: skip
def test_any_damaged_message_is_translated_or_refused_in_one_line(message: bytes, edits, reframe: bool):
    raw = message
    for at, cut, insert in edits:
        at %= len(raw)
        raw = raw[:at] + insert + raw[at + cut :]
    if reframe and raw.count(b"\x0110=") == 1 and raw.startswith(b"8=FIX.4.4\x019="):
        raw = framed(raw[raw.index(b"\x01", 10) + 1 : raw.rindex(b"\x0110=") + 1])  # only the body is wrong
    try:
        result = translate(raw, INSTRUMENTS)
    except Untranslatable as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert isinstance(result, Translation)
