"""The Ledger application: opens a store by URL, records commands as events, reads the log.

Consistency is eventsourcing's optimistic concurrency: every event is appended at its stream's next
version and the store refuses a second event at the same `(stream, version)`. Aggregates are cached in
process and decided against; when another writer got there first the insert conflicts, the touched
streams are reloaded from the store and the whole batch is decided again on fresh state. So two
writers on the same order never lose an event, and a duplicate that raced its original is caught.
"""

from __future__ import annotations

import gc
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    RecordConflictError,
)
from eventsourcing.utils import Environment

from kernel import events as ev
from kernel.account import Account
from kernel.commands import Commands, Decision
from kernel.errors import ConflictingFact, LedgerError, RequestRefused
from kernel.exchange.models import OrderState
from kernel.mapper import Envelope, MsgspecMapper
from kernel.order import Order
from kernel.stores import APP_NAME, env_for_url, prepare_store, resolve_store_url
from kernel.streams import account_key, account_stream_id, order_key, order_stream_id, stream_uuid

Aggregate = TypeVar("Aggregate", Order, Account)
Clock = Callable[[], int]

CACHE_SIZE_MAX = 200_000  # aggregates kept in memory; beyond it the least recently used are reloaded
CONFLICT_RETRIES_MAX = 20
CONFLICT_BACKOFF_S = 0.002  # times the attempt number, times a random fraction
READ_PAGE_SIZE = 10_000  # notifications fetched per query when reading the log


class ConcurrencyError(LedgerError):
    """Another writer kept winning the race for the same streams; nothing of this batch was recorded."""


