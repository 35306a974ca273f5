"""Store URLs: a bad one is refused with one clear line naming what is wrong."""

from __future__ import annotations

import pytest

from kernel.errors import StoreConfigError
from kernel.ledger import Ledger
from kernel.stores import DEFAULT_STORE_URL, STORE_URL_ENV, env_for_url, resolve_store_url


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
