"""The write half: batch append and single-append latency of the ledger beside raw COPY / INSERT and
eventsourcing's default path, the Python paths in their own processes driven in lock step."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from benchlib.common import (
    Result,
    Worker,
    latency_stats,
    progress,
    verdict,
    with_schema,
)
from benchlib.write_paths import Raw

TARGET_BATCH_EPS = 50_000
TARGET_SINGLE_P99_MS = 5.0
LEDGER = "benchlib.write_paths:LedgerPath"
ES = "benchlib.write_paths:EventsourcingPath"


def run_write(args: argparse.Namespace, admin: psycopg.Connection, ctx: Any, schemas: dict[str, str],
              results: list[Result], notes: list[str], workers: list[Worker], closers: list[Any]) -> None:  # fmt: skip
    """Measure the write half into `results` and `notes`; workers and Raw are registered for cleanup."""
    refs = not args.skip_references
    base = {"seed": args.seed, "events": args.events, "batch_size": args.batch_size}
    ledger_url = with_schema(args.store, schemas["ledger"])
    raw: Raw | None = None
    progress(f"write half: {args.events:,} events in batches of {args.batch_size:,}, then {args.single:,} "
             "single appends per latency figure")  # fmt: skip
    ledger = Worker(ctx, LEDGER, {**base, "url": ledger_url, "setup": True, "profile": args.profile})
    workers.append(ledger)
    es = None
    if refs:
        raw = Raw(args.store, schemas["raw"], schemas["ledger"])
        closers.append(raw)
        es = Worker(ctx, ES, {**base, "url": args.store, "schema": schemas["es"]})
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
    batch = [Result("batch.ledger", "batch append, ev/s", "(a) ledger: with ledger.batch() as b",
                    a["events"], a["seconds"], commands=a["commands"], extra=x)]  # fmt: skip
    if raw is not None and es is not None:
        c = es.call("batch_result")
        batch.append(Result("batch.copy_plain", "batch append, ev/s", "(b) raw binary COPY, plain table",
                            raw.events, raw.ns["plain"] / 1e9))  # fmt: skip
        batch.append(Result("batch.copy_shaped", "batch append, ev/s",
                            "(b) raw binary COPY, ledger-shaped table, LOCK TABLE", raw.events,
                            raw.ns["shaped"] / 1e9))  # fmt: skip
        batch.append(Result("batch.eventsourcing", "batch append, ev/s",
                            "(c) eventsourcing: Aggregate + JSON + app.save(*aggs)", c["events"], c["seconds"],
                            commands=c["commands"]))  # fmt: skip
    copy_plain = next((r for r in batch if r.key == "batch.copy_plain"), None)
    for r in batch:
        if copy_plain and copy_plain.eps:
            r.beside = f"{r.eps / copy_plain.eps:.1%} of COPY"
        if r.key == "batch.ledger":
            r.target = f"≥ {TARGET_BATCH_EPS:,} ev/s  {verdict(r.eps >= TARGET_BATCH_EPS)}"
    results += batch
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
    cold = Worker(ctx, LEDGER, {**base, "url": ledger_url, "cold": True})
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
        ("single.raw_insert_shaped", "(b) raw LOCK+NOTIFY+INSERT..RETURNING+COMMIT, ledger-shaped", "raw_shaped"),
        ("single.eventsourcing", "(c) eventsourcing app.save(aggregate)", "es"),
    ]
    for key, path, name in rows_single:
        if samples.get(name):
            s = samples[name]
            r = Result(key, "single append, ms", path, len(s), sum(s) / 1e9, commands=len(s),
                       latency=latency_stats(s))  # fmt: skip
            r.beside = f"mean {r.latency['mean_ms']:.2f} ms"  # type: ignore[index]
            if key.startswith("single.ledger"):
                ok = r.latency["p99_ms"] <= TARGET_SINGLE_P99_MS  # type: ignore[index]
                r.target = f"p99 ≤ {TARGET_SINGLE_P99_MS:g} ms  {verdict(ok)}"
            results.append(r)
    w, c = ledger.call("single_info"), cold.call("single_info")
    notes.append(f"(a) single: warm ledger {w['reads']} stream reads, recorder.insert_events mean {w['insert_ms']:.2f} "
                 f"ms; cold ledger {c['reads']:,} stream reads mean {c['read_ms']:.2f} ms, insert_events mean "
                 f"{c['insert_ms']:.2f} ms; {prep['open_orders']:,} open orders at the end of the day, split "
                 f"between the warm and the cold ledger")  # fmt: skip
    if args.profile:
        notes.append(f"note: the ledger's batch phase ran under cProfile (stats in {args.profile}); its figure "
                     "is inflated by the profiler")  # fmt: skip
    for w_ in (ledger, cold, *([es] if es is not None else [])):
        w_.stop()
