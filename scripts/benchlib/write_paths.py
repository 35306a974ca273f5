"""The write half's paths, each in its own process but Raw: (a) the ledger's batch and single appends,
(b) raw psycopg binary COPY and one-row INSERT, (c) eventsourcing's default path (aggregate + JSON + save)."""

from __future__ import annotations

import gc
import time
import uuid
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from benchlib.common import GcTimer, Timed, conninfo
from benchlib.workload import (
    ACCOUNT,
    METHODS,
    Cmd,
    TradingDay,
    ledger_setup,
    live_fills,
    single_sets,
)


# ==================================================================================== (a) the ledger
class LedgerPath:
    """(a) in its own process. `cold=True`: a freshly opened Ledger that has not run the day (its cache
    is empty); it generates the same day, without recording it, to know the open orders."""

    def __init__(self, cfg: dict[str, Any]):
        from kernel.ledger import Batch, Ledger

        self.cfg = cfg
        self.ledger = Ledger.open(cfg["url"])
        self.day = TradingDay(cfg["seed"], cfg["events"])
        self.chunks = self.day.chunks(cfg["batch_size"])
        self.batch_method = {name: getattr(Batch, name) for name in set(METHODS)}
        if cfg.get("setup"):
            ledger_setup(self.ledger)  # before the timers: they count the day's work only
        self.inserts = Timed(self.ledger.recorder, "insert_events")
        self.selects = Timed(self.ledger.recorder, "select_events")
        self.gc = GcTimer()
        self.profiler = None
        if cfg.get("profile"):
            import cProfile

            self.profiler = cProfile.Profile()
        self.events = self.commands = self.batches = 0
        self.decide_ns = self.commit_ns = 0
        self.fills: list[tuple[str, dict]] = []
        if cfg.get("cold"):
            for _ in self.chunks:
                pass
        gc.collect()

    def head(self) -> int:
        return self.ledger.head()

    def batch(self) -> tuple[int, int] | None:
        """The next chunk of the day as one batch; (events recorded, log head) or None at the end."""
        chunk = next(self.chunks, None)
        if chunk is None:
            return None
        methods = self.batch_method
        calls = [(methods[c.method], c.args, c.kwargs) for c in chunk]
        recorded = 0
        self.gc.active = True
        if self.profiler:
            self.profiler.enable()
        t0 = time.perf_counter_ns()
        with self.ledger.batch() as b:
            for method, args, kwargs in calls:
                recorded += len(method(b, *args, **kwargs))
            t1 = time.perf_counter_ns()
        t2 = time.perf_counter_ns()
        if self.profiler:
            self.profiler.disable()
        self.gc.active = False
        self.decide_ns += t1 - t0
        self.commit_ns += t2 - t1
        self.events += recorded
        self.commands += len(chunk)
        self.batches += 1
        return recorded, self.ledger.head()

    def batch_result(self) -> dict[str, Any]:
        day = self.day
        if self.profiler:
            self.profiler.dump_stats(self.cfg["profile"])
        return {
            "events": self.events, "commands": self.commands, "seconds": (self.decide_ns + self.commit_ns) / 1e9,
            "expected_events": day.events, "orders": day.orders, "by_method": day.by_method,
            "breakdown": {
                "batches": self.batches,
                "parse_decide_s": (self.decide_ns - self.selects.ns) / 1e9,
                "stream_reads": self.selects.calls,
                "stream_reads_s": self.selects.ns / 1e9,
                "encode_s": (self.commit_ns - self.inserts.ns) / 1e9,
                "insert_events_calls": self.inserts.calls,
                "insert_events_s": self.inserts.ns / 1e9,
                "gc_s": self.gc.ns / 1e9,
                "gc_collections": self.gc.collections,
            },
        }  # fmt: skip

    def prepare_single(self, n: int) -> dict[str, int]:
        warm, cold = single_sets(self.day, n)
        ts0 = self.day.last_ts + 10**9
        if self.cfg.get("cold"):
            self.fills = live_fills(cold, len(cold), tag="cold", ts0=ts0)  # each order once: every call a first touch
        else:
            self.fills = live_fills(warm, n, tag="warm", ts0=ts0)
        self.before_single = (self.selects.calls, self.selects.ns, self.inserts.calls, self.inserts.ns)
        gc.collect()
        return {"open_orders": len(warm) + len(cold), "fills": len(self.fills)}

    def single(self, k: int) -> int:
        intent_id, kwargs = self.fills[k]
        t0 = time.perf_counter_ns()
        self.ledger.record_fill(ACCOUNT, intent_id, **kwargs)
        return time.perf_counter_ns() - t0

    def single_info(self) -> dict[str, float]:
        """What the single appends spent reading streams and in recorder.insert_events (mean ms)."""
        reads, reads_ns, inserts, inserts_ns = self.before_single
        n_reads, n_inserts = self.selects.calls - reads, self.inserts.calls - inserts
        return {"reads": n_reads, "read_ms": (self.selects.ns - reads_ns) / max(n_reads, 1) / 1e6,
                "inserts": n_inserts, "insert_ms": (self.inserts.ns - inserts_ns) / max(n_inserts, 1) / 1e6}  # fmt: skip

    def close(self) -> None:
        self.ledger.close()


