"""Keep the read tables at the head of the log: `project(store_url)` once, `project(..., follow=True)` live.

    from adapters.projector import project
    position = project("postgresql://...", follow=True)    # returns the position reached

How it goes:
1. The tables are created where missing, and their tracking position P read.
2. The books at P are rebuilt WITHOUT writing (`load_books`: by default the nearest projection snapshot
   at or before P plus the events after it up to P, else a fold from the start; see `BooksLoader`).
3. Then batches: read up to `batch_size` notifications after the position (one query), fold them (cut
   short after `max_batch_s`; `projections.replay.fold_notification`, which revives an order the books
   evicted when a late fact for it comes), and write the changed rows with the batch's last notification
   id as the tracking position, in one transaction (`ReadTables.write`), with the versions of the
   position, balance and account rows each event made (`Versions`: the history as-of queries read);
   then the batch's closed orders
   leave the books (`Books.evict_closed`: memory follows the open orders; their rows stay in the tables). A crash anywhere loses at most the batch
   in flight, whose rows roll back with its tracking: a restart redoes it, exactly once.
4. `follow=True`: after catching up, wait for more. On PostgreSQL a LISTEN on the events table's channel
   (`ledger_events`; the recorder NOTIFYs it in every insert transaction) wakes the projector at once,
   with a poll every `poll_interval_s` as a safety net (1 s by default); SQLite and memory stores have no
   notification, so they poll (every 0.05 s by default).
5. SIGINT / SIGTERM (while `project` runs in the main thread) or `Stop.set()` from anywhere: the batch in
   flight is finished and committed, connections are closed, and `project` returns the position reached.
   A second SIGINT raises KeyboardInterrupt at once (the batch in flight rolls back).
6. A follower outlives the PostgreSQL connections it holds (`connection_lost`: a server restart, a
   failover, an administrator's `pg_terminate_backend`, the network): the batch in flight rolls back with
   its tracking, `on_retry(error, delay_s)` is told, and after the delay (0.5 s, doubling up to 30 s while
   the server stays away) the projector starts again from the tables' committed position, as a restarted
   process would. Any other error, and any error of a one-off `project`, is raised.

`on_batch(BatchCommitted)` is called after each commit, with the wall time of the commit and each
event's `ts_recorded`: lag = `committed_ns - ts_recorded` (what the live-lag benchmark measures).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.follow import Listener, Stop, connection_lost, listener_for, stop_on_signals
from adapters.read_tables import FORMAT, ReadTables, ReadTablesError, open_read_tables
from adapters.read_tables.history import Versions
from kernel.ledger import Ledger
from projections import Books, Changes, ProjectionError
from projections.replay import fold_notification
from projections.snapshots import load_snapshot

DEFAULT_BATCH_SIZE = 5_000
MAX_BATCH_S = 0.2  # fold for at most this long before committing what is folded
LISTEN_POLL_S = 1.0  # PostgreSQL: the safety-net poll beside LISTEN
POLL_S = 0.05  # SQLite and memory: how often to look for new events
STOP_CHECK_EVERY = 4096  # events folded between looks at the stop flag while rebuilding
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 30.0  # a follower's wait after a lost connection, doubling up to the max

__all__ = ["BatchCommitted", "Projector", "Stop", "books_at", "connection_lost", "fold_log", "project"]


@dataclass(frozen=True)
class BatchCommitted:
    """One batch, committed: the tables now include every event up to `position`."""

    position: int  # the new tracking position (last notification id of the batch)
    first_id: int  # first notification id of the batch
    events: int  # events folded in the batch
    rows: int  # rows written or deleted
    committed_ns: int  # time.time_ns() just after the commit
    recorded_ns: tuple[int, ...]  # the batch's events' ts_recorded, in log order


BooksLoader = Callable[[Ledger, int, Stop], Books | None]
"""`(ledger, position, stop) -> Books` folded exactly up to notification id `position`, or None if stopped
first (the changes the books collected are discarded). `books_at` (snapshot + tail) by default;
`fold_log` folds from the start and ignores snapshots."""


def books_at(ledger: Ledger, position: int, stop: Stop) -> Books | None:
    """The default `BooksLoader`: the nearest projection snapshot at or before `position`
    (`projections.snapshots`, kept by `projections.replay.ensure_snapshots`), then the log after it."""
    start = load_snapshot(ledger, position)
    if start is None:
        return fold_log(ledger, position, stop)
    return _fold_into(start.books, ledger, start.position, position, stop)


def fold_log(ledger: Ledger, position: int, stop: Stop) -> Books | None:
    """A `BooksLoader` that folds the log from the start up to `position` (no snapshot)."""
    return _fold_into(Books(), ledger, 0, position, stop)


def _fold_into(books: Books, ledger: Ledger, after: int, until: int, stop: Stop) -> Books | None:
    """Fold (after, until] into `books`, evicting closed orders every STOP_CHECK_EVERY events and at the end
    (what the books collected as changes is discarded by the caller: those rows are in the tables)."""
    for count, notification in enumerate(ledger.read_stored(after=after, until=until), 1):
        fold_notification(ledger, books, notification)  # revives an evicted order a late fact is about
        if count % STOP_CHECK_EVERY == 0:
            if stop:
                return None
            books.evict_closed()
    books.evict_closed()
    return books


class Projector:
    """The batch loop behind `project`; usable on its own (a bench drives it in a thread with a `Stop`)."""

    def __init__(self, ledger: Ledger, tables: ReadTables, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 max_batch_s: float = MAX_BATCH_S, on_batch: Callable[[BatchCommitted], Any] | None = None,
                 load_books: BooksLoader = books_at):  # fmt: skip
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.ledger, self.tables = ledger, tables
        self.batch_size, self.max_batch_s = batch_size, max_batch_s
        self.on_batch, self.load_books = on_batch, load_books
        self.books: Books | None = None
        self.position = 0
        self._buffer: list[Any] = []  # notifications read but not folded yet (a batch cut short)
        self._page_full = False  # the last page read held `batch_size` notifications: maybe more behind
        self.versions = Versions()

    def start(self, stop: Stop) -> bool:
        """Create the tables, read the tracking position and rebuild the books there. False if stopped."""
        self.tables.create()
        if self.tables.stored_format() < FORMAT:  # derived rows in an older format: rebuild them from the log
            self.tables.reset()
        position = self.tables.position()
        head = self.ledger.head()
        if position > head:
            raise ReadTablesError(f"the read tables are at position {position}, beyond the log's head {head}: "
                                  "they were built from another store; reset them")  # fmt: skip
        books = self.load_books(self.ledger, position, stop) if position else Books()
        if books is None:
            return False
        books.take_changes()  # those rows are in the tables already
        self.books, self.position, self._buffer = books, position, []
        self.versions = Versions()
        return True

    def run_batch(self) -> int:
        """Fold and commit one batch; returns the number of events folded (0: nothing new)."""
        books = self.books
        if books is None:
            raise RuntimeError("Projector.start() first (or again, after a failed batch)")
        if not self._buffer:
            self._buffer = list(self.ledger.recorder.select_notifications(
                start=self.position, limit=self.batch_size, inclusive_of_start=False))  # fmt: skip
            self._page_full = len(self._buffer) == self.batch_size
            if not self._buffer:
                return 0
        pending, ledger = self._buffer, self.ledger
        deadline = time.perf_counter() + self.max_batch_s
        recorded: list[int] = []
        changed: list[Changes] = []
        capture = self.versions.capture
        last = self.position
        try:
            for notification in pending:
                try:
                    event = fold_notification(ledger, books, notification)  # on an error, changes nothing
                except Exception as e:
                    # A notification the books cannot fold: commit what came before it, then stop here.
                    self._buffer = pending[len(recorded) :]
                    if recorded:
                        self._commit(books, last, pending[0].id, recorded, changed)
                    raise ProjectionError(f"notification {notification.id}: {e} (the read tables are at "
                                          f"{self.position})") from e  # fmt: skip
                changes = books.take_changes()  # this event's: its versions are as of its id
                if changes.positions or changes.balances or changes.accounts:
                    capture(books, changes, notification.id)
                changed.append(changes)
                recorded.append(event.ts_recorded)
                last = notification.id
                if len(recorded) % 256 == 0 and time.perf_counter() > deadline:
                    break
        except BaseException:
            self.books = None  # folded past what the tables hold (or stopped at what they cannot hold)
            raise
        self._buffer = pending[len(recorded) :]
        self._commit(books, last, pending[0].id, recorded, changed)
        return len(recorded)

    def _commit(self, books: Books, last: int, first: int, recorded: list[int], changed: list[Changes]) -> None:
        try:
            rows = self.tables.write(books, Changes.union(changed), last, self.versions.take())
            # The batch's rows are written: its closed orders may leave the books (their rows stay).
            books.evict_closed()
        except BaseException:
            self.books = None  # folded past what the tables hold: rebuild (start) before going on
            raise
        self.position = last
        if self.on_batch is not None:
            self.on_batch(BatchCommitted(last, first, len(recorded), rows, time.time_ns(), tuple(recorded)))

    def catch_up(self, stop: Stop) -> int:
        """Batches until the head of the log (as it was when the last page was read), or until stopped."""
        while not stop:
            reading = not self._buffer
            folded = self.run_batch()
            if reading and (folded == 0 or not self._page_full) and not self._buffer:
                break  # that page ended before `batch_size`: the head, and all of it is committed
        return self.position

    def follow(self, stop: Stop, *, poll_interval_s: float, listener: Listener | None = None) -> int:
        """Catch up, then wait for new events (woken by `listener` or every `poll_interval_s`) until stopped."""
        while not stop:
            if listener is not None:
                listener.drain()  # before reading: what is committed after this wakes the next wait
            self.catch_up(stop)
            if stop:
                break
            fds = listener.fds() if listener is not None else []
            stop.wait(poll_interval_s, fds)
        return self.position


def _position_or(tables: ReadTables, known: int) -> int:
    """The tables' tracking position, or `known` (the last one committed here) while they are out of reach."""
    try:
        return tables.position()
    except Exception as error:
        if connection_lost(error):
            return known
        raise


