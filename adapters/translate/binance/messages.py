"""One Binance user data stream message: its envelope, and strict readers of its fields.

Input is one JSON message per line, as the stream sends it: a bare event, one wrapped by the WebSocket API
(`{"subscriptionId": n, "event": {...}}`) or by a combined stream (`{"stream": ..., "data": {...}}`). JSON is
decoded with Decimal for every number (Binance sends decimals as strings anyway); a number that is not a
decimal, a missing field or an enum value the docs do not define makes the message untranslatable, with
a one-line reason naming the field, e.g. `q (order quantity) is not a decimal number: 'abc'`.

A WebSocket API response (`{"id": ..., "status": ...}`) is not an event: it is skipped.
"""

from __future__ import annotations

import zlib
from decimal import Context, Decimal, Inexact
from typing import Any

import msgspec

from adapters.translate.base import Translation, Untranslatable, decimal_of, json_problem, ms_to_ns
from kernel.schema.order_spec import check_input_bounds

ZERO = Decimal(0)
EXACT = Context(prec=100, traps=[Inexact])
"""Sums and differences of two bounded inputs (24 digits either side of the point) are exact in it; Python's
default 28-digit context would round them."""
_decode = msgspec.json.Decoder(float_hook=Decimal).decode
_encode = msgspec.json.encode

# What each field is called in Binance's docs, for the reasons given when one is bad.
_LABELS = {
    "e": "event type", "E": "event time", "T": "transaction time", "s": "symbol", "c": "client order id",
    "C": "original client order id", "S": "side", "o": "order type", "ot": "original order type",
    "f": "time in force", "q": "order quantity", "p": "order price", "P": "stop price", "sp": "stop price",
    "AP": "activation price", "x": "execution type", "X": "order status", "r": "reject reason", "i": "order id",
    "l": "last executed quantity", "L": "last executed price", "n": "commission", "N": "commission asset",
    "t": "trade id", "I": "execution id", "m": "maker flag", "A": "prevented quantity", "gtd": "GTD cancel time",
    "u": "time of last account update", "B": "balances", "a": "asset", "d": "balance delta", "wb": "wallet balance",
    "bc": "balance change", "pa": "position amount", "ep": "entry price", "ps": "position side",
    "R": "reduce only flag", "ac": "account configuration", "leverage": "leverage",
}  # fmt: skip


_NAMED = {key: f"{key} ({name})" for key, name in _LABELS.items()}


def _label(key: str) -> str:
    return _NAMED.get(key, key)


# ------------------------------------------------------------------------------ field readers
def _get(obj: dict[str, Any], key: str, label: str = "") -> Any:
    try:
        return obj[key]
    except KeyError:
        raise Untranslatable(f"{label or _label(key)} is missing") from None


def _text(obj: dict[str, Any], key: str, label: str = "") -> str:
    value = _get(obj, key, label)
    if type(value) is not str:
        raise Untranslatable(f"{label or _label(key)} is not a string: {value!r}")
    return value


def _opt_text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if type(value) is not str:
        raise Untranslatable(f"{_label(key)} is not a string: {value!r}")
    return value


def _dec(obj: dict[str, Any], key: str, label: str = "") -> Decimal:
    """The decimal in `obj[key]`; `label` names the field in a reason (default: its name in the docs)."""
    value = _get(obj, key, label)
    if type(value) is str and len(value) <= 24 and value.isascii():
        # The fast path for what Binance sends: plain ASCII decimal text short enough to be within the ledger's
        # input bounds (at most 24 digits before and after the point).
        digits = value[1:] if value[:1] == "-" else value
        if digits.replace(".", "", 1).isdigit():
            return Decimal(value)
    number = decimal_of(value, label or _label(key))
    try:
        return check_input_bounds(number)
    except ValueError as e:
        raise Untranslatable(f"{label or _label(key)} is {e}") from None


def _positive(obj: dict[str, Any], key: str) -> Decimal:
    number = _dec(obj, key)
    if number <= 0:
        raise Untranslatable(f"{_label(key)} must be > 0, got {number}")
    return number


def _int(obj: dict[str, Any], key: str) -> int:
    value = _get(obj, key)
    if type(value) is not int:
        raise Untranslatable(f"{_label(key)} is not an integer: {value!r}")
    return value


def _ms(obj: dict[str, Any], key: str) -> int:
    value = _get(obj, key)
    if type(value) is int and value >= 0:
        return value * 1_000_000
    return ms_to_ns(value, _label(key))


def _enum(table: dict[str, Any], obj: dict[str, Any], key: str) -> Any:
    value = _text(obj, key)
    try:
        return table[value]
    except KeyError:
        raise Untranslatable(f"unknown {_LABELS[key]} {value!r}") from None


def _digest(content: object) -> str:
    """A short, process-independent digest of a report's content (crc32 of its JSON)."""
    return f"{zlib.crc32(_encode(content)):08x}"


# ------------------------------------------------------------------------------ messages
def _message(raw: bytes) -> dict[str, Any]:
    """The event object of one message, unwrapped from the WebSocket API or combined-stream envelope."""
    try:
        obj = _decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise Untranslatable(json_problem(raw, e)) from None
    if type(obj) is not dict:
        raise Untranslatable(f"not a Binance event: a JSON {type(obj).__name__}, not an object")
    if "e" in obj:
        return obj
    if "event" in obj and "subscriptionId" in obj:
        inner = obj["event"]
    elif "data" in obj and "stream" in obj:
        inner = obj["data"]
    else:
        raise Untranslatable("not a Binance event: no event type field 'e'")
    if type(inner) is not dict or "e" not in inner:
        raise Untranslatable("not a Binance event: the wrapped event has no event type field 'e'")
    return inner


def _is_api_response(raw: bytes) -> bool:
    try:
        obj = _decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return type(obj) is dict and "e" not in obj and "id" in obj and ("status" in obj or "result" in obj)


def _unknown_event(kind: object, other: frozenset[str], other_format: str) -> Untranslatable:
    if type(kind) is not str:
        return Untranslatable(f"{_label('e')} is not a string: {kind!r}")
    hint = f" (a {other_format} event)" if kind in other else ""
    return Untranslatable(f"unknown event type {kind!r}{hint}")


def _event_or_skip(raw: bytes) -> dict[str, Any] | Translation:
    """The event object of a message, or the skip of a WebSocket API response (which is not an event)."""
    try:
        return _message(raw)
    except Untranslatable:
        if _is_api_response(raw):
            return Translation(skipped="a WebSocket API response, not an event")
        raise