# ==================================================================================== (b) raw psycopg
COPY_COLUMNS = "originator_id, originator_version, topic, state"


class Raw:
    """(b), in the coordinating process: the same stored rows by binary COPY (a plain table, and a
    ledger-shaped table under the same lock), and one-row INSERT + COMMIT."""

    def __init__(self, url: str, schema: str, ledger_schema: str):
        self.conn = psycopg.connect(conninfo(url))
        s = sql.Identifier(schema)
        ddl = "(originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea"
        with self.conn.transaction():
            self.conn.execute(sql.SQL("CREATE TABLE {}.plain " + ddl + ")").format(s))
            self.conn.execute(sql.SQL("CREATE TABLE {}.shaped " + ddl + ", notification_id bigserial,"
                                      " PRIMARY KEY (originator_id, originator_version))").format(s))  # fmt: skip
            self.conn.execute(sql.SQL("CREATE UNIQUE INDEX ON {}.shaped (notification_id ASC)").format(s))
            self.conn.execute(sql.SQL("CREATE TABLE {}.single " + ddl + ")").format(s))
        self.copy_sql = {
            t: sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT BINARY)").format(s, sql.Identifier(t), sql.SQL(COPY_COLUMNS))
            for t in ("plain", "shaped")
        }  # fmt: skip
        self.lock_sql = sql.SQL("LOCK TABLE {}.shaped IN EXCLUSIVE MODE").format(s)
        self.insert_sql = sql.SQL("INSERT INTO {}.single ({}) VALUES (%s, %s, %s, %s)").format(s, sql.SQL(COPY_COLUMNS))
        self.insert_shaped_sql = sql.SQL("INSERT INTO {}.shaped ({}) VALUES (%s, %s, %s, %s) RETURNING notification_id"
                                         ).format(s, sql.SQL(COPY_COLUMNS))  # fmt: skip
        self.notify_sql = sql.SQL("NOTIFY {}").format(sql.Identifier(f"{schema}_shaped"))
        self.rows_sql = sql.SQL(
            "SELECT {} FROM {}.ledger_events WHERE notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id"
        ).format(sql.SQL(COPY_COLUMNS), sql.Identifier(ledger_schema))
        self.events = 0
        self.ns = {"plain": 0, "shaped": 0}
        self.sample: tuple | None = None

    def stored_rows(self, after: int, until: int) -> list[tuple]:
        with self.conn.cursor(binary=True) as cur:
            cur.execute(self.rows_sql, (after, until))
            rows = cur.fetchall()
        self.conn.commit()
        if rows and self.sample is None:
            self.sample = next((r for r in rows if r[2].startswith("OrderFilled")), rows[-1])
        return rows

    def copy(self, table: str, rows: list[tuple]) -> None:
        with self.conn.cursor() as cur:
            t0 = time.perf_counter_ns()
            with self.conn.transaction():
                if table == "shaped":
                    cur.execute(self.lock_sql)
                with cur.copy(self.copy_sql[table]) as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for row in rows:
                        copy.write_row(row)
            self.ns[table] += time.perf_counter_ns() - t0

    def single(self, k: int) -> int:
        """One row into the plain table, then COMMIT."""
        assert self.sample is not None
        row = (uuid.UUID(int=(k + 1) * 0x9E3779B97F4A7C15 % (1 << 128)), 1, self.sample[2], self.sample[3])
        with self.conn.cursor() as cur:
            t0 = time.perf_counter_ns()
            cur.execute(self.insert_sql, row, prepare=True)
            self.conn.commit()
            return time.perf_counter_ns() - t0

    def single_shaped(self, k: int) -> int:
        """The recorder's statements without Python around them: LOCK TABLE, NOTIFY, INSERT ... RETURNING
        notification_id into the ledger-shaped table, COMMIT."""
        assert self.sample is not None
        row = (uuid.UUID(int=(k + 1) * 0xC2B2AE3D27D4EB4F % (1 << 128)), 1, self.sample[2], self.sample[3])
        with self.conn.cursor() as cur:
            t0 = time.perf_counter_ns()
            cur.execute(self.lock_sql, prepare=True)
            cur.execute(self.notify_sql)
            cur.execute(self.insert_shaped_sql, row, prepare=True)
            cur.fetchone()
            self.conn.commit()
            return time.perf_counter_ns() - t0

    def close(self) -> None:
        self.conn.close()


