"""The ingest's own tables, beside the store's events: the quarantine (raw messages that could not be
recorded, with the reason) and the instrument catalogue (what `ledger instruments load` read, by
exchange and symbol).

Neither is part of the event log: quarantined messages are not facts yet, and the catalogue is reference
data. An instrument becomes part of an account's history only when an ingest records it on that account
(`AssetRegistered`), so the books still follow from the events alone.

One implementation serves both SQL stores (DB-API; PostgreSQL through psycopg in the store's schema,
SQLite in the store's file); an in-process store (`memory://`) gets an in-memory SQLite database.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec

from kernel import events as ev

QUARANTINE_TABLE = "ledger_quarantine"
INSTRUMENTS_TABLE = "ledger_instruments"
LINKS_TABLE = "ledger_order_links"
LINK_SCANS_TABLE = "ledger_link_scans"  # per account: how far the log's submissions were read for links
LOOKUP_CHUNK = 500  # keys per IN (...) list

_MEMORY: weakref.WeakKeyDictionary[Any, sqlite3.Connection] = weakref.WeakKeyDictionary()
_spec_encoder = msgspec.json.Encoder(decimal_format="string")
_spec_decoder = msgspec.json.Decoder(ev.InstrumentSpec)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A message kept raw because it could not be recorded; `id` is 0 until stored."""

    format: str
    account_id: str
    source: str  # the file (or "-") it came from
    reason: str  # one line
    raw: bytes
    exchange: str = ""  # the instrument catalogue the ingest used (for a retry of an account not yet opened)
    base_currency: str = ""  # of the account the ingest would open
    ts_recorded: int = 0  # when it was quarantined (ns; wall clock: this is bookkeeping, not a fact)
    id: int = 0

    @property
    def digest(self) -> str:
        return message_digest(self.format, self.account_id, self.raw)


def message_digest(fmt: str, account_id: str, raw: bytes) -> str:
    """Same message, same format, same account: the same entry (a re-run quarantines nothing new)."""
    return hashlib.sha256(b"\x1f".join((fmt.encode(), account_id.encode(), raw))).hexdigest()


