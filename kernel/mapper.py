"""eventsourcing's extension point for payloads: a Mapper that stores catalogue events as msgspec JSON.

The stored topic is the event's stable name and version (`OrderFilled.v1`), not a Python path, so
moving code never orphans history; decoding upcasts older versions (`kernel.events.UPCASTERS`).
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent

from kernel import events as ev


class Envelope(NamedTuple):
    """An event with its place in its stream (what eventsourcing calls originator id and version)."""

    stream_id: UUID
    version: int
    event: ev.Event


class MsgspecMapper(Mapper):  # type: ignore[type-arg]
    def __init__(self, compressor: Compressor | None = None, cipher: Cipher | None = None):
        super().__init__(transcoder=None, compressor=compressor, cipher=cipher)  # type: ignore[arg-type]

    def to_stored_event(self, envelope: Envelope) -> StoredEvent:  # type: ignore[override]
        state = ev.encode(envelope.event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(envelope.stream_id, envelope.version, ev.topic_of(envelope.event), state)

    def to_domain_event(self, stored: StoredEvent) -> Envelope:  # type: ignore[override]
        return Envelope(stream_id(stored.originator_id), stored.originator_version, self.decode(stored))

    def decode(self, stored: StoredEvent) -> ev.Event:
        state = stored.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return ev.decode(stored.topic, state)


def stream_id(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
