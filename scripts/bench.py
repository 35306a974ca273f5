#!/usr/bin/env python
"""Write-path benchmark of the ledger on PostgreSQL, each figure beside its references (DESIGN "Performance").

    python scripts/bench.py [--store postgresql://...] [--events 200000] [--single 2000]
                            [--batch-size 5000] [--seed 7] [--json] [--plain]
                            [--profile FILE] [--skip-references]

One run uses fresh schemas `bench_<pid>_<n>` and drops them at the end. Server settings are left as
they are (fsync on); the header shows `SHOW fsync` and `SHOW synchronous_commit`.

Batch append, events/s. One generated trading day, deterministic (seeded): orders on a registered
spot instrument are placed, submitted, accepted, filled in several parts, some canceled, some left
resting; about 1% of fills are delivered twice (recorded once: they count as commands, not events).
  (a) the ledger through its public API: `with ledger.batch() as b:` of `--batch-size` commands --
      parse + decide + encode + append, one durable transaction per batch;
  (b) raw psycopg binary COPY of the very rows (a) stored in that batch, one commit per batch: into a
      plain 4-column table (the practical write limit), and into a table shaped like the ledger's
      (primary key, bigserial notification id + unique index) under the same
      `LOCK TABLE ... IN EXCLUSIVE MODE` the recorder takes;
  (c) eventsourcing's default path: a declarative `Aggregate` with `@event` methods, an `Application`
      with the default JSON transcoder on the same server (its own schema), `app.save(*aggregates)`
      once per batch of the same commands.
Single durable append latency, ms, each call its own transaction:
  (a) `ledger.record_fill(...)` on open orders: warm cache (a live service), and a freshly opened
      Ledger (cold cache: each order's stream is read first);
  (b) raw psycopg one-row INSERT + COMMIT;
  (c) eventsourcing `app.save(aggregate)` of one new event.

Each Python path runs in its own process (its own heap: the cyclic GC's work depends on it), driven
in lock step -- batch by batch, and call by call in rotating order -- so whatever else the machine
is doing weighs on all paths alike. Timings are time.perf_counter_ns inside the process, around the
measured work only (generating the workload and fetching rows for COPY are not timed).
`--profile FILE` runs the ledger's batch phase under cProfile (its figure is then inflated), writes
FILE and prints the top functions to stderr; `--skip-references` measures the ledger alone.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import math
import multiprocessing
import os
import platform
import pstats
import random
import subprocess
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL_ENV = "LEDGER_BENCH_DATABASE_URL"
TARGET_BATCH_EPS = 50_000
TARGET_SINGLE_P99_MS = 5.0

ACCOUNT = "acc-bench"
SYMBOL = "BTCUSDT"
DAY_START_NS = 1_709_251_200 * 10**9  # 2024-03-01T00:00:00Z
ACTIVE_ORDERS = 256  # orders in flight at once; the scheduler interleaves their commands
LOT = Decimal("0.001")


# ==================================================================================== workload
@dataclass(slots=True)
class Cmd:
    method: str
    args: tuple
    kwargs: dict
    events: int  # what the ledger is expected to record (0 for a redelivered fill)
    effect: tuple = ()  # what it does to the simulated order: ("accepted",) / ("filled", qty) / ("terminal",)


@dataclass(slots=True)
class SimOrder:
    n: int
    intent_id: str
    quantity: Decimal
    price: Decimal
    script: list[Cmd]
    step: int = 0
    accepted: bool = False
    terminal: bool = False
    filled: Decimal = Decimal(0)


def _split(rng: random.Random, units: int, parts: int) -> list[int]:
    """`units` lots into `parts` positive integers."""
    parts = max(1, min(parts, units))
    cuts = sorted(rng.sample(range(1, units), parts - 1)) if parts > 1 else []
    bounds = [0, *cuts, units]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def _order(rng: random.Random, n: int) -> SimOrder:
    """One order's command script: placed, submitted, accepted, then filled / canceled / left resting."""
    intent_id = f"i{n:07d}"
    side = "BUY" if rng.random() < 0.5 else "SELL"
    market = rng.random() < 0.1
    units = rng.randint(4, 400)  # 0.004 .. 0.400 BTC
    qty = units * LOT
    price = Decimal(rng.randint(6_000_000, 6_400_000)) / 100  # 60000.00 .. 64000.00
    order: dict[str, Any] = {"symbol": SYMBOL, "side": side, "order_type": "MARKET" if market else "LIMIT",
                             "quantity": str(qty), "time_in_force": "IOC" if market else "GTC"}  # fmt: skip
    if not market:
        order["price"] = str(price)
    intent = {"intent_id": intent_id, "order": order, "created_at": 0, "updated_at": 0,
              "metadata": {"strategy": "mm-1", "level": rng.randint(0, 9)}}  # fmt: skip
    script = [
        Cmd("place_intent", (ACCOUNT, intent), {}, 1),
        Cmd("start_submission", (ACCOUNT, intent_id), {"client_order_id": f"c{n:07d}"}, 1),
        Cmd("record_accepted", (ACCOUNT, intent_id), {"exchange_order_id": f"x{n:09d}"}, 1, ("accepted",)),
    ]
    outcome = "filled" if market else rng.choices(("filled", "canceled", "resting"), (0.65, 0.2, 0.15))[0]
    if outcome == "filled":
        fills = _split(rng, units, rng.randint(1, 4))
    else:
        done = rng.randint(0, units - 1)
        fills = _split(rng, done, rng.randint(1, 3)) if done else []
    liquidity = "TAKER" if market else "MAKER"
    for j, lots in enumerate(fills):
        fill_qty = lots * LOT
        fill_price = price + Decimal(rng.randint(-50, 50)) / 100 if market else price
        fee = (fill_qty * fill_price * Decimal("0.001")).quantize(Decimal("0.00000001"))
        kwargs = {"trade_id": f"t{n:07d}-{j}", "quantity": str(fill_qty), "price": str(fill_price),
                  "fee": str(fee), "fee_asset": "USDT", "liquidity": liquidity}  # fmt: skip
        script.append(Cmd("record_fill", (ACCOUNT, intent_id), kwargs, 1, ("filled", fill_qty)))
        if rng.random() < 0.01:  # the same fill delivered again (websocket + REST poll): recorded once
            script.append(Cmd("record_fill", (ACCOUNT, intent_id), dict(kwargs), 0))
    if outcome == "canceled":
        script.append(Cmd("cancel_intent", (ACCOUNT, intent_id), {"reason": "requote"}, 1))
        script.append(Cmd("record_cancel_accepted", (ACCOUNT, intent_id), {}, 1, ("terminal",)))
    return SimOrder(n, intent_id, qty, price, script)