class Ledger(Commands):
    """`Ledger.open("postgresql://...")`, then one method per fact; `with ledger.batch() as b:` for many."""

    def __init__(self, env: dict[str, str], *, clock: Clock = time.time_ns, store_url: str = ""):
        self.store_url = store_url
        prepare_store(env)
        self.factory = InfrastructureFactory.construct(Environment(APP_NAME, env))
        self.recorder: ApplicationRecorder = self.factory.application_recorder()
        self.mapper = MsgspecMapper(compressor=self.factory.compressor(), cipher=self.factory.cipher())
        self.clock = clock
        self._last_stamp = 0  # the latest ts_recorded handed out: stamps never go backwards (see `_now`)
        self._snapshots: AggregateRecorder | None = None
        self._cache: OrderedDict[str, Order | Account] = OrderedDict()

    @classmethod
    def open(cls, store_url: str | None = None, *, clock: Clock = time.time_ns) -> Ledger:
        """Open (creating tables on first use) the store at `store_url`, else `LEDGER_STORE_URL`, else the
        embedded default `sqlite:///./ledger.db`."""
        url = resolve_store_url(store_url)
        return cls(env_for_url(url), clock=clock, store_url=url)

    def close(self) -> None:
        self.factory.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing
    def batch(self) -> Batch:
        """Many commands, one transaction: all of them are recorded, or (on an error) none."""
        return Batch(self)

    def _record(self, decide: Decision) -> tuple[ev.Event, ...]:
        with self.batch() as batch:
            batch._record(decide)
        return batch.results[0]  # as finally decided: a retry may have found the fact already recorded

    def _now(self) -> int:
        """The `ts_recorded` of the next event: the clock, but never earlier than the previous stamp of this
        Ledger (a wall clock can step back): what one Ledger appends has non-decreasing `ts_recorded`."""
        now = self._last_stamp = max(self.clock(), self._last_stamp)
        return now

    def _saw_stamp(self, ts_recorded: int) -> None:
        """An event recorded with its own stamp (an ingested export): stamps after it do not go below it."""
        self._last_stamp = max(self._last_stamp, ts_recorded)

    def _commit(self, batch: Batch) -> None:
        if batch.stale:
            self._evict(batch.working)
            batch.redecide()
        for attempt in range(CONFLICT_RETRIES_MAX):
            if not batch.pending:
                return
            try:
                self.recorder.insert_events([self.mapper.to_stored_event(p) for p in batch.pending])
            except RecordConflictError:
                self._evict(batch.working)
                # Another writer got there first. Back off a little (jittered, so two writers racing
                # for the same stream stop colliding), then decide again on fresh state.
                time.sleep(random.random() * CONFLICT_BACKOFF_S * attempt)
                try:
                    batch.redecide()
                except BaseException:
                    self._evict(batch.working)  # they hold events that will not be recorded
                    raise
                continue
            except BaseException:
                self._evict(batch.working)
                raise
            for stream, aggregate in batch.settled():
                self._remember(stream, aggregate)
            return
        self._evict(batch.working)
        raise ConcurrencyError(f"gave up after {CONFLICT_RETRIES_MAX} conflicting attempts")

    def _evict(self, streams: Iterable[str]) -> None:
        for stream in streams:
            self._cache.pop(stream, None)

    def _remember(self, stream: str, aggregate: Order | Account) -> None:
        self._cache[stream] = aggregate
        self._cache.move_to_end(stream)
        while len(self._cache) > CACHE_SIZE_MAX:
            self._cache.popitem(last=False)

    def _cached(self, stream: str, make: Callable[[], Aggregate]) -> Aggregate:
        aggregate = self._cache.get(stream)
        if aggregate is None:
            aggregate = self._load(stream, make)
            self._remember(stream, aggregate)
        else:
            self._cache.move_to_end(stream)
        return aggregate  # type: ignore[return-value]

    def _load(self, stream: str | UUID, make: Callable[[], Aggregate]) -> Aggregate:
        aggregate = make()
        for stored in self.recorder.select_events(stream if isinstance(stream, UUID) else stream_uuid(stream)):
            aggregate.apply(self.mapper.decode(stored))  # type: ignore[arg-type]
        return aggregate

    # ------------------------------------------------------------------ reading
    def order(self, account_id: str, intent_id: str) -> Order | None:
        """The order as the store has it now (read fresh, not from this process's cache)."""
        order = self._load(order_stream_id(account_id, intent_id), lambda: Order(account_id, intent_id))
        return order if order.exists else None

    def order_state(self, account_id: str, intent_id: str) -> OrderState | None:
        order = self.order(account_id, intent_id)
        return order.order_state() if order else None

    def account(self, account_id: str) -> Account | None:
        account = self._load(account_stream_id(account_id), lambda: Account(account_id))
        return account if account.exists else None

    def existing_streams(self, keys: Iterable[str]) -> set[str]:
        """Which of these streams (keys as `order_key`/`account_key` make them) hold at least one event:
        one query where the store's recorder offers `existing_originator_ids` (an ingest asks this of
        thousands of candidate streams per batch), else one read of each."""
        found, ids = set(), {}
        for key in keys:
            cached = self._cache.get(key)
            if cached is not None and cached.version:
                found.add(key)
            else:
                ids[stream_uuid(key)] = key
        if not ids:
            return found
        lookup = getattr(self.recorder, "existing_originator_ids", None)
        if lookup is not None:
            return found | {ids[i] for i in lookup(ids)}
        return found | {key for i, key in ids.items() if self.recorder.select_events(i, limit=1)}

    def snapshot_recorder(self) -> AggregateRecorder:
        """eventsourcing's aggregate recorder for purpose "snapshots", in the same store as the log (tables
        `stored_snapshots` on SQLite, `ledger_snapshots` on PostgreSQL), created on first use. The kernel
        stores what it is given; what a snapshot holds is its writer's business."""
        if self._snapshots is None:
            self._snapshots = self.factory.aggregate_recorder("snapshots")
        return self._snapshots

    def head(self) -> int:
        """The last notification id in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def read(self, *, after: int = 0, until: int | None = None, page_size: int = READ_PAGE_SIZE,
             topics: Sequence[str] = ()) -> Iterator[tuple[int, ev.Event]]:  # fmt: skip
        """The log in order, as (notification id, event), fetched in pages of `page_size`; with `topics`
        (e.g. `events.topics_of(cls)`), only the events stored under those topics."""
        for notification in self.read_stored(after=after, until=until, page_size=page_size, topics=topics):
            yield notification.id, self.mapper.decode(notification)

    def read_stream(self, stream_id: UUID, *, limit: int | None = None) -> list[tuple[int, ev.Event]]:
        """One stream's events (an order's, an account's: `streams.order_stream_id`, `account_stream_id`) in
        version order, as (notification id, event), the first `limit` of them if given: by index where the
        recorder can (`select_stream`: PostgreSQL, SQLite), else by a scan of the log (memory://)."""
        select_stream = getattr(self.recorder, "select_stream", None)
        if select_stream is not None:
            notifications = select_stream(stream_id, limit)
        else:
            notifications = [n for n in self.read_stored() if n.originator_id == stream_id][:limit]
        return [(n.id, self.mapper.decode(n)) for n in notifications]

    def read_stored(self, *, after: int = 0, until: int | None = None, page_size: int = READ_PAGE_SIZE,
                    topics: Sequence[str] = ()):  # fmt: skip
        while True:
            page = self.recorder.select_notifications(start=after, limit=page_size, stop=until, topics=topics,
                                                      inclusive_of_start=False)  # fmt: skip
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].id


