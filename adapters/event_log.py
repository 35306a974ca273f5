"""The ledger's own event format: export a store's log as JSON lines, and record such a file into
another store.

One line per event, in log order:

    {"position": 17, "stream": "<uuid>", "version": 3, "topic": "OrderFilled.v1", "event": {...}}

`event` is the stored payload itself (msgspec JSON, decimals as strings, its `type` tag inside), so an
export is byte-for-byte what the store holds; `topic` carries the payload's version for upcasting;
`position`, `stream` and `version` say where it stood in the source store.

Recording a file replicates it: an event whose stream already holds that version in the target is
already there (a re-run of the same file records nothing); any other event is decided afresh by the
kernel (`record_event`) with its own timestamps, so duplicates by trade id or ack are still recognised
and a request that breaks a rule in the target is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO
from uuid import UUID

import msgspec

from adapters.translate.base import json_problem, not_utf8
from kernel import events as ev
from kernel.errors import LedgerError, RequestRefused
from kernel.ledger import Ledger
from kernel.streams import account_stream_id, order_stream_id

INGEST_BATCH_EVENTS = 5_000  # events per transaction when recording a file


class ExportLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    position: int
    stream: UUID
    version: int
    topic: str
    event: msgspec.Raw


class BadLine(LedgerError, ValueError):
    """A line of an events file that is not in the ledger's format; says which line and why."""


_line_decoder = msgspec.json.Decoder(ExportLine)


def export(ledger: Ledger, out: IO[bytes], *, after: int = 0, until: int | None = None) -> int:
    """Write the log as JSON lines; returns the number of events written."""
    written = 0
    for n in ledger.read_stored(after=after, until=until):
        out.write(b'{"position":%d,"stream":"%s","version":%d,"topic":"%s","event":'
                  % (n.id, str(n.originator_id).encode(), n.originator_version, n.topic.encode()))  # fmt: skip
        out.write(n.state)
        out.write(b"}\n")
        written += 1
    return written


def read_lines(lines: Iterable[bytes], source: str = "-") -> Iterator[tuple[ExportLine, ev.Event]]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = _line_decoder.decode(raw)
            event = ev.decode(line.topic, line.event)
        except (msgspec.DecodeError, UnicodeDecodeError, ev.UnknownEventError) as e:
            # a ValidationError is a DecodeError of valid JSON; text that is not UTF-8 is named so first
            why = not_utf8(raw) or (str(e) if isinstance(e, msgspec.ValidationError | ev.UnknownEventError)
                                    else json_problem(raw, e))  # fmt: skip
            raise BadLine(f"{source}:{number}: not a ledger event line: {why}") from None
        expected = stream_of(event)
        if line.stream != expected:
            raise BadLine(f"{source}:{number}: stream {line.stream} does not match the event's ({expected})")
        yield line, event


def stream_of(event: ev.Event) -> UUID:
    if isinstance(event, ev.OrderEvent):
        return order_stream_id(event.account_id, event.intent_id)
    return account_stream_id(event.account_id)  # type: ignore[attr-defined]


@dataclass
class IngestSummary:
    recorded: int = 0
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)


def ingest(ledger: Ledger, lines: Iterable[tuple[ExportLine, ev.Event]], *,
           batch_events: int = INGEST_BATCH_EVENTS) -> IngestSummary:  # fmt: skip
    """Record exported events into `ledger`, in batches; each batch is all-or-nothing."""
    summary = IngestSummary()
    chunk: list[tuple[ExportLine, ev.Event]] = []
    for item in lines:
        chunk.append(item)
        if len(chunk) >= batch_events:
            _ingest_chunk(ledger, chunk, summary)
            chunk = []
    if chunk:
        _ingest_chunk(ledger, chunk, summary)
    return summary


def _ingest_chunk(ledger: Ledger, chunk: list[tuple[ExportLine, ev.Event]], summary: IngestSummary) -> None:
    recorded = duplicates = 0
    with ledger.batch() as batch:
        for line, event in chunk:
            if _stream_version(batch, event) >= line.version:
                duplicates += 1  # this stream already holds that version: the event is there
                continue
            try:
                done = batch.record_event(event)
            except RequestRefused as e:
                raise RequestRefused(e.field, f"position {line.position}: {e.reason}") from None
            recorded += len(done)
            duplicates += not done
    summary.recorded += recorded
    summary.duplicates += duplicates


def _stream_version(batch, event: ev.Event) -> int:  # noqa: ANN001 - a kernel Batch
    if isinstance(event, ev.OrderEvent):
        return batch._order(event.account_id, event.intent_id).version
    return batch._account(event.account_id).version  # type: ignore[attr-defined]