class TradingDay:
    """A deterministic stream of ledger commands, `n_events` events long, generated lazily in chunks."""

    def __init__(self, seed: int, n_events: int):
        self.rng = random.Random(seed)
        self.n_events = n_events
        self.events = 0  # expected events emitted so far
        self.commands = 0
        self.orders = 0  # orders placed so far
        self._live: dict[int, SimOrder] = {}  # not (yet) filled or canceled; the others are forgotten
        self._active: list[SimOrder] = []
        self.last_ts = DAY_START_NS
        self.by_method: dict[str, int] = {}

    def _next(self) -> Cmd | None:
        if self.events >= self.n_events:
            return None
        rng = self.rng
        while len(self._active) < ACTIVE_ORDERS:
            order = _order(rng, self.orders)
            self.orders += 1
            self._live[order.n] = order
            self._active.append(order)
        i = rng.randrange(len(self._active))
        order = self._active[i]
        cmd = order.script[order.step]
        order.step += 1
        if order.step == len(order.script):
            self._active[i] = self._active[-1]
            self._active.pop()
            order.script = []  # keep only what the single-append phase needs: the heap is measured too
        self.last_ts += rng.randint(1_000, 2_000_000)
        if cmd.method == "place_intent":
            cmd.args[1]["created_at"] = cmd.args[1]["updated_at"] = self.last_ts
        else:
            cmd.kwargs["ts_event"] = self.last_ts
        if cmd.effect:
            kind = cmd.effect[0]
            if kind == "accepted":
                order.accepted = True
            elif kind == "filled":
                order.filled += cmd.effect[1]
                order.terminal = order.terminal or order.filled >= order.quantity
            elif kind == "terminal":
                order.terminal = True
            if order.terminal:
                self._live.pop(order.n, None)
        self.events += cmd.events
        self.commands += 1
        self.by_method[cmd.method] = self.by_method.get(cmd.method, 0) + 1
        return cmd

    def chunks(self, size: int) -> Iterator[list[Cmd]]:
        while True:
            chunk: list[Cmd] = []
            while len(chunk) < size:
                cmd = self._next()
                if cmd is None:
                    break
                chunk.append(cmd)
            if not chunk:
                return
            yield chunk

    def open_orders(self) -> list[SimOrder]:
        """Accepted, not canceled, not fully filled: where a live fill can land."""
        return [o for o in self._live.values() if o.accepted and not o.terminal and o.quantity - o.filled >= LOT]


