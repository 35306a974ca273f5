"""Store URLs: a bad one is refused with one clear line naming what is wrong."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from kernel.errors import StoreConfigError
from kernel.ledger import Ledger
from kernel.stores import DEFAULT_STORE_URL, STORE_URL_ENV, env_for_url, prepare_store, resolve_store_url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("foo://x", "store URL 'foo://x': unknown scheme 'foo' (use memory://, sqlite:///PATH or postgresql://...)"),
        ("mysql://root@localhost/db", "unknown scheme 'mysql'"),
        ("ledger.db", "unknown scheme ''"),
        ("postgresql://host/", "store URL 'postgresql://host/': no database name (postgresql://host:5432/NAME)"),
        ("postgresql://host", "no database name"),
        ("postgres://user:pw@host:5432", "no database name"),
        ("postgresql://host:notaport/db", "the port is not a number"),
        ("postgresql://host/db?schema=s&sslmode=require", "unknown parameter(s) sslmode"),
        ("sqlite://", "no database path"),
        ("sqlite:///", "no database path"),
    ],
)
def test_bad_store_urls_are_refused(url, message):
    with pytest.raises(StoreConfigError) as refused:
        Ledger.open(url)
    text = str(refused.value)
    assert message in text
    assert "\n" not in text


def test_store_url_resolution(monkeypatch):
    monkeypatch.delenv(STORE_URL_ENV, raising=False)
    assert resolve_store_url(None) == DEFAULT_STORE_URL == "sqlite:///./ledger.db"
    monkeypatch.setenv(STORE_URL_ENV, "memory://")
    assert resolve_store_url(None) == "memory://"
    assert resolve_store_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./ledger.db", "./ledger.db"),
        ("sqlite:///rel/ledger.db", "rel/ledger.db"),
        ("sqlite:////abs/ledger.db", "/abs/ledger.db"),
        ("sqlite:///my%20ledger.db", "my ledger.db"),
    ],
)
def test_sqlite_paths(url, path):
    assert env_for_url(url)["SQLITE_DBNAME"] == path


def test_postgres_url_parts():
    env = env_for_url("postgresql://ann:p%40ss@db.example:6543/books?schema=day1&pool_size=4")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("ann", "p@ss")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.example", "6543", "books")
    assert (env["POSTGRES_SCHEMA"], env["POSTGRES_POOL_SIZE"]) == ("day1", "4")
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "no"  # unsafe in eventsourcing 9.5.x (see DESIGN)
    assert env_for_url("postgresql://h/db")["POSTGRES_SCHEMA"] == "public"


def test_a_new_sqlite_file_is_put_in_wal_mode_before_eventsourcing_opens_it(tmp_path):
    """eventsourcing's own switch to WAL, made by several processes opening a new file at once, failed at
    once with "database is locked" (seen in CI); the ledger makes the switch first, with retries."""
    path = tmp_path / "new.db"
    env = env_for_url(f"sqlite:///{path}")
    threads = [threading.Thread(target=prepare_store, args=(env,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    prepare_store(env_for_url("memory://"))  # nothing to prepare
    prepare_store(env_for_url(f"sqlite:///{tmp_path}/no/such/dir/x.db"))  # left for eventsourcing to report
    assert not (tmp_path / "no").exists()
