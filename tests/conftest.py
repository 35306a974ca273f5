"""Shared test set-up: hypothesis profiles, and the three stores the ledger runs on.

Hypothesis: profile "default" (60 examples) unless `pytest --slow` or `LEDGER_SLOW=1` picks "slow"
(1000 examples).

Stores: `memory_url`, `sqlite_url` (a file in the test's tmp dir) and `pg_url` (a schema of its own,
inside one database created for the whole run on the server named by `LEDGER_TEST_DATABASE_URL`, an
admin database URL; `scripts/test.sh` sets it). `store_url` runs a test once on each of the three.
PostgreSQL tests never skip: without a reachable server they fail, saying why in one line.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings

DATABASE_URL_ENV = "LEDGER_TEST_DATABASE_URL"
SLOW_ENV = "LEDGER_SLOW"

settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("slow", max_examples=1000, deadline=None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run property tests with many more examples (hypothesis profile 'slow'; also LEDGER_SLOW=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    slow = config.getoption("--slow") or os.environ.get(SLOW_ENV, "") not in ("", "0")
    settings.load_profile("slow" if slow else "default")


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {settings._current_profile}"  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ PostgreSQL
def _with_database(url: str, dbname: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, query, ""))


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (no query string); dropped at the end."""
    admin_url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if not admin_url:
        pytest.fail(
            f"{DATABASE_URL_ENV} is not set: run the tests with `bash scripts/test.sh`, or set it to a "
            "PostgreSQL admin database URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)",
            pytrace=False,
        )
    import psycopg
    from psycopg import sql

    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.Error as e:
        reason = " ".join(str(e).split()) or type(e).__name__
        admin = None
    if admin is None:  # failed outside the `except`, so that the report is this one line
        pytest.fail(f"PostgreSQL at {DATABASE_URL_ENV}={admin_url!r} is unreachable: {reason}", pytrace=False)
    dbname = f"ledger_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        try:
            yield _with_database(admin_url, dbname)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


_schema_numbers = itertools.count(1)


@pytest.fixture
def pg_url(pg_database_url: str, request: pytest.FixtureRequest) -> str:
    """A store URL on this run's database, in a schema of this test's own (created on first open)."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    schema = f"t{next(_schema_numbers)}_{stem}"
    return _with_database(pg_database_url, urlsplit(pg_database_url).path.lstrip("/"), f"schema={schema}")


# ------------------------------------------------------------------------------------------ other stores
@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def memory_url() -> str:
    return "memory://"


STORES = ("memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres))
_URL_FIXTURE = {"memory": "memory_url", "sqlite": "sqlite_url", "postgres": "pg_url"}


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest) -> str:
    """The same test on memory://, a SQLite file and a PostgreSQL schema."""
    return request.getfixturevalue(_URL_FIXTURE[request.param])


@pytest.fixture
def open_ledger() -> Iterator[Callable[..., object]]:
    """`open_ledger(url)` opens a `Ledger` that is closed when the test ends."""
    from kernel.ledger import Ledger

    opened: list[Ledger] = []

    def open_(url: str, **kwargs: object) -> Ledger:
        ledger = Ledger.open(url, **kwargs)  # type: ignore[arg-type]
        opened.append(ledger)
        return ledger

    yield open_
    for ledger in reversed(opened):
        ledger.close()
