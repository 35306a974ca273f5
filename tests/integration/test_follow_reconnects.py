"""`ledger project --follow` outlives the PostgreSQL connections it holds: a server restart, a failover or
an administrator's `pg_terminate_backend` drops them all (the store's pool, the read tables', the LISTEN);
the follower says so in one line, starts again from the tables' committed position and goes on, exactly
once. Errors that are not a lost connection still stop it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError

from adapters.projector import connection_lost
from adapters.read_tables import open_read_tables
from projections import ProjectionError
from tests.integration.test_read_tables import assert_tables_equal_fold, record_day, tracked, wait_until

LEDGER = Path(sys.executable).with_name("ledger")


def _wrapped(cause: BaseException) -> StoreOperationalError:
    """What eventsourcing's recorder raises: its own error, from the driver's."""
    try:
        raise StoreOperationalError(str(cause)) from cause
    except StoreOperationalError as e:
        return e


def _chained(error: BaseException, cause: BaseException) -> BaseException:
    try:
        raise error from cause
    except BaseException as e:
        return e


@pytest.mark.parametrize(("error", "lost"), [
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.OperationalError("connection refused"), True),
    (psycopg.InterfaceError("the connection is closed"), True),
    (_wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), True),
    (_wrapped(psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec")), True),  # the server is down
    (_chained(ProjectionError("notification 20: server closed the connection (the read tables are at 19)"),
              _wrapped(psycopg.OperationalError("server closed the connection"))), True),  # a revival's stream read
    (psycopg.errors.InvalidPassword("password authentication failed"), False),  # nothing to wait for
    (_wrapped(psycopg.errors.InvalidCatalogName('database "gone" does not exist')), False),
    (_wrapped(sqlite3.OperationalError("no such table: ledger_events")), False),
    (psycopg.errors.UndefinedTable("relation does not exist"), False),
    (ProjectionError("notification 7: cannot fold"), False),
])  # fmt: skip
def test_what_counts_as_a_lost_connection(error, lost):
    assert connection_lost(error) is lost


def _terminate(admin: psycopg.Connection, application_name: str) -> int:
    return admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                         (application_name,)).fetchone()[0]  # fmt: skip


@pytest.mark.postgres
def test_follow_goes_on_after_the_server_drops_its_connections(pg_url, open_ledger, tmp_path):
    ledger = open_ledger(pg_url)
    record_day(ledger, orders=10)
    name = f"ledger-follow-{os.getpid()}"  # libpq names every connection the follower opens (PGAPPNAME)
    env = {**os.environ, "PGAPPNAME": name}
    env.pop("LEDGER_STORE_URL", None)
    proc = subprocess.Popen([str(LEDGER), "--store", pg_url, "project", "--follow"], cwd=tmp_path, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)  # fmt: skip
    admin_url = urlunsplit(urlsplit(pg_url)._replace(query=""))
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin, open_read_tables(ledger) as tables:
            wait_until(lambda: tracked(tables) == ledger.head(), what="the first catch-up")
            for seed in (8, 9):  # twice: the second time it has started again once already
                assert _terminate(admin, name) >= 2  # at least the read tables' and the LISTEN's
                head = record_day(ledger, seed=seed, orders=10)  # this ledger's connections are not dropped
                wait_until(lambda head=head: tracked(tables) == head, what=f"events of seed {seed} after the drop")
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            assert out.startswith(f"read tables at position {head};")
            notes = [line for line in err.splitlines() if line.startswith("note: lost the connection to the store")]
            assert len(notes) >= 2 and all("; starting again in " in line for line in notes), err
            assert_tables_equal_fold(tables, ledger)
    finally:
        proc.kill()
        proc.wait()


def test_the_wait_doubles_while_the_server_stays_away_and_starts_again_once_connected(memory_url, open_ledger,
                                                                                      monkeypatch):  # fmt: skip
    """Two failed starts wait 0.5 s then 1 s; once a start succeeds, the next loss waits 0.5 s again."""
    from adapters import projector as projector_module
    from adapters.projector import Projector, Stop, project
    from adapters.read_tables.memory import MemoryReadTables

    monkeypatch.setattr(projector_module, "RETRY_FIRST_S", 0.01)  # the same doubling, quicker
    ledger = open_ledger(memory_url)
    record_day(ledger, orders=8)
    failures = {"start": 2, "follow": 1}
    start, follow = Projector.start, Projector.follow

    def flaky_start(self, stop):
        if failures["start"]:
            failures["start"] -= 1
            raise psycopg.OperationalError("connection refused")
        return start(self, stop)

    def flaky_follow(self, stop, **kwargs):
        if failures["follow"]:
            failures["follow"] -= 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        stop.set()  # connected, caught up: done
        return follow(self, stop, **kwargs)

    monkeypatch.setattr(Projector, "start", flaky_start)
    monkeypatch.setattr(Projector, "follow", flaky_follow)
    waits: list[float] = []
    tables = MemoryReadTables()
    reached = project(ledger, tables=tables, follow=True, stop=Stop(), handle_signals=False,
                      on_retry=lambda error, delay: waits.append(delay))  # fmt: skip
    assert waits == [0.01, 0.02, 0.01]
    assert reached == tables.position() == 0  # stopped before catching up: nothing committed, nothing lost
    assert project(ledger, tables=tables) == ledger.head()
    assert_tables_equal_fold(tables, ledger)
