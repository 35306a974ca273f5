"""Reading an input file of messages: is it text at all (`not_text`), its sniffed head put back before the
rest (`Rejoined`, counting bytes for a progress bar), and its messages in chunks of a batch (`in_chunks`)."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any


def in_chunks(raws: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for raw in raws:
        chunk.append(raw)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def not_text(data: bytes, *, complete: bool) -> str:
    """Why these bytes are not a text file of messages ("" when they are)."""
    if not data.strip():
        return "empty file: no messages" if not data else "empty file: only blank lines"
    nul = data.find(b"\x00")
    if nul >= 0:
        return f"binary file: NUL byte at offset {nul}"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=complete)
    except UnicodeDecodeError as e:
        return f"binary file: not UTF-8 text (byte {e.start})"
    return ""


class Rejoined(io.RawIOBase):
    """The sniffed head followed by the rest of the stream, counting bytes for a progress bar."""

    def __init__(self, head: bytes, rest: IO[bytes], on_bytes: Callable[[int], None] | None):
        self._head, self._rest, self._on_bytes = head, rest, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._rest.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        if self._on_bytes is not None and n:
            self._on_bytes(n)
        return n