def live_fills(open_orders: Sequence[SimOrder], n: int, *, tag: str, ts0: int) -> list[tuple[str, dict]]:
    """`n` small fills spread over the open orders (round robin), far below what any of them has left."""
    out = []
    for k in range(n):
        order = open_orders[k % len(open_orders)]
        out.append((order.intent_id, {"trade_id": f"{tag}-{k}", "quantity": "0.000001", "price": str(order.price),
                                      "fee": "0", "ts_event": ts0 + k}))  # fmt: skip
    return out


def single_sets(day: TradingDay, n: int) -> tuple[list[SimOrder], list[SimOrder]]:
    """Open orders at the end of the day, split in two disjoint sets (warm, cold) so that the warm and
    the cold ledger never write the same stream (which would make one of them conflict and re-read)."""
    open_orders = day.open_orders()
    if len(open_orders) < 2:
        raise SystemExit("too few open orders at the end of the day for the single-append figures; raise --events")
    half = min(len(open_orders) // 2, n)
    return open_orders[half:], open_orders[:half]


# ==================================================================================== helpers
def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def conninfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", query=""))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency_stats(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(x / 1e6 for x in samples_ns)
    return {"n": len(s), "p50_ms": percentile(s, 0.50), "p99_ms": percentile(s, 0.99), "max_ms": s[-1],
            "mean_ms": sum(s) / len(s)}  # fmt: skip


@dataclass
class Result:
    key: str
    figure: str
    path: str
    events: int = 0
    seconds: float = 0.0
    commands: int | None = None
    latency: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


class Timed:
    """Wraps an instance's method to add up its calls and time (bench-side instrumentation only)."""

    def __init__(self, obj: Any, name: str):
        self.calls = 0
        self.ns = 0
        inner = getattr(obj, name)

        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter_ns()
            try:
                return inner(*a, **kw)
            finally:
                self.ns += time.perf_counter_ns() - t
                self.calls += 1

        setattr(obj, name, wrapper)


class GcTimer:
    """Time spent in the cyclic garbage collector while `active` (via gc.callbacks)."""

    def __init__(self) -> None:
        self.active = False
        self.ns = 0
        self.collections = [0, 0, 0]
        self._t0 = 0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._t0 = time.perf_counter_ns()
        elif self._t0:
            self.ns += time.perf_counter_ns() - self._t0
            self.collections[info["generation"]] += 1
            self._t0 = 0


# ==================================================================================== worker processes
def worker_main(role: str, cfg: dict[str, Any], conn: Any) -> None:
    """A path in its own process: answers ("method", *args) with ("ok", value) or ("error", traceback)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # eventsourcing 9.5: save() is deprecated
    path: Any = None
    try:
        path = {"ledger": LedgerPath, "es": EventsourcingPath}[role](cfg)
        conn.send(("ok", None))
        while True:
            name, *args = conn.recv()
            if name == "stop":
                break
            conn.send(("ok", getattr(path, name)(*args)))
    except BaseException:  # noqa: BLE001 - reported to the coordinator
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        if path is not None:
            try:
                path.close()
            except Exception:  # noqa: BLE001
                pass


class Worker:
    def __init__(self, ctx: Any, role: str, cfg: dict[str, Any]):
        self.role = role
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(role, cfg, child), name=f"bench-{role}", daemon=True)
        self.process.start()
        child.close()
        self._answer()

    def _answer(self) -> Any:
        try:
            status, value = self.conn.recv()
        except EOFError:
            raise RuntimeError(f"the {self.role} worker died (exit code {self.process.exitcode})") from None
        if status == "error":
            raise RuntimeError(f"the {self.role} worker failed:\n{value}")
        return value

    def call(self, name: str, *args: Any) -> Any:
        self.conn.send((name, *args))
        return self._answer()

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(("stop",))
            except OSError:
                pass
            self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


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


METHODS = ("place_intent", "start_submission", "record_accepted", "record_fill", "cancel_intent",
           "record_cancel_accepted")  # fmt: skip


def ledger_setup(ledger: Any) -> None:
    ts = DAY_START_NS - 10**9
    ledger.open_account(ACCOUNT, exchange="binance", account_type="SPOT", base_currency="USDT", ts_event=ts)
    ledger.register_asset(
        ACCOUNT, {"asset_id": SYMBOL, "symbol": SYMBOL, "asset_type": "SPOT", "name": "Bitcoin / Tether",
                  "tick_size": "0.01", "lot_size": "0.000001"},
        base_asset="BTC", quote_asset="USDT", ts_event=ts,
    )  # fmt: skip
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="100000000", reason="DEPOSIT", reference="dep-1",
                          ts_event=ts)  # fmt: skip


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

    from kernel.commands import order_stream_id

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


# ==================================================================================== output
def fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def render(header: list[tuple[str, str]], results: list[Result], breakdown: list[str], plain: bool) -> None:
    copy_plain = next((r for r in results if r.key == "batch.copy_plain"), None)
    rows: list[tuple[str, ...]] = []
    for r in results:
        if r.latency is None:
            rel = f"{r.eps / copy_plain.eps:.1%} of COPY" if copy_plain and copy_plain.eps else ""
            target = ""
            if r.key == "batch.ledger":
                ok = r.eps >= TARGET_BATCH_EPS
                target = f"≥ {TARGET_BATCH_EPS:,} ev/s  {'PASS' if ok else 'FAIL'}"
            n = f"{fmt_int(r.events)} ev" + (f" / {fmt_int(r.commands)} cmd" if r.commands is not None else "")
            rows.append((r.figure, r.path, n, f"{r.seconds:.2f} s", f"{fmt_int(r.eps)} ev/s", rel, target))
        else:
            lat = r.latency
            target = ""
            if r.key.startswith("single.ledger"):
                ok = lat["p99_ms"] <= TARGET_SINGLE_P99_MS
                target = f"p99 ≤ {TARGET_SINGLE_P99_MS:g} ms  {'PASS' if ok else 'FAIL'}"
            n = f"{fmt_int(r.events)} ev" + (f" / {fmt_int(r.commands)} cmd" if r.commands is not None else "")
            rows.append((r.figure, r.path, n, f"{r.seconds:.2f} s",
                         f"p50 {lat['p50_ms']:.2f} · p99 {lat['p99_ms']:.2f} · max {lat['max_ms']:.2f} ms",
                         f"mean {lat['mean_ms']:.2f} ms", target))  # fmt: skip
    cols = ("Figure", "Path", "Count", "Time", "Result", "Beside", "Target")
    shown = [(row[0] if i == 0 or row[0] != rows[i - 1][0] else "", *row[1:]) for i, row in enumerate(rows)]
    try:
        if plain:
            raise ImportError
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for k, v in header:
            print(f"{k:>8}  {v}")
        widths = [max(len(c), *(len(row[i]) for row in shown)) for i, c in enumerate(cols)]
        print()
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for row in shown:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        for line in breakdown:
            print(line)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    for k, v in header:
        head.add_row(k, v)
    console.print(head)
    table = Table(title="Ledger write path, each figure beside its references", title_justify="left")
    for c in cols:
        table.add_column(c, no_wrap=c != "Path", justify="right" if c in ("Count", "Time", "Result") else "left")
    for i, row in enumerate(shown):
        if i and row[0]:
            table.add_section()
        style = "red" if "FAIL" in row[-1] else "green" if "PASS" in row[-1] else None
        table.add_row(*row, style=style)
    console.print(table)
    for line in breakdown:
        console.print(line, soft_wrap=True)


# ==================================================================================== main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default=os.environ.get(URL_ENV) or DEFAULT_URL,
                   help=f"PostgreSQL URL (default ${URL_ENV}, else {DEFAULT_URL}); each run uses fresh schemas")
    p.add_argument("--events", type=int, default=200_000, help="events in the generated trading day (batch figures)")
    p.add_argument("--single", type=int, default=2000, help="single appends per latency figure")
    p.add_argument("--batch-size", type=int, default=5000, help="commands per batch (one transaction each)")
    p.add_argument("--seed", type=int, default=7, help="workload seed (the workload is deterministic)")
    p.add_argument("--json", action="store_true", help="also print the results as one JSON document")
    p.add_argument("--plain", action="store_true", help="plain text table instead of rich")
    p.add_argument("--profile", metavar="FILE", help="run the ledger's batch phase under cProfile; stats to FILE")
    p.add_argument("--skip-references", action="store_true", help="only the ledger's figures (e.g. under py-spy)")
    args = p.parse_args(argv)
    if urlsplit(args.store).scheme not in ("postgresql", "postgres"):
        p.error("--store must be a postgresql:// URL")
    for name in ("events", "single", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def git_revision() -> str:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--", "kernel", "adapters/stores"],
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" + uncommitted changes in kernel/ or adapters/stores/" if dirty else "")


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pid = os.getpid()
    schemas = {k: f"bench_{pid}_{n}" for n, k in enumerate(("ledger", "es", "raw"), start=1)}
    refs = not args.skip_references
    admin = psycopg.connect(conninfo(args.store), autocommit=True)
    show = {name: admin.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method")}  # fmt: skip
    parts = urlsplit(args.store)
    shown_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query=""))
    load_before = loadavg()
    header = [
        ("store", f"{shown_url}  schemas {', '.join(schemas.values())} (dropped at the end)"),
        ("server", f"PostgreSQL {show['server_version']}  SHOW fsync = {show['fsync']}  "
                   f"SHOW synchronous_commit = {show['synchronous_commit']}  wal_sync_method = {show['wal_sync_method']}"),
        ("machine", f"{os.cpu_count()} cores  {platform.python_implementation()} {platform.python_version()}  "
                    f"eventsourcing {version('eventsourcing')}  msgspec {version('msgspec')}  "
                    f"pydantic {version('pydantic')}  psycopg {version('psycopg')}"),
        ("code", git_revision()),
        ("workload", f"seed {args.seed}; {args.events:,} events, batches of {args.batch_size:,} commands; "
                     f"{args.single:,} single appends per latency figure; {ACTIVE_ORDERS} orders in flight"),
        ("method", "one process per Python path, driven in lock step (batch by batch, call by call in rotating "
                   "order); perf_counter_ns around the measured work only"),
    ]  # fmt: skip
    results: list[Result] = []
    notes: list[str] = []
    workers: list[Worker] = []
    raw: Raw | None = None
    ctx = multiprocessing.get_context("spawn")
    base = {"seed": args.seed, "events": args.events, "batch_size": args.batch_size}
    ledger_url = with_schema(args.store, schemas["ledger"])
    try:
        for s in schemas.values():
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s)))
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(s)))
        ledger = Worker(ctx, "ledger", {**base, "url": ledger_url, "setup": True, "profile": args.profile})
        workers.append(ledger)
        es = None
        if refs:
            raw = Raw(args.store, schemas["raw"], schemas["ledger"])
            es = Worker(ctx, "es", {**base, "url": args.store, "schema": schemas["es"]})
            workers.append(es)

        # ------------------------------------------------------------ batch append, in lock step
        head = first_head = ledger.call("head")
        while True:
            answer = ledger.call("batch")
            if answer is None:
                break
            if raw is not None and es is not None:
                _, new_head = answer
                rows = raw.stored_rows(head, new_head)
                head = new_head
                raw.events += len(rows)
                raw.copy("plain", rows)
                raw.copy("shaped", rows)
                del rows
                es.call("batch")
        a = ledger.call("batch_result")
        stored = admin.execute(sql.SQL("SELECT count(*) FROM {}.ledger_events WHERE notification_id > %s").format(
            sql.Identifier(schemas["ledger"])), (first_head,)).fetchone()[0]  # type: ignore[index]  # fmt: skip
        if not (stored == a["events"] == a["expected_events"]) or (raw is not None and raw.events != stored):
            raise SystemExit(f"count mismatch: the ledger returned {a['events']} events, its table holds {stored}, "
                             f"the workload expects {a['expected_events']}, COPY wrote {raw.events if raw else '-'}")
        x = a["breakdown"]
        results.append(Result("batch.ledger", "batch append, ev/s", "(a) ledger: with ledger.batch() as b",
                              a["events"], a["seconds"], commands=a["commands"], extra=x))  # fmt: skip
        if raw is not None and es is not None:
            c = es.call("batch_result")
            results.append(Result("batch.copy_plain", "batch append, ev/s", "(b) raw binary COPY, plain table",
                                  raw.events, raw.ns["plain"] / 1e9))  # fmt: skip
            results.append(Result("batch.copy_shaped", "batch append, ev/s",
                                  "(b) raw binary COPY, ledger-shaped table, LOCK TABLE", raw.events,
                                  raw.ns["shaped"] / 1e9))  # fmt: skip
            results.append(Result("batch.eventsourcing", "batch append, ev/s",
                                  "(c) eventsourcing: Aggregate + JSON + app.save(*aggs)", c["events"], c["seconds"],
                                  commands=c["commands"]))  # fmt: skip
        gens = "/".join(str(n) for n in x["gc_collections"])
        notes.append(
            f"(a) batch time: parse+decide {x['parse_decide_s']:.2f} s (of which cyclic GC {x['gc_s']:.2f} s, "
            f"{gens} collections of gen 0/1/2); stream reads {x['stream_reads']:,} SELECTs {x['stream_reads_s']:.2f} s; "
            f"encode {x['encode_s']:.2f} s; recorder.insert_events {x['insert_events_calls']:,} calls "
            f"{x['insert_events_s']:.2f} s"
        )  # fmt: skip
        mix = ", ".join(f"{k} {v:,}" for k, v in sorted(a["by_method"].items(), key=lambda kv: -kv[1]))
        notes.append(f"    workload: {a['orders']:,} orders; {a['commands']:,} commands ({mix}); "
                     f"{a['commands'] - a['events']:,} redelivered fills recorded nothing")  # fmt: skip

        # ------------------------------------------------------------ single append, call by call
        cold = Worker(ctx, "ledger", {**base, "url": ledger_url, "cold": True})
        workers.append(cold)
        prep = ledger.call("prepare_single", args.single)
        n_cold = cold.call("prepare_single", args.single)["fills"]
        steps: list[tuple[str, Callable[[int], int]]] = [("warm", lambda k: ledger.call("single", k)),
                                                          ("cold", lambda k: cold.call("single", k))]  # fmt: skip
        if raw is not None and es is not None:
            es.call("prepare_single", args.single)
            steps += [("raw", raw.single), ("raw_shaped", raw.single_shaped),
                      ("es", lambda k: es.call("single", k))]  # type: ignore[union-attr]  # fmt: skip
        samples: dict[str, list[int]] = {name: [] for name, _ in steps}
        for k in range(args.single):
            todo = [(name, step) for name, step in steps if name != "cold" or k < n_cold]
            r = k % len(todo)
            for name, step in todo[r:] + todo[:r]:
                samples[name].append(step(k))
        rows_single = [
            ("single.ledger", "(a) ledger.record_fill(), warm cache", "warm"),
            ("single.ledger_cold", "(a) ledger.record_fill(), cold cache", "cold"),
            ("single.raw_insert", "(b) raw INSERT one row + COMMIT, plain table", "raw"),
            ("single.raw_insert_shaped", "(b) raw LOCK+NOTIFY+INSERT..RETURNING+COMMIT, ledger-shaped",
             "raw_shaped"),
            ("single.eventsourcing", "(c) eventsourcing app.save(aggregate)", "es"),
        ]
        for key, path, name in rows_single:
            if samples.get(name):
                s = samples[name]
                results.append(Result(key, "single append, ms", path, len(s), sum(s) / 1e9, commands=len(s),
                                      latency=latency_stats(s)))  # fmt: skip
        w, c = ledger.call("single_info"), cold.call("single_info")
        notes.append(f"(a) single: warm ledger {w['reads']} stream reads, recorder.insert_events mean {w['insert_ms']:.2f} "
                     f"ms; cold ledger {c['reads']:,} stream reads mean {c['read_ms']:.2f} ms, insert_events mean "
                     f"{c['insert_ms']:.2f} ms; {prep['open_orders']:,} open orders at the end of the day, split "
                     f"between the warm and the cold ledger")  # fmt: skip
        if args.profile:
            notes.append(f"note: the ledger's batch phase ran under cProfile (stats in {args.profile}); its figure "
                         "is inflated by the profiler")  # fmt: skip
        notes.append(f"load average before {load_before}, after {loadavg()} (other processes share the machine)")

        render(header, results, notes, args.plain)
        if args.profile:
            buf = io.StringIO()
            stats = pstats.Stats(args.profile, stream=buf).strip_dirs()
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(40)
            print(buf.getvalue(), file=sys.stderr)
        if args.json:
            doc = {
                "header": dict(header),
                "server": show,
                "params": {"events": args.events, "single": args.single, "batch_size": args.batch_size,
                           "seed": args.seed},
                "targets": {"batch_events_per_s": TARGET_BATCH_EPS, "single_p99_ms": TARGET_SINGLE_P99_MS},
                "results": {
                    r.key: {"path": r.path, "events": r.events, "commands": r.commands, "seconds": r.seconds,
                            **({"events_per_s": r.eps} if r.latency is None else {"latency_ms": r.latency}),
                            **({"breakdown": r.extra} if r.extra else {})}
                    for r in results
                },
                "notes": notes,
            }  # fmt: skip
            print(json.dumps(doc, indent=2))
        return 0
    finally:
        for w in workers:
            w.stop()
        if raw is not None:
            raw.close()
        for s in schemas.values():
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s)))
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
