#!/usr/bin/env python
"""Benchmark of the ledger on PostgreSQL, write path and read path, each figure beside its references in
the same run (DESIGN "Performance"; issue 3 "Speed"). The code is in `scripts/benchlib/`.

    python scripts/bench.py [--store postgresql://...] [--seed 7] [--json] [--plain]
                            [--skip-write] [--skip-read] [--skip-ingest]
        write half: [--events 200000] [--single 2000] [--batch-size 5000] [--profile FILE]
                    [--skip-references]
        read half:  [--replay-events 1000000] [--snapshot-every 20000] [--asof-queries 200]
                    [--asof-budget-s 0] [--lag-seconds 20] [--lag-rate 1000] [--lag-writers 2]
                    [--lag-history 20000] [--profile-events 200000] [--profile-read FILE]

One run uses fresh schemas `bench_<pid>_<n>` and drops them at the end. Server settings are left as
they are (fsync on); the header shows `SHOW fsync` and `SHOW synchronous_commit`. Progress goes to
stderr, the figures to stdout.

WRITE HALF
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

READ HALF
A history of `--replay-events` events (the same generator, seeded; `ts_recorded` = the simulated
clock, so the store and its state hash are the same on every run) is recorded into a fresh schema
through `ledger.batch()`, then `ensure_snapshots(every=--snapshot-every)`. Then, each path in a fresh
process, one after the other (after one untimed warm-up read), over the whole store:
  (a) `projections.replay.replay(ledger)` (orders, positions, balances/accounts), events/s and peak
      memory (getrusage ru_maxrss after the run minus the RSS before it), split into read, decode,
      fold and GC by bench-side wrappers; then `state_hash(books)`, timed apart;
  (b) raw psycopg: binary server-side named cursor, `SELECT ... ORDER BY notification_id`, fetchmany
      (the practical read limit);
  (c) eventsourcing's notification log (`LocalNotificationLog.select` in pages) with its default
      transcoder's decode (`JSONTranscoder.decode`) of each payload; and `recorder.select_notifications`
      in pages with the ledger's msgspec decode (typed events: replay's read + decode without the fold).
Every count is checked: events folded = rows read = events stored.
Profile: cProfile of `replay` over the first `--profile-events` events and of `state_hash` of those
books (fresh process), ranked by module and function (`--profile-events 0` skips it).
As-of: `position_at(ledger, T)` and `state_at(ledger, ts_ns=T)` for `--asof-queries` seeded random T
across the day, latency p50/p99/max, each answer checked (`--asof-budget-s` caps the time spent). After a
timed `project` over the whole log, the same T answered from the read tables' history (every account's
positions, balances and account state), and one order drawn among those created by T as of it
(`order_at`: its own stream, by index; what `ledger query orders --order ... --as-of T` runs).
Live lag: in another fresh schema, `--lag-writers` processes append single events (`record_fill`) at
`--lag-rate` events/s in total for `--lag-seconds` while `project(url, follow=True)` runs in a process
of its own; lag = `committed_ns - ts_recorded` from its `on_batch` (`--lag-seconds 0` skips it).

INGEST HALF
See `scripts/benchlib/ingest.py`: `--ingest-messages` generated FIX 4.4 drop-copy messages, and as many
Binance spot user-data-stream messages, each ingested end to end (parse, decide, encode, durable append)
beside raw binary COPY of the rows it stored. Sizes: `--ingest-messages 1000000 --ingest-batch 5000`.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import platform
import pstats
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchlib, also when imported from elsewhere

from benchlib.common import (
    DEFAULT_URL,
    URL_ENV,
    Result,
    Worker,
    conninfo,
    git_revision,
    loadavg,
    reset_schema,
)
from benchlib.render import Section, json_results, render
from benchlib.workload import ACTIVE_ORDERS

from projections.replay import SNAPSHOT_EVERY

SCHEMA_ROLES = ("ledger", "es", "raw", "read", "lag", "ingest_fix", "ingest_binance")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default=os.environ.get(URL_ENV) or DEFAULT_URL,
                   help=f"PostgreSQL URL (default ${URL_ENV}, else {DEFAULT_URL}); each run uses fresh schemas")
    p.add_argument("--seed", type=int, default=7, help="workload seed (the workload is deterministic)")
    p.add_argument("--json", action="store_true", help="also print the results as one JSON document")
    p.add_argument("--plain", action="store_true", help="plain text table instead of rich")
    p.add_argument("--skip-write", action="store_true", help="no write half")
    p.add_argument("--skip-read", action="store_true", help="no read half")
    p.add_argument("--skip-ingest", action="store_true", help="no ingest half")
    w = p.add_argument_group("write half")
    w.add_argument("--events", type=int, default=200_000, help="events in the generated trading day (batch figures)")
    w.add_argument("--single", type=int, default=2000, help="single appends per latency figure")
    w.add_argument("--batch-size", type=int, default=5000, help="commands per batch (one transaction each); "
                   "also how the read half's history is written")  # fmt: skip
    w.add_argument("--profile", metavar="FILE", help="run the ledger's batch phase under cProfile; stats to FILE")
    w.add_argument("--skip-references", action="store_true", help="only the ledger's figures (e.g. under py-spy)")
    r = p.add_argument_group("read half")
    r.add_argument("--replay-events", type=int, default=1_000_000, help="events in the history replayed and queried")
    r.add_argument("--snapshot-every", type=int, default=SNAPSHOT_EVERY,
                   help="ensure_snapshots(every=...); default: the ledger's own")
    r.add_argument("--asof-queries", type=int, default=200, help="random times T for position_at / state_at")
    r.add_argument("--asof-budget-s", type=float, default=0.0, help="stop the state_at queries after this long "
                   "(0: no limit); the number done is printed")  # fmt: skip
    r.add_argument("--asof-check", type=int, default=20, help="as-of answers from the read tables' history "
                   "compared with state_at's (the first N of the times)")  # fmt: skip
    r.add_argument("--lag-seconds", type=float, default=20.0, help="live-lag duration (0: skip the live lag)")
    r.add_argument("--lag-rate", type=int, default=1000, help="live-lag events per second, all writers together")
    r.add_argument("--lag-writers", type=int, default=2, help="writer processes appending single events")
    r.add_argument("--lag-history", type=int, default=20_000, help="events in the live-lag store before it starts")
    r.add_argument("--profile-events", type=int, default=200_000, help="events replayed under cProfile (0: no profile)")
    r.add_argument("--profile-read", metavar="FILE", help="also write the replay + state_hash pstats to FILE")
    r.add_argument("--keep-history", metavar="SCHEMA", help="keep the read half's generated history in SCHEMA (not "
                   "dropped) and reuse it on later runs with the same seed, size and batch size; its snapshots are "
                   "written afresh every run")  # fmt: skip
    g = p.add_argument_group("ingest half")
    g.add_argument("--ingest-messages", type=int, default=1_000_000, help="messages per generated log (FIX, Binance)")
    g.add_argument("--ingest-batch", type=int, default=5000, help="messages per ingest transaction")
    args = p.parse_args(argv)
    if urlsplit(args.store).scheme not in ("postgresql", "postgres"):
        p.error("--store must be a postgresql:// URL")
    if args.skip_write and args.skip_read and args.skip_ingest:
        p.error("--skip-write, --skip-read and --skip-ingest leave nothing to run")
    for name in ("events", "single", "batch_size", "replay_events", "asof_queries", "lag_rate", "lag_writers",
                 "lag_history", "ingest_messages", "ingest_batch"):  # fmt: skip
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    for name in ("snapshot_every", "asof_budget_s", "asof_check", "lag_seconds", "profile_events"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must be >= 0")
    return args


def header_lines(args: argparse.Namespace, show: dict[str, str], shown_url: str, schemas: dict[str, str],
                 load_before: str) -> list[tuple[str, str]]:  # fmt: skip
    lines = [
        ("store", f"{shown_url}  schemas {', '.join(schemas.values())} (dropped at the end)"),
        ("server", f"PostgreSQL {show['server_version']}  SHOW fsync = {show['fsync']}  "
                   f"SHOW synchronous_commit = {show['synchronous_commit']}  wal_sync_method = {show['wal_sync_method']}"),
        ("machine", f"{os.cpu_count()} cores  {platform.python_implementation()} {platform.python_version()}  "
                    f"eventsourcing {version('eventsourcing')}  msgspec {version('msgspec')}  "
                    f"pydantic {version('pydantic')}  psycopg {version('psycopg')}  load average {load_before}"),
        ("code", git_revision()),
    ]  # fmt: skip
    if not args.skip_write:
        lines.append(("workload", f"seed {args.seed}; {args.events:,} events, batches of {args.batch_size:,} commands; "
                                  f"{args.single:,} single appends per latency figure; {ACTIVE_ORDERS} orders in flight"))
        lines.append(("method", "one process per Python path, driven in lock step (batch by batch, call by call in "
                                "rotating order); perf_counter_ns around the measured work only"))  # fmt: skip
    if not args.skip_read:
        lag = (f"live lag {args.lag_rate:,} ev/s for {args.lag_seconds:g} s by {args.lag_writers} writers"
               if args.lag_seconds else "no live lag")  # fmt: skip
        lines.append(("read", f"seed {args.seed}; {args.replay_events:,}-event history, snapshots every "
                              f"{args.snapshot_every:,}; each read path in a fresh process, one after the other; "
                              f"{args.asof_queries} as-of times; {lag}"))  # fmt: skip
    if not args.skip_ingest:
        lines.append(("ingest", f"seed {args.seed}; about {args.ingest_messages:,} generated messages per format (a FIX "
                                f"4.4 drop copy, a Binance spot stream), transactions of {args.ingest_batch:,} "
                                "messages; ledger, then COPY, in this process"))  # fmt: skip
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pid = os.getpid()
    schemas = {k: f"bench_{pid}_{n}" for n, k in enumerate(SCHEMA_ROLES, start=1)
               if (k in ("ledger", "es", "raw") and not args.skip_write)
               or (k in ("read", "lag") and not args.skip_read)
               or (k in ("raw", "ingest_fix", "ingest_binance") and not args.skip_ingest)}  # fmt: skip
    if args.keep_history and "read" in schemas:
        schemas["read"] = args.keep_history
    admin = psycopg.connect(conninfo(args.store), autocommit=True)
    show = {name: admin.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method")}  # fmt: skip
    parts = urlsplit(args.store)
    shown_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query=""))
    header = header_lines(args, show, shown_url, schemas, loadavg())
    sections: list[Section] = []
    tail: list[str] = []
    workers: list[Worker] = []
    closers: list[Any] = []
    ctx = multiprocessing.get_context("spawn")
    try:
        for s in schemas.values():
            if s != args.keep_history:
                reset_schema(admin, s)
        if not args.skip_write:
            from benchlib.write import run_write

            results: list[Result] = []
            notes: list[str] = []
            run_write(args, admin, ctx, schemas, results, notes, workers, closers)
            sections.append(("Ledger write path, each figure beside its references", results, notes))
        if not args.skip_read:
            from benchlib.read import run_read

            results, notes = [], []
            run_read(args, admin, ctx, schemas, results, notes, tail, workers)
            sections.append(("Ledger read path: replay, as-of, live lag, each figure beside its references",
                             results, notes))  # fmt: skip
        if not args.skip_ingest:
            from benchlib.ingest import run_ingest

            results, notes = [], []
            run_ingest(args, admin, schemas, results, notes)
            sections.append(("Ledger ingest path: exchange messages end to end, beside raw COPY of the rows",
                             results, notes))  # fmt: skip
        sections[-1][2].append(f"load average after {loadavg()} (other processes share the machine)")

        render(header, sections, tail, args.plain)
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
                "params": {k: v for k, v in vars(args).items() if k not in ("store", "json", "plain")},
                "targets": {"batch_events_per_s": 50_000, "single_p99_ms": 5.0, "replay_events_per_s": 150_000,
                            "asof_p99_ms": 50.0, "live_lag_p99_ms": 50.0, "ingest_messages_per_s": 50_000},
                "results": {k: v for _, res, _ in sections for k, v in json_results(res).items()},
                "notes": [n for _, _, ns in sections for n in ns],
            }  # fmt: skip
            print(json.dumps(doc, indent=2))
        return 0
    finally:
        for w in workers:
            w.stop()
        for c in closers:
            c.close()
        for s in schemas.values():
            if s != args.keep_history:
                reset_schema(admin, s, create=False)
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
