"""Translating in a second process while this one records: a large file's next chunk of messages is
translated while the current one is decided and appended.

Translation is a pure function of the message and the instruments, so where it runs changes nothing but
the time: the results come back in order, as msgspec MessagePack (typed, a few µs a message; pickling the
same objects costs more than translating them).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from adapters.translate import get_format
from adapters.translate.base import AccountFact, Instruments, OrderFact, OrderRef, Translation, Untranslatable
from kernel import events as ev

TranslationResult = Translation | str  # a translation, or the one-line reason it failed


def translate_one(fmt: Any, raw: bytes, instruments: Instruments) -> TranslationResult:
    """`fmt.translate`, with every failure turned into its one-line reason (a translator's bug must not
    lose the message either)."""
    try:
        return fmt.translate(raw, instruments)
    except Untranslatable as e:
        return one_line(str(e))
    except Exception as e:
        return one_line(f"translator error: {type(e).__name__}: {e}")


def one_line(text: str) -> str:
    return " ".join(text.split())


class _WireFact(msgspec.Struct, array_like=True, gc=False):
    event: ev.AnyEvent  # type: ignore[valid-type]
    ref: OrderRef | None  # an order fact's; None for an account fact
    symbols: tuple[str, ...]
    if_changed: bool = False


class _Wire(msgspec.Struct, array_like=True, gc=False):
    reason: str
    skipped: str
    facts: tuple[_WireFact, ...]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[_Wire])
_worker: dict[str, Any] = {}


def _start(format_name: str, instruments: bytes) -> None:
    _worker["format"] = get_format(format_name)
    specs = msgspec.msgpack.decode(instruments, type=list[ev.InstrumentSpec])
    _worker["instruments"] = {spec.symbol: spec for spec in specs}


def _translate_chunk(raws: list[bytes]) -> bytes:
    fmt, instruments = _worker["format"], _worker["instruments"]
    out = []
    for raw in raws:
        result = translate_one(fmt, raw, instruments)
        if isinstance(result, str):
            out.append(_Wire(result, "", ()))
            continue
        facts = tuple(_WireFact(f.event, f.ref, (), f.if_changed) if isinstance(f, OrderFact)
                      else _WireFact(f.event, None, f.symbols) for f in result.facts)  # fmt: skip
        out.append(_Wire("", result.skipped, facts))
    return _encoder.encode(out)


def _unwire(blob: bytes) -> list[TranslationResult]:
    results: list[TranslationResult] = []
    for w in _decoder.decode(blob):
        if w.reason:
            results.append(w.reason)
            continue
        facts = tuple(OrderFact(f.ref, f.event, f.if_changed) if f.ref is not None else AccountFact(f.event, f.symbols)
                      for f in w.facts)  # fmt: skip
        results.append(Translation(facts, w.skipped))
    return results


class TranslatorProcess:
    """One worker process translating chunks of messages of one format, one chunk ahead of the caller."""

    def __init__(self, format_name: str, instruments: Instruments):
        blob = msgspec.msgpack.encode(list(instruments.values()))
        self._pool = multiprocessing.get_context("spawn").Pool(1, initializer=_start, initargs=(format_name, blob))

    def __enter__(self) -> TranslatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.terminate()
        self._pool.join()

    def translated(self, chunks: Iterable[list[bytes]]) -> Iterator[tuple[list[bytes], list[TranslationResult]]]:
        """Each chunk with its translations, in order; the next chunk is being translated meanwhile."""
        pending = None
        for chunk in chunks:
            submitted = (chunk, self._pool.apply_async(_translate_chunk, (chunk,)))
            if pending is not None:
                yield pending[0], _unwire(pending[1].get())
            pending = submitted
        if pending is not None:
            yield pending[0], _unwire(pending[1].get())