def project(source: str | Ledger | None = None, *, follow: bool = False, batch_size: int = DEFAULT_BATCH_SIZE,
            max_batch_s: float = MAX_BATCH_S, poll_interval_s: float | None = None,
            tables: ReadTables | None = None, on_batch: Callable[[BatchCommitted], Any] | None = None,
            on_start: Callable[[int, int], Any] | None = None, stop: Stop | None = None,
            handle_signals: bool = True, load_books: BooksLoader = books_at,
            on_retry: Callable[[BaseException, float], Any] | None = None) -> int:  # fmt: skip
    """Bring the read tables to the head of the log (and keep them there with `follow`); returns the
    tracking position reached.

    `source`: a store URL (opened and closed here; None: LEDGER_STORE_URL, else the default store) or an
    open `Ledger` (left open). `tables`: default the tables beside the store (`open_read_tables`); a
    memory:// store must pass its own `MemoryReadTables`, or they vanish on return. `on_start(position,
    head)` is called once the books are rebuilt (a progress bar's start and total). `poll_interval_s`:
    default 1 s beside LISTEN on PostgreSQL, 0.05 s elsewhere. `stop`: set it to stop from another thread.
    `on_retry(error, delay_s)`: a follower lost its connections and starts again after `delay_s` (step 6).
    """
    ledger = source if isinstance(source, Ledger) else Ledger.open(source)
    own_tables, own_stop = tables is None, stop is None
    stop = stop if stop is not None else Stop()
    read_tables: ReadTables | None = None
    delay, reached = RETRY_FIRST_S, 0
    try:
        read_tables = tables if tables is not None else open_read_tables(ledger)
        with stop_on_signals(stop, handle_signals):
            while True:
                listener: Listener | None = None
                projector: Projector | None = None
                try:
                    listener = listener_for(ledger) if follow else None  # listening before the first read
                    projector = Projector(ledger, read_tables, batch_size=batch_size, max_batch_s=max_batch_s,
                                          on_batch=on_batch, load_books=load_books)  # fmt: skip
                    if not projector.start(stop):  # stopped while rebuilding: nothing written
                        return read_tables.position()
                    delay = RETRY_FIRST_S  # connected and rebuilt: a later loss waits the least again
                    if on_start is not None:
                        on_start(projector.position, ledger.head())
                    if not follow:
                        return projector.catch_up(stop)
                    interval = poll_interval_s or (LISTEN_POLL_S if listener is not None else POLL_S)
                    return projector.follow(stop, poll_interval_s=interval, listener=listener)
                except Exception as error:
                    if not follow or not connection_lost(error):
                        raise
                    if projector is not None:
                        reached = max(reached, projector.position)  # the committed position
                    if on_retry is not None:
                        on_retry(error, delay)
                finally:
                    if listener is not None:
                        listener.close()
                stop.wait(delay)
                if stop:
                    return _position_or(read_tables, reached)
                delay = min(2 * delay, RETRY_MAX_S)
    finally:
        if own_tables and read_tables is not None:
            read_tables.close()
        if not isinstance(source, Ledger):
            ledger.close()
        if own_stop:
            stop.close()
