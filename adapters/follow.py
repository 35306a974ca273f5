"""What a follower waits with, and what it waits out (`adapters.projector.project(..., follow=True)`):

- `Stop`: a request to stop that also wakes a waiting follower at once; `stop_on_signals` sets it on
  SIGINT / SIGTERM;
- `Listener`: a LISTEN on the events table's channel (PostgreSQL), reopened after it broke;
- `connection_lost(error)`: whether an error is a PostgreSQL connection that broke or could not be opened
  (the follower starts again after a delay) rather than one that must stop it.
"""

from __future__ import annotations

import os
import select
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kernel.ledger import Ledger


class Stop:
    """A request to stop, which also wakes a waiting projector at once (a self-pipe). Thread-safe, and
    safe to `set()` from a signal handler."""

    def __init__(self) -> None:
        self.requested = False
        self.reason = ""
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)

    def set(self, reason: str = "requested") -> None:
        self.reason = self.reason or reason
        self.requested = True
        try:
            os.write(self._w, b"\0")
        except (BlockingIOError, OSError):  # the pipe is full (already woken) or closed
            pass

    def __bool__(self) -> bool:
        return self.requested

    def wait(self, timeout: float, fds: Sequence[int] = ()) -> list[int]:
        """Sleep up to `timeout` s, or until stopped, or until one of `fds` is readable (returned)."""
        if self.requested:
            return []
        ready, _, _ = select.select([self._r, *fds], [], [], max(timeout, 0.0))
        return [fd for fd in ready if fd != self._r]

    def close(self) -> None:
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass


class Listener:
    """LISTEN on a PostgreSQL channel over a connection of its own; reconnects after a failure (and the
    projector polls meanwhile)."""

    def __init__(self, connect_kwargs: dict[str, Any], channel: str):
        self.connect_kwargs, self.channel = {**connect_kwargs, "autocommit": True}, channel
        self.conn: Any = None
        self.notified = 0

    def open(self) -> Listener:
        import psycopg
        from psycopg.sql import SQL, Identifier

        try:
            self.conn = psycopg.connect(**self.connect_kwargs)
            self.conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))
        except psycopg.OperationalError:
            self.close()
        return self

    def fds(self) -> list[int]:
        if self.conn is None:
            self.open()
        return [self.conn.fileno()] if self.conn is not None else []

    def drain(self) -> None:
        import psycopg

        if self.conn is None:
            return
        try:
            self.notified += sum(1 for _ in self.conn.notifies(timeout=0))
        except psycopg.Error:  # the connection broke: poll until it can be opened again
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


def listener_for(ledger: Ledger) -> Listener | None:
    """A LISTEN on the ledger's events channel if its store is PostgreSQL, else None (poll)."""
    recorder = ledger.recorder
    channel = getattr(recorder, "channel_name", None)
    datastore = getattr(recorder, "datastore", None)
    if channel is None or not hasattr(getattr(datastore, "pool", None), "kwargs"):
        return None
    from adapters.read_tables.postgres import connection_kwargs

    return Listener(connection_kwargs(datastore), channel).open()


@contextmanager
def stop_on_signals(stop: Stop, enabled: bool = True) -> Iterator[None]:
    """While inside: SIGINT and SIGTERM set `stop` (a second SIGINT raises KeyboardInterrupt). Only in the
    main thread, where Python delivers signals; elsewhere a no-op."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def connection_lost(error: BaseException) -> bool:
    """Whether `error` is, or was caused by, a PostgreSQL connection that broke or could not be opened
    (psycopg's OperationalError or InterfaceError, raised by the read tables or the LISTEN, wrapped by
    eventsourcing's recorder, or by the projector around a revival's stream read): what a follower waits out.
    A bad event, a schema problem, a SQLite error, and an error the server names as a refused login or a
    missing database (SQLSTATE class 28, 3D000) are not. (At connect time libpq reports those two without a
    SQLSTATE, as a plain OperationalError: they are then waited out like a server that is down, with a note
    every 30 s at most.)"""
    import psycopg
    from psycopg import errors

    lost = (psycopg.OperationalError, psycopg.InterfaceError)
    refused = (errors.InvalidAuthorizationSpecification, errors.InvalidPassword, errors.InvalidCatalogName)
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:  # the whole chain: `raise ... from` and implicit
        if isinstance(cause, refused):
            return False
        if isinstance(cause, lost):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
