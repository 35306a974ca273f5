"""The log read a page at a time for a fold (`projections.replay`), and a page's events decoded at once.

    read_page(ledger, after, until, limit) -> Page; decode_page(ledger, page) -> list[Event]
    notification_of(ledger, page, index) -> the stored notification of one row (stream id and version too)

A `Page` holds the rows' notification ids, topics and payloads, column by column. How one is read:
- with a mapper that has neither a cipher nor a compressor, from a recorder with `select_page`
  (PostgreSQL: `adapters.stores.postgres`): the server aggregates the page into its ids, its topics
  joined by commas and its payloads as one JSON array (`Page.array`), decoded in one call; the payloads
  one by one (`page_states`) are read again only for a page that must be decoded row by row (an older
  topic to upcast, a mismatch). A recorder with only `select_rows`: plain tuples from a binary cursor.
- otherwise (SQLite, memory, an encrypted or compressed store) `recorder.select_notifications`, the
  notifications kept on the page (`Page.notifications`) for `mapper.decode`.
All give the same ids, topics and payloads, so the same events. Only a revival (an evicted order's late
fact) needs a row's stream id and version: `notification_of` reads that one notification again by id.
"""

from __future__ import annotations

from typing import Any

import msgspec

from kernel import events as ev
from kernel.ledger import Ledger


class Page:
    """Rows of the log in id order: `ids`, `topics`, `states` (payloads as stored; None until read when the
    page came as `array`, the JSON array of its payloads), and the recorder's notifications when the page
    was read through `select_notifications` (else None)."""

    __slots__ = ("array", "ids", "notifications", "states", "topics")

    def __init__(self, ids: Any, topics: Any, states: Any, notifications: list[Any] | None = None,
                 array: bytes | None = None) -> None:  # fmt: skip
        self.ids = ids
        self.topics = topics
        self.states = states
        self.notifications = notifications
        self.array = array

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def last_id(self) -> int:
        return self.ids[-1]


def _plain(ledger: Ledger) -> bool:
    """Whether the stored payloads are the events' JSON as they are (no cipher, no compressor)."""
    mapper = ledger.mapper
    return mapper.cipher is None and mapper.compressor is None


def read_page(ledger: Ledger, after: int, until: int | None, limit: int) -> Page:
    """Up to `limit` rows with `after < id <= until` (no upper bound when `until` is None), in id order."""
    recorder = ledger.recorder
    plain = _plain(ledger)
    select_page = getattr(recorder, "select_page", None)
    if select_page is not None and plain:
        ids, topics, array = select_page(after, limit, until)
        names = topics.split(",") if ids else []
        if len(names) == len(ids):  # else a topic holds a comma: read the rows
            return Page(ids, names, None, array=array)
    select_rows = getattr(recorder, "select_rows", None)
    if select_rows is not None and plain:
        rows = select_rows(after, limit, until)
        if not rows:
            return Page((), (), ())
        ids, topics, states = zip(*rows, strict=True)
        return Page(ids, topics, states)
    notifications = list(recorder.select_notifications(start=after, limit=limit, stop=until,
                                                       inclusive_of_start=False))  # fmt: skip
    return Page([n.id for n in notifications], [n.topic for n in notifications], [n.state for n in notifications],
                notifications)  # fmt: skip


def decode_page(ledger: Ledger, page: Page) -> list[ev.Event]:
    """The events of a page, as `ledger.mapper.decode` gives them one by one: with neither a cipher nor a
    compressor, the page's payloads are decoded in one msgspec call (the same typed decoder over a JSON
    array of them), and each event's type checked against its row's topic; a page with an older topic (to
    upcast) or a mismatch is decoded one by one (which upcasts, or refuses)."""
    if not page.ids:
        return []
    if not _plain(ledger):
        assert page.notifications is not None
        decode = ledger.mapper.decode
        return [decode(n) for n in page.notifications]
    array = page.array if page.array is not None else b"[" + b",".join(page.states) + b"]"
    try:
        events = _PAGE_DECODER.decode(array)
    except msgspec.DecodeError:
        events = None
    if events is not None and len(events) == len(page.ids) and list(map(ev.topic_of, events)) == list(page.topics):
        return events
    # one by one: what `MsgspecMapper.decode` does for a plain payload
    return [ev.decode(topic, state) for topic, state in zip(page.topics, page_states(ledger, page), strict=True)]


def page_states(ledger: Ledger, page: Page) -> Any:
    """The page's payloads one by one (read again, by the page's id range, when it came as one array)."""
    if page.states is None:
        ids = page.ids
        if not ids:
            page.states = []
            return page.states
        rows = ledger.recorder.select_rows(ids[0] - 1, len(ids), ids[-1])  # type: ignore[attr-defined]
        assert [row[0] for row in rows] == list(ids), "the log changed under a page"
        page.states = [row[2] for row in rows]
    return page.states


def notification_of(ledger: Ledger, page: Page, index: int) -> Any:
    """The stored notification of the page's row `index` (with its stream id and version)."""
    if page.notifications is not None:
        return page.notifications[index]
    at = page.ids[index]
    found = ledger.recorder.select_notifications(start=at, limit=1, stop=at, inclusive_of_start=True)
    assert found and found[0].id == at, f"notification {at} is no longer in the log"
    return found[0]


_PAGE_DECODER = msgspec.json.Decoder(list[ev.AnyEvent])  # type: ignore[valid-type]
