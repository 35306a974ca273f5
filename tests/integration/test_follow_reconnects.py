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


@pytest.mark.parametrize(("error", "lost"), [
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.OperationalError("connection refused"), True),
    (psycopg.InterfaceError("the connection is closed"), True),
    (_wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), True),
    (_wrapped(psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec")), True),  # the server is down
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