class Batch(Commands):
    """Commands decided now against working state, recorded together when the `with` block ends.

    Each call returns what it decided to record. That is provisional until the block ends: if another
    writer got there first, the batch is decided again and `results` holds the final answers."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.working: dict[str, Order | Account] = {}
        self.pending: list[Envelope] = []
        self.written: set[str] = set()  # streams with pending events
        self.unverified: set[str] = set()  # assumed-new streams not read from the store
        self.verify = False  # read every stream from the store, assuming nothing (after a conflict)
        self.stale = False  # a decision failed half-applied: working state must be rebuilt before commit
        self._decisions: list[Decision] = []
        self.results: list[tuple[ev.Event, ...]] = []  # per command, as last decided
        self._reads: set[str] = set()  # streams the current decision looked at

    def __enter__(self) -> Batch:
        # A batch allocates a few tracked objects per command and frees them all at commit; letting the
        # cyclic collector run meanwhile means full passes over every cached aggregate (measured: about
        # half the batch time). A batch is bounded, so pause the collector for its lifetime.
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.ledger._commit(self)
            elif self.pending or self.stale:  # cached aggregates hold events that will not be recorded
                self.ledger._evict(self.working)
        finally:
            if self._gc_was_enabled:
                gc.enable()

    def _now(self) -> int:
        return self.ledger._now()

    def _saw_stamp(self, ts_recorded: int) -> None:
        self.ledger._saw_stamp(ts_recorded)

    def _order(self, account_id: str, intent_id: str, *, expect_new: bool = False) -> Order:
        stream = order_key(account_id, intent_id)
        self._reads.add(stream)
        aggregate = self.working.get(stream)
        if aggregate is None:
            if expect_new and not self.verify and stream not in self.ledger._cache:
                # Optimistic: a new intent's stream is assumed empty without a read. Were it not, the
                # insert at version 1 conflicts and the batch is decided again with `verify` on.
                aggregate = Order(account_id, intent_id)
                self.unverified.add(stream)
            else:
                aggregate = self.ledger._cached(stream, lambda: Order(account_id, intent_id))
            self.working[stream] = aggregate
        return aggregate  # type: ignore[return-value]

    def _account(self, account_id: str) -> Account:
        stream = account_key(account_id)
        self._reads.add(stream)
        aggregate = self.working.get(stream)
        if aggregate is None:
            aggregate = self.working[stream] = self.ledger._cached(stream, lambda: Account(account_id))
        return aggregate  # type: ignore[return-value]

    def _record(self, decide: Decision) -> tuple[ev.Event, ...]:
        self._reads.clear()
        try:
            decided = self._apply(decide)
        except (RequestRefused, ConflictingFact):
            # A refusal is never decided on cached state alone: another process may have written the
            # stream since it was cached. Re-read what the decision looked at, and decide once more.
            stale = {stream for stream in self._reads if stream not in self.written}
            if self.verify or not stale:
                raise
            for stream in stale:
                self.working.pop(stream, None)
                self.unverified.discard(stream)
            self.ledger._evict(stale)
            self.verify = True
            try:
                decided = self._apply(decide)
            finally:
                self.verify = False
        self._decisions.append(decide)
        self.results.append(decided)
        return decided

    def _apply(self, decide: Decision) -> tuple[ev.Event, ...]:
        decided = decide(self)
        mark = len(self.pending)
        try:
            for e in decided:
                if isinstance(e, ev.OrderEvent):
                    stream = order_key(e.account_id, e.intent_id)
                else:
                    stream = account_key(e.account_id)
                aggregate = self.working[stream]  # decisions load every stream they decide for
                aggregate.apply(e)  # type: ignore[arg-type]
                self.written.add(stream)
                self.pending.append(Envelope(stream_uuid(stream), aggregate.version, e))
        except BaseException:
            # Part of this decision reached the working state and none of it will be recorded.
            del self.pending[mark:]
            self.stale = True
            raise
        return tuple(decided)

    def savepoint(self) -> tuple[int, int, int]:
        """Where the batch stands now; `rollback_to` forgets every decision made since (e.g. the first facts
        of a message whose last fact was refused, so that the message records all or nothing)."""
        return (len(self._decisions), len(self.results), len(self.pending))

    def rollback_to(self, mark: tuple[int, int, int]) -> None:
        decisions, results, pending = mark
        if (len(self._decisions), len(self.results), len(self.pending)) == mark:
            return
        del self._decisions[decisions:], self.results[results:], self.pending[pending:]
        self.stale = True  # the working aggregates hold the forgotten events: decided again before commit

    def settled(self) -> Iterator[tuple[str, Order | Account]]:
        """After a successful insert: the aggregates now known to match the store."""
        for stream, aggregate in self.working.items():
            if stream in self.written or stream not in self.unverified:
                yield stream, aggregate

    def redecide(self) -> None:
        """After a conflict: decide every command again on state read from the store."""
        self.working.clear()
        self.pending.clear()
        self.written.clear()
        self.unverified.clear()
        self.verify = True
        self.stale = False
        self.results = [self._apply(decide) for decide in self._decisions]