# ==================================================================================== (c) eventsourcing default
def es_classes() -> tuple[type, type]:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    from kernel.streams import order_stream_id

    class BenchOrder(Aggregate):
        @staticmethod
        def create_id(account_id: str, intent_id: str, **_: Any) -> uuid.UUID:
            return order_stream_id(account_id, intent_id)

        @event("Placed")
        def __init__(self, account_id: str, intent_id: str, symbol: str, side: str, order_type: str,
                     quantity: Decimal, price: Decimal | None, time_in_force: str, metadata: dict,
                     ts_event: int):  # fmt: skip
            self.account_id, self.intent_id, self.symbol, self.side = account_id, intent_id, symbol, side
            self.order_type, self.quantity, self.price = order_type, quantity, price
            self.time_in_force, self.metadata = time_in_force, metadata
            self.status, self.filled, self.fills = "PENDING_NEW", Decimal(0), {}
            self.client_order_id = self.exchange_order_id = ""

        @event("SubmissionStarted")
        def start_submission(self, client_order_id: str, ts_event: int) -> None:
            self.client_order_id = client_order_id

        @event("OrderAccepted")
        def record_accepted(self, exchange_order_id: str, ts_event: int) -> None:
            self.exchange_order_id, self.status = exchange_order_id, "NEW"

        @event("OrderFilled")
        def record_fill(self, trade_id: str, quantity: Decimal, price: Decimal, fee: Decimal, fee_asset: str | None,
                        liquidity: str | None, ts_event: int) -> None:  # fmt: skip
            self.fills[trade_id] = (quantity, price)
            self.filled += quantity
            self.status = "FILLED" if self.filled >= self.quantity else "PARTIALLY_FILLED"

        @event("IntentCanceled")
        def cancel_intent(self, reason: str, ts_event: int) -> None:
            self.status = "PENDING_CANCEL"

        @event("CancelAccepted")
        def record_cancel_accepted(self, ts_event: int) -> None:
            self.status = "CANCELED"

    class BenchApp(Application):
        name = "BenchApp"

    return BenchOrder, BenchApp


def es_env(url: str, schema: str) -> dict[str, str]:
    from kernel.stores import env_for_url

    env = env_for_url(url)
    keep = ("PERSISTENCE_MODULE", "POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER",
            "POSTGRES_PASSWORD")  # fmt: skip
    return {**{k: env[k] for k in keep}, "POSTGRES_SCHEMA": schema}


class EventsourcingPath:
    """(c) in its own process: the same commands on a declarative aggregate, saved with `app.save`."""

    def __init__(self, cfg: dict[str, Any]):
        self.order_cls, app_cls = es_classes()
        self.app = app_cls(env=es_env(cfg["url"], cfg["schema"]))
        self.day = TradingDay(cfg["seed"], cfg["events"])
        self.chunks = self.day.chunks(cfg["batch_size"])
        self.aggregates: dict[str, Any] = {}
        self.events = self.commands = 0
        self.ns = 0
        self.fills: list[tuple[str, dict]] = []
        gc.collect()

    def _apply(self, cmd: Cmd) -> Any:
        """The reference's own (cheap) parse, then the aggregate's @event method."""
        if cmd.method == "place_intent":
            intent = cmd.args[1]
            o = intent["order"]
            agg = self.order_cls(
                account_id=ACCOUNT, intent_id=intent["intent_id"], symbol=o["symbol"], side=o["side"],
                order_type=o["order_type"], quantity=Decimal(o["quantity"]),
                price=Decimal(o["price"]) if "price" in o else None, time_in_force=o["time_in_force"],
                metadata=intent["metadata"], ts_event=intent["created_at"],
            )  # fmt: skip
            self.aggregates[intent["intent_id"]] = agg
            return agg
        agg = self.aggregates[cmd.args[1]]
        kw = cmd.kwargs
        if cmd.method == "record_fill":
            agg.record_fill(trade_id=kw["trade_id"], quantity=Decimal(kw["quantity"]), price=Decimal(kw["price"]),
                            fee=Decimal(kw.get("fee", "0")), fee_asset=kw.get("fee_asset"),
                            liquidity=kw.get("liquidity"), ts_event=kw["ts_event"])  # fmt: skip
        else:
            getattr(agg, cmd.method)(**kw)
        return agg

    def batch(self) -> int | None:
        chunk = next(self.chunks, None)
        if chunk is None:
            return None
        t0 = time.perf_counter_ns()
        touched: dict[int, Any] = {}
        for cmd in chunk:
            if cmd.events:  # no idempotency on this path: skip what the ledger records nothing for
                agg = self._apply(cmd)
                touched[id(agg)] = agg
                self.events += 1
        self.app.save(*touched.values())
        self.ns += time.perf_counter_ns() - t0
        self.commands += len(chunk)
        return self.events

    def batch_result(self) -> dict[str, Any]:
        return {"events": self.events, "commands": self.commands, "seconds": self.ns / 1e9}

    def prepare_single(self, n: int) -> dict[str, int]:
        warm, _ = single_sets(self.day, n)
        self.fills = live_fills(warm, n, tag="warm", ts0=self.day.last_ts + 10**9)
        gc.collect()
        return {"fills": len(self.fills)}

    def single(self, k: int) -> int:
        intent_id, kw = self.fills[k]
        agg = self.aggregates[intent_id]
        t0 = time.perf_counter_ns()
        agg.record_fill(trade_id=kw["trade_id"], quantity=Decimal(kw["quantity"]), price=Decimal(kw["price"]),
                        fee=Decimal(kw["fee"]), fee_asset=None, liquidity=None, ts_event=kw["ts_event"])  # fmt: skip
        self.app.save(agg)
        return time.perf_counter_ns() - t0

    def close(self) -> None:
        self.app.close()
