"""The one place a store URL becomes eventsourcing configuration.

    memory://                                   in-process, for tests and experiments
    sqlite:///relative/path.db | sqlite:////abs/path.db   embedded, zero set-up (the default)
    postgresql://user:pass@host:port/db[?schema=NAME]   the service's store

Backend extras (immutability triggers, bulk COPY) live in each backend's own recorder module under
`adapters/stores/`; they are named here by topic, the library's configuration mechanism, and resolved
by eventsourcing when the store opens -- the kernel imports none of them.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import time
from contextlib import closing
from urllib.parse import parse_qs, unquote, urlsplit

from kernel.errors import StoreConfigError

DEFAULT_STORE_URL = "sqlite:///./ledger.db"
STORE_URL_ENV = "LEDGER_STORE_URL"
APP_NAME = "ledger"  # PostgreSQL tables are ledger_events, ledger_tracking

POSTGRES_RECORDER = "adapters.stores.postgres:LedgerPostgresRecorder"
SQLITE_RECORDER = "adapters.stores.sqlite:LedgerSQLiteRecorder"


def resolve_store_url(url: str | None = None) -> str:
    """`--store`, else `LEDGER_STORE_URL`, else the embedded default."""
    return url or os.environ.get(STORE_URL_ENV) or DEFAULT_STORE_URL


def env_for_url(url: str) -> dict[str, str]:
    """eventsourcing environment for a store URL; raises StoreConfigError naming what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = unquote(url[len("sqlite://") :])
        if path.startswith("/") and not path.startswith("//"):
            path = path[1:]  # sqlite:///rel.db -> rel.db ; sqlite:////abs.db -> /abs.db
        elif path.startswith("//"):
            path = path[1:]
        if not path:
            raise StoreConfigError(f"store URL {url!r}: no database path (e.g. sqlite:///./ledger.db)")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
        }
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise StoreConfigError(f"store URL {url!r}: no database name (postgresql://host:5432/NAME)")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"schema", "pool_size"}
        if unknown:
            raise StoreConfigError(f"store URL {url!r}: unknown parameter(s) {', '.join(sorted(unknown))}")
        try:
            port = parts.port or 5432
        except ValueError:
            raise StoreConfigError(f"store URL {url!r}: the port is not a number") from None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "localhost",
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": unquote(parts.username) if parts.username else getpass.getuser(),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", "public"),
            "POSTGRES_POOL_SIZE": query.get("pool_size", "2"),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            # Never the database-functions insert path: in 9.5.x it skips the table lock (see DESIGN).
            "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
            "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
        }
    raise StoreConfigError(
        f"store URL {url!r}: unknown scheme {parts.scheme!r} (use memory://, sqlite:///PATH or postgresql://...)"
    )


WAL_SWITCH_TIMEOUT_S = 30.0


def prepare_store(env: dict[str, str]) -> None:
    """What must happen before eventsourcing opens a store: on SQLite, put the file in WAL mode.

    eventsourcing switches the file to WAL as it makes its first connection. The switch takes an
    exclusive lock, and SQLite gives up on it at once (SQLITE_BUSY, "database is locked"), without the
    busy timeout, when other processes opening the same new file hold the file. Done here with retries;
    once the file is in WAL mode (kept in the file), eventsourcing only reads the mode. Any other error
    is left for eventsourcing to report as it always does.
    """
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.sqlite":
        return
    path = env["SQLITE_DBNAME"]
    if ":memory:" in path or "mode=memory" in path:
        return
    deadline = time.monotonic() + WAL_SWITCH_TIMEOUT_S
    while True:
        try:
            with closing(sqlite3.connect(path, uri=True, timeout=WAL_SWITCH_TIMEOUT_S)) as conn:
                conn.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                return  # eventsourcing reports it (or, for a lock, meets it again) on opening
        time.sleep(0.005)
