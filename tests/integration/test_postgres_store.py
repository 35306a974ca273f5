"""The stores' own guarantees: tables appear on first open, history cannot be changed, ids only grow."""

from __future__ import annotations

import sqlite3
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from psycopg import sql

from adapters.stores.postgres import IMMUTABLE_MESSAGE
from kernel import events as ev

from .helpers import ACCOUNT, live_order, log, open_spot_account

pytestmark = []


def schema_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["schema"][0]


@pytest.fixture
def pg(pg_database_url):
    """A plain psycopg connection to this run's database (as the test server's superuser)."""
    with psycopg.connect(pg_database_url, autocommit=True) as conn:
        yield conn


def rows(conn, schema: str) -> list[tuple]:
    return conn.execute(
        sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {}.ledger_events ORDER BY notification_id").format(sql.Identifier(schema))  # fmt: skip
    ).fetchall()


def table_exists(conn, schema: str, table: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s", (schema, table)
    ).fetchone() is not None


@pytest.mark.postgres
def test_tables_are_created_on_first_open(pg_url, pg, open_ledger):
    schema = schema_of(pg_url)
    assert not table_exists(pg, schema, "ledger_events")
    ledger = open_ledger(pg_url)
    assert table_exists(pg, schema, "ledger_events")
    triggers = {name for (name,) in pg.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        (f'"{schema}".ledger_events',),
    )}  # fmt: skip
    assert triggers == {"ledger_events_immutable_rows", "ledger_events_no_truncate"}
    assert ledger.head() == 0 and log(ledger) == []
    open_spot_account(ledger)
    # opening again (tables already there) is harmless and sees the same events
    again = open_ledger(pg_url)
    assert [type(e).__name__ for _, e in log(again)] == ["AccountOpened", "AssetRegistered"]


@pytest.mark.postgres
def test_schemas_are_separate_stores(pg_database_url, open_ledger):
    one = open_ledger(f"{pg_database_url}?schema=separate_one")
    two = open_ledger(f"{pg_database_url}?schema=separate_two")
    open_spot_account(one)
    assert two.head() == 0
    assert two.account(ACCOUNT) is None
    assert one.account(ACCOUNT) is not None


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("statement", "op"),
    [
        ("UPDATE {}.ledger_events SET topic = 'OrderFilled.v1'", "UPDATE"),
        ("UPDATE {}.ledger_events SET state = '\\x7b7d'::bytea WHERE originator_version = 1", "UPDATE"),
        ("DELETE FROM {}.ledger_events", "DELETE"),
        ("DELETE FROM {}.ledger_events WHERE notification_id = 1", "DELETE"),
        ("TRUNCATE {}.ledger_events", "TRUNCATE"),
    ],
)
def test_postgres_events_cannot_be_changed(pg_url, pg, open_ledger, statement, op):
    schema = schema_of(pg_url)
    ledger = open_ledger(pg_url)
    open_spot_account(ledger)
    live_order(ledger, "i1")
    before = rows(pg, schema)
    assert len(before) == 5
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        pg.execute(sql.SQL(statement).format(sql.Identifier(schema)))
    assert f"{IMMUTABLE_MESSAGE}: {op} refused on ledger_events" in str(refused.value)
    assert rows(pg, schema) == before
    assert len(log(ledger)) == 5


@pytest.mark.postgres
def test_postgres_events_cannot_be_changed_inside_a_transaction_either(pg_url, pg_database_url, open_ledger):
    schema = schema_of(pg_url)
    ledger = open_ledger(pg_url)
    open_spot_account(ledger)
    with psycopg.connect(pg_database_url) as conn:  # not autocommit: one transaction
        before = rows(conn, schema)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=IMMUTABLE_MESSAGE):
            conn.execute(sql.SQL("DELETE FROM {}.ledger_events").format(sql.Identifier(schema)))
        conn.rollback()
        assert rows(conn, schema) == before


@pytest.mark.postgres
def test_postgres_notification_ids_strictly_increase(pg_url, open_ledger):
    ledger = open_ledger(pg_url)
    open_spot_account(ledger)
    for i in range(5):
        live_order(ledger, f"i{i}")
        with ledger.batch() as batch:
            for t in range(3):
                batch.record_fill(ACCOUNT, f"i{i}", trade_id=f"t{i}-{t}", quantity="0.1", price="100", ts_event=20)
    entries = log(ledger)
    assert len(entries) == 2 + 5 * 6
    ids = [n for n, _ in entries]
    assert all(a < b for a, b in zip(ids, ids[1:]))
    assert ids[-1] == ledger.head()
    assert sum(isinstance(e, ev.OrderFilled) for _, e in entries) == 15


def sqlite_path(url: str) -> str:
    return url[len("sqlite:///") :]


def test_sqlite_tables_are_created_on_first_open(sqlite_url, open_ledger):
    from pathlib import Path

    path = Path(sqlite_path(sqlite_url))
    assert not path.exists()
    open_ledger(sqlite_url)
    assert path.exists()
    with sqlite3.connect(path) as conn:
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    assert {"stored_events", "stored_events_no_update", "stored_events_no_delete"} <= names


@pytest.mark.parametrize(
    ("statement", "op"),
    [
        ("UPDATE stored_events SET topic = 'OrderFilled.v1'", "UPDATE"),
        ("UPDATE stored_events SET state = x'7b7d' WHERE rowid = 1", "UPDATE"),
        ("DELETE FROM stored_events", "DELETE"),
        ("DELETE FROM stored_events WHERE rowid = 1", "DELETE"),
    ],
)
def test_sqlite_events_cannot_be_changed(sqlite_url, open_ledger, statement, op):
    ledger = open_ledger(sqlite_url)
    open_spot_account(ledger)
    live_order(ledger, "i1")
    conn = sqlite3.connect(sqlite_path(sqlite_url))
    try:
        before = conn.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall()
        assert len(before) == 5
        with pytest.raises(sqlite3.IntegrityError, match=f"ledger events are immutable: {op} refused"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall() == before
    finally:
        conn.close()
    assert len(log(ledger)) == 5


def test_sqlite_notification_ids_strictly_increase(sqlite_url, open_ledger):
    ledger = open_ledger(sqlite_url)
    open_spot_account(ledger)
    live_order(ledger, "i1", "10")
    for t in range(10):
        ledger.record_fill(ACCOUNT, "i1", trade_id=f"t{t}", quantity="1", price="100", ts_event=20)
    ids = [n for n, _ in log(ledger)]
    assert len(ids) == 15
    assert all(a < b for a, b in zip(ids, ids[1:]))