class IngestTables:
    """Quarantine and instrument catalogue on a DB-API connection (`paramstyle` "?" or "%s")."""

    def __init__(self, connect: Any, *, placeholder: str, blob: str, serial: str, schema: str = ""):
        self._connect = connect
        self._conn: Any = None
        self._p = placeholder
        self._blob, self._serial = blob, serial
        prefix = f'"{schema}".' if schema else ""
        self.quarantine_table = prefix + QUARANTINE_TABLE
        self.instruments_table = prefix + INSTRUMENTS_TABLE
        self.links_table = prefix + LINKS_TABLE
        self.link_scans_table = prefix + LINK_SCANS_TABLE

    # ------------------------------------------------------------------ plumbing
    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        cur = self.conn.cursor()
        try:
            yield cur
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cur.close()

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p)

    def create(self) -> None:
        with self._transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.quarantine_table} (id {self._serial} PRIMARY KEY, "
                f"digest TEXT NOT NULL UNIQUE, format TEXT NOT NULL, account_id TEXT NOT NULL, source TEXT NOT NULL, "
                f"reason TEXT NOT NULL, raw {self._blob} NOT NULL, exchange TEXT NOT NULL, base_currency TEXT NOT NULL, "
                "ts_recorded BIGINT NOT NULL)"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.instruments_table} (exchange TEXT NOT NULL, symbol TEXT NOT NULL, "
                f"spec TEXT NOT NULL, ts_loaded BIGINT NOT NULL, PRIMARY KEY (exchange, symbol))"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.links_table} (account_id TEXT NOT NULL, link TEXT NOT NULL, "
                "intent_id TEXT NOT NULL, PRIMARY KEY (account_id, link))"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.link_scans_table} (account_id TEXT PRIMARY KEY, "
                "position BIGINT NOT NULL)"
            )

    # ------------------------------------------------------------------ quarantine
    def quarantine(self, entries: Iterable[Quarantined]) -> int:
        """Keep these messages; returns how many were new (one already kept is not kept twice)."""
        rows = [(e.digest, e.format, e.account_id, e.source, e.reason, e.raw, e.exchange, e.base_currency,
                 e.ts_recorded or time.time_ns()) for e in entries]  # fmt: skip
        if not rows:
            return 0
        added = 0
        with self._transaction() as cur:
            for row in rows:
                cur.execute(self._sql(
                    f"INSERT INTO {self.quarantine_table} (digest, format, account_id, source, reason, raw, exchange, "
                    "base_currency, ts_recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING"),
                    row)  # fmt: skip
                added += max(cur.rowcount, 0)
        return added

    def quarantined(self, *, account_id: str | None = None, fmt: str | None = None) -> list[Quarantined]:
        where, args = [], []
        for column, value in (("account_id", account_id), ("format", fmt)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = (f"SELECT id, format, account_id, source, reason, raw, exchange, base_currency, ts_recorded FROM "
               f"{self.quarantine_table}"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")  # fmt: skip
        with self._transaction() as cur:
            cur.execute(self._sql(sql), args)
            rows = cur.fetchall()
        return [Quarantined(id=r[0], format=r[1], account_id=r[2], source=r[3], reason=r[4], raw=bytes(r[5]),
                            exchange=r[6], base_currency=r[7], ts_recorded=r[8]) for r in rows]  # fmt: skip

    def digests(self, *, account_id: str, fmt: str) -> dict[str, int]:
        """The digests of this account's and format's entries, with their ids."""
        with self._transaction() as cur:
            cur.execute(self._sql(f"SELECT digest, id FROM {self.quarantine_table} WHERE account_id = ? AND format = ?"),
                        (account_id, fmt))  # fmt: skip
            return {digest: int(entry_id) for digest, entry_id in cur.fetchall()}

    def release(self, ids: Iterable[int]) -> int:
        """Remove entries whose messages have now been recorded (or deliberately skipped)."""
        done = 0
        with self._transaction() as cur:
            for entry_id in ids:
                cur.execute(self._sql(f"DELETE FROM {self.quarantine_table} WHERE id = ?"), (entry_id,))
                done += max(cur.rowcount, 0)
        return done

    def update_reason(self, entry_id: int, reason: str) -> None:
        with self._transaction() as cur:
            cur.execute(self._sql(f"UPDATE {self.quarantine_table} SET reason = ? WHERE id = ?"), (reason, entry_id))

    # ------------------------------------------------------------------ order links (see `links`)
    def order_links(self, account_id: str, links: Iterable[str]) -> dict[str, str]:
        """The kept links among these ("c:<client order id>" / "x:<exchange order id>") -> intent id."""
        wanted = list(links)
        found: dict[str, str] = {}
        with self._transaction() as cur:
            if self._p == "%s":  # PostgreSQL: one array parameter; a query text of thousands of
                # placeholders costs psycopg more to parse than the database to answer
                cur.execute(f"SELECT link, intent_id FROM {self.links_table} WHERE account_id = %s AND "
                            "link = ANY(%s)", (account_id, wanted))  # fmt: skip
                found.update(cur.fetchall())
                return found
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[start : start + LOOKUP_CHUNK]
                cur.execute(self._sql(f"SELECT link, intent_id FROM {self.links_table} WHERE account_id = ? AND "
                                      f"link IN ({', '.join('?' * len(chunk))})"), (account_id, *chunk))  # fmt: skip
                found.update(cur.fetchall())
        return found

    def put_order_links(self, account_id: str, links: dict[str, str], *, scanned: int | None = None) -> None:
        """Keep links (a link already kept stays as it is); with `scanned`, also how far the log was read
        for them, in the same transaction."""
        with self._transaction() as cur:
            cur.executemany(self._sql(f"INSERT INTO {self.links_table} (account_id, link, intent_id) VALUES (?, ?, ?) "
                                      "ON CONFLICT (account_id, link) DO NOTHING"),
                            [(account_id, link, intent_id) for link, intent_id in links.items()])  # fmt: skip
            if scanned is not None:
                cur.execute(self._sql(f"INSERT INTO {self.link_scans_table} (account_id, position) VALUES (?, ?) "
                                      "ON CONFLICT (account_id) DO UPDATE SET position = excluded.position"),
                            (account_id, scanned))  # fmt: skip

    def link_scan(self, account_id: str) -> int:
        """The notification id up to which the log's submissions were read for this account's links (0: none)."""
        with self._transaction() as cur:
            cur.execute(self._sql(f"SELECT position FROM {self.link_scans_table} WHERE account_id = ?"), (account_id,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ instrument catalogue
    def put_instruments(self, exchange: str, specs: Iterable[ev.InstrumentSpec]) -> tuple[int, int, int]:
        """Load specs into the catalogue of `exchange`; returns (added, changed, unchanged)."""
        known = self.instruments(exchange)
        added = changed = same = 0
        now = time.time_ns()
        with self._transaction() as cur:
            for spec in specs:
                before = known.get(spec.symbol)
                if before == spec:
                    same += 1
                    continue
                text = _spec_encoder.encode(spec).decode()
                if before is None:
                    added += 1
                    cur.execute(self._sql(f"INSERT INTO {self.instruments_table} (exchange, symbol, spec, ts_loaded) "
                                          "VALUES (?, ?, ?, ?)"), (exchange, spec.symbol, text, now))  # fmt: skip
                else:
                    changed += 1
                    cur.execute(self._sql(f"UPDATE {self.instruments_table} SET spec = ?, ts_loaded = ? "
                                          "WHERE exchange = ? AND symbol = ?"), (text, now, exchange, spec.symbol))  # fmt: skip
                known[spec.symbol] = spec
        return added, changed, same

    def instruments(self, exchange: str) -> dict[str, ev.InstrumentSpec]:
        with self._transaction() as cur:
            cur.execute(self._sql(f"SELECT symbol, spec FROM {self.instruments_table} WHERE exchange = ? "
                                  "ORDER BY symbol"), (exchange,))  # fmt: skip
            return {symbol: _spec_decoder.decode(spec) for symbol, spec in cur.fetchall()}

    def exchanges(self) -> dict[str, int]:
        """Each catalogue's exchange and its number of instruments."""
        with self._transaction() as cur:
            cur.execute(f"SELECT exchange, count(*) FROM {self.instruments_table} GROUP BY exchange ORDER BY exchange")
            return {exchange: int(n) for exchange, n in cur.fetchall()}


def open_ingest_tables(ledger: Any) -> IngestTables:
    """The ingest tables beside `ledger`'s events (created if missing): the same PostgreSQL schema, the
    same SQLite file; for an in-process store, an in-memory SQLite database of this process."""
    from adapters.read_tables import _is_postgres, _is_sqlite

    recorder = ledger.recorder
    datastore = getattr(recorder, "datastore", None)
    if _is_postgres(recorder):
        import psycopg

        from adapters.read_tables.postgres import connection_kwargs

        kwargs = connection_kwargs(datastore)
        tables = IngestTables(lambda: psycopg.connect(**kwargs), placeholder="%s", blob="BYTEA",
                              serial="BIGINT GENERATED ALWAYS AS IDENTITY", schema=datastore.schema)  # fmt: skip
    elif _is_sqlite(recorder):
        path = datastore.pool.db_name  # type: ignore[union-attr]
        timeout = float(datastore.pool.lock_timeout or 30)  # type: ignore[union-attr]
        tables = IngestTables(lambda: sqlite3.connect(path, timeout=timeout), placeholder="?", blob="BLOB",
                              serial="INTEGER")  # fmt: skip
    else:  # one in-memory database per in-process store, for as long as the store lives
        memory = _MEMORY.get(ledger)
        if memory is None:
            memory = _MEMORY[ledger] = sqlite3.connect(":memory:")
        tables = IngestTables(lambda: memory, placeholder="?", blob="BLOB", serial="INTEGER")
        tables.close = lambda: None  # type: ignore[method-assign]  # the store's, not this handle's
    tables.create()
    return tables
