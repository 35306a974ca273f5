"""The read half: a generated N-event history in a fresh schema, its snapshots, then the full replay beside
the read references, the replay's profile, as-of query latency, and the live lag of `project --follow`."""

from __future__ import annotations

import argparse
import os
import random
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from benchlib.common import (
    Result,
    Worker,
    latency_stats,
    progress,
    reset_schema,
    verdict,
    with_schema,
)
from benchlib.lag import lag_plan, run_writers
from benchlib.profiling import report
from kernel.ledger import READ_PAGE_SIZE

TARGET_REPLAY_EPS = 150_000
TARGET_ASOF_P99_MS = 50.0
TARGET_LAG_P99_MS = 50.0
PATHS = "benchlib.read_paths:"
HISTORY_PATHS = "benchlib.history_paths:"
PROJECT_BATCH = 5000  # `ledger project`'s default
READS = (  # kind, key, path label
    ("raw", "replay.raw", "(b) raw psycopg binary server-side cursor"),
    ("eslog", "replay.es_json", "(c) eventsourcing notification log + JSONTranscoder"),
    ("decode", "replay.es_msgspec", "(c) select_notifications + ledger msgspec decode"),
    ("replay", "replay.ledger", "(a) ledger: replay(ledger), 3 projections"),
)


def _one(ctx: Any, workers: list[Worker], role: str, cfg: dict[str, Any], method: str, *args: Any) -> Any:
    """Run one method in a fresh worker process, then stop it."""
    w = Worker(ctx, role, cfg)
    workers.append(w)
    try:
        return w.call(method, *args)
    finally:
        w.stop()


def _table_facts(admin: psycopg.Connection, schema: str) -> dict[str, Any]:
    s = sql.Identifier(schema)
    n, lo, hi = admin.execute(sql.SQL("SELECT count(*), min(notification_id), max(notification_id) FROM {}.ledger_events"
                                      ).format(s)).fetchone()  # type: ignore[misc]  # fmt: skip
    sizes = admin.execute("SELECT pg_total_relation_size(%s::regclass), pg_total_relation_size(%s::regclass)",
                          (f"{schema}.ledger_events", f"{schema}.ledger_snapshots")).fetchone()  # fmt: skip
    snaps = admin.execute(sql.SQL("SELECT count(*) FROM {}.ledger_snapshots").format(s)).fetchone()[0]  # type: ignore[index]
    return {"events": n, "min": lo or 0, "max": hi or 0, "contiguous": n == 0 or (lo == 1 and hi == n),
            "events_bytes": sizes[0], "snapshot_bytes": sizes[1], "snapshots": snaps}  # type: ignore[index]  # fmt: skip


_KEPT = "bench_kept_history"  # one row: what generated the history kept by --keep-history, and its figures


def _kept_history(admin: psycopg.Connection, args: argparse.Namespace) -> dict[str, Any] | None:
    """The generator's answer for the history kept in `--keep-history` if it was generated with these
    settings (its snapshots are then deleted: this run writes its own), else None."""
    s = sql.Identifier(args.keep_history)
    if not admin.execute("SELECT to_regclass(%s)", (f"{args.keep_history}.{_KEPT}",)).fetchone()[0]:  # type: ignore[index]
        return None
    row = admin.execute(sql.SQL("SELECT params, gen FROM {}.{}").format(s, sql.Identifier(_KEPT))).fetchone()
    if row is None or row[0] != _kept_params(args):
        return None
    if admin.execute("SELECT to_regclass(%s)", (f"{args.keep_history}.ledger_snapshots",)).fetchone()[0]:  # type: ignore[index]
        admin.execute(sql.SQL("TRUNCATE {}.ledger_snapshots").format(s))
    return row[1]


def _kept_params(args: argparse.Namespace) -> dict[str, Any]:
    return {"seed": args.seed, "events": args.replay_events, "batch_size": args.batch_size}


def _keep_history(admin: psycopg.Connection, args: argparse.Namespace, gen: dict[str, Any]) -> None:
    t = sql.SQL("{}.{}").format(sql.Identifier(args.keep_history), sql.Identifier(_KEPT))
    admin.execute(sql.SQL("CREATE TABLE {} (params jsonb, gen jsonb)").format(t))
    admin.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(t),
                  (Jsonb(_kept_params(args)), Jsonb(gen)))  # fmt: skip


def run_read(args: argparse.Namespace, admin: psycopg.Connection, ctx: Any, schemas: dict[str, str],
             results: list[Result], notes: list[str], tail: list[str], workers: list[Worker]) -> None:  # fmt: skip
    url = with_schema(args.store, schemas["read"])
    n_target = args.replay_events

    # ------------------------------------------------------------ the history and its snapshots
    gen = _kept_history(admin, args) if args.keep_history else None
    if gen is None:
        if args.keep_history:
            reset_schema(admin, schemas["read"])
        progress(f"read half: generating a {n_target:,}-event history into schema {schemas['read']} (seed {args.seed})")
        gen = _one(ctx, workers, PATHS + "GeneratePath", {"url": url, "seed": args.seed, "events": n_target,
                                                          "batch_size": args.batch_size}, "generate")  # fmt: skip
        if args.keep_history:
            _keep_history(admin, args, gen)
    else:
        progress(f"read half: reusing the {n_target:,}-event history kept in schema {schemas['read']} (its snapshots "
                 "deleted, to be written afresh)")  # fmt: skip
    total = gen["head"]
    snap = _one(ctx, workers, PATHS + "SnapshotPath", {"url": url, "every": args.snapshot_every, "total": total},
                "ensure")  # fmt: skip
    facts = _table_facts(admin, schemas["read"])
    if not facts["events"] == gen["events"] + 3 == gen["expected_events"] + 3:
        raise SystemExit(f"count mismatch: generated {gen['events']:,} (+3 set-up) events, expected "
                         f"{gen['expected_events']:,}, the table holds {facts['events']:,} ids {facts['min']}..{facts['max']}")
    stored = facts["events"]
    notes.append(f"store: {stored:,} events (3 set-up + {gen['events']:,} from {gen['commands']:,} commands, "
                 f"{gen['orders']:,} orders), ids {facts['min']}..{facts['max']:,}"
                 f"{' contiguous' if facts['contiguous'] else ' (with gaps)'}, events table "
                 f"{facts['events_bytes'] / 2**20:,.0f} MB; written by ledger.batch() of {args.batch_size:,} commands in "
                 f"{gen['seconds']:.1f} s ({gen['events'] / gen['seconds']:,.0f} ev/s), ts_recorded = the workload's "
                 f"simulated clock")  # fmt: skip
    notes.append(f"snapshots: ensure_snapshots(every={args.snapshot_every:,}) wrote {len(snap['written'])} in "
                 f"{snap['seconds']:.1f} s at {', '.join(f'{p:,}' for p in snap['written'])}; table "
                 f"{facts['snapshot_bytes'] / 2**20:,.0f} MB")  # fmt: skip

    # ------------------------------------------------------------ full replay beside the read references
    cfg = {"url": url, "schema": schemas["read"], "page_size": READ_PAGE_SIZE}  # replay's default page
    progress("read half: warm-up read (raw, not counted), then the full reads, each in a fresh process")
    warm = _one(ctx, workers, PATHS + "ReadPath", {**cfg, "kind": "raw"}, "run")
    runs: dict[str, dict[str, Any]] = {}
    for kind, _key, label in READS:
        progress(f"full read: {label}")
        runs[kind] = _one(ctx, workers, PATHS + "ReadPath", {**cfg, "kind": kind}, "run")
    for kind, out in runs.items():
        if out["events"] != stored or out["position"] != facts["max"]:
            raise SystemExit(f"count mismatch: the {kind} read saw {out['events']:,} events up to id {out['position']:,}; "
                             f"the table holds {stored:,} up to {facts['max']:,}")  # fmt: skip
    raw_eps = stored / runs["raw"]["seconds"]
    rep = runs["replay"]
    rows: dict[str, Result] = {}
    for kind, key, label in READS:
        out = runs[kind]
        r = rows[key] = Result(key, "full replay, ev/s", label, out["events"], out["seconds"])
        r.beside = f"{r.eps / raw_eps:.1%} of raw · peak RSS +{out['peak_growth_mb']:,.0f} MB"
    r = rows["replay.ledger"]
    r.extra = rep
    r.target = f"≥ {TARGET_REPLAY_EPS:,} ev/s  {verdict(r.eps >= TARGET_REPLAY_EPS)}"
    both = rows["replay.ledger_hash"] = Result("replay.ledger_hash", r.figure, "(a) ledger: replay(ledger) + "
                                               "state_hash(books)", rep["events"], rep["seconds"] + rep["hash_seconds"])  # fmt: skip
    both.beside = f"{both.eps / raw_eps:.1%} of raw · peak RSS +{rep['hash_peak_growth_mb']:,.0f} MB"
    results += [rows[k] for k in ("replay.ledger", "replay.ledger_hash", "replay.raw", "replay.es_json", "replay.es_msgspec")]
    overlapped = rep.get("read_wait_s") is not None  # pages read ahead in a thread while the fold runs
    read_in_fold = rep["read_wait_s"] if overlapped else rep["read_s"]
    fold_s = rep["seconds"] - read_in_fold - rep["decode_s"] - rep["gc_s"] - rep["evict_s"] - rep["revive_s"]
    method = rep.get("read_method", "select_notifications")
    read_text = (f"read (recorder.{method}, {rep['read_calls']} pages, in a reader thread) "
                 f"{rep['read_s']:.2f} s of which the fold waited {rep['read_wait_s']:.2f} s · decode "
                 f"(a page at a time) {rep['decode_s']:.2f} s" if overlapped else
                 f"read (recorder.{method}, {rep['read_calls']} pages) {rep['read_s']:.2f} s · "
                 f"decode (mapper.decode) {rep['decode_s']:.2f} s")  # fmt: skip
    evict = (f"Books.evict_closed {rep['evict_s']:.2f} s ({rep['evict_calls']} calls, {rep['closed_count']:,} orders "
             f"evicted) · revivals {rep['revive_s']:.2f} s ({rep['revive_reads']:,} stream reads) · ") if rep["evict_calls"] else ""
    notes.append(f"(a) replay split: {read_text} · {evict}fold (Books.apply_all + the loop) {fold_s:.2f} s · "
                 f"cyclic GC {rep['gc_s']:.2f} s ({'/'.join(map(str, rep['gc_collections']))} collections of gen 0/1/2) "
                 f"· then state_hash {rep['hash_seconds']:.2f} s; per event: read+decode "
                 f"{(read_in_fold + rep['decode_s']) / stored * 1e6:.1f} µs, fold {fold_s / stored * 1e6:.1f} µs, "
                 f"state_hash {rep['hash_seconds'] / max(rep['orders'], 1) * 1e6:.0f} µs per order held; the per-event decode "
                 f"timer adds ≈ {rep['wrapper_overhead_s']:.2f} s (calibrated), inside the replay's figure")  # fmt: skip
    curve = rep["curve"]
    marks = sorted({curve[min(len(curve) - 1, round(f * (len(curve) - 1)))] for f in (0.25, 0.5, 0.75, 1.0)})
    notes.append("(a) replay memory: RSS growth after " + ", ".join(f"{n:,} ev +{mb:,.0f} MB" for n, mb in marks) +
                 f"; peak: ru_maxrss after − RSS before +{rep['peak_growth_mb']:,.0f} MB, RSS sampled every 20 ms "
                 f"+{rep['sampled_peak_mb']:,.0f} MB (at {rep['sampled_peak_at']:,} ev); then state_hash(books) takes "
                 f"the peak to +{rep['hash_peak_growth_mb']:,.0f} MB. The books hold "
                 f"{rep['orders']:,} orders ({rep['open_orders']:,} open), {rep['positions']} positions, "
                 f"{rep['balances']} balances, {rep['reserved']:,} reservations" +
                 (": memory grows with every order seen, not only the open ones"
                  if rep["orders"] > 1.5 * rep["open_orders"] else ""))  # fmt: skip
    notes.append(f"verified: events folded = rows read by every reference = events stored = {stored:,}; "
                 f"state_hash {rep['state_hash']}; references' peak RSS: " + ", ".join(
                     f"{k} +{runs[k]['peak_growth_mb']:,.0f} MB" for k in ("raw", "eslog", "decode")) +
                 f"; warm-up raw read {warm['seconds']:.2f} s (not counted)")  # fmt: skip

    # ------------------------------------------------------------ profile
    if args.profile_events:
        until = min(args.profile_events, facts["max"])
        progress(f"profile: cProfile of replay(until_position={until:,}) and of state_hash")
        prof = _one(ctx, workers, "benchlib.profiling:ProfilePath",
                    {"url": url, "until": until, "dump": args.profile_read}, "run")  # fmt: skip
        tail += report(prof, rep["events"] / rep["seconds"])
        if args.profile_read:
            tail.append(f"  (pstats of both profiles in {args.profile_read})")

    # ------------------------------------------------------------ as-of
    rng = random.Random(args.seed * 1_000_003 + 11)
    times = [rng.randint(gen["first_ts"], gen["last_ts"]) for _ in range(args.asof_queries)]
    progress(f"as-of: position_at and state_at for {len(times)} random times across the day")
    asof = _one(ctx, workers, PATHS + "AsOfPath", {**cfg, "contiguous": facts["contiguous"]}, "run", times,
                args.asof_budget_s)  # fmt: skip
    if asof["mismatches"]:
        raise SystemExit("as-of mismatch:\n" + "\n".join(asof["mismatches"][:10]))
    n = len(asof["state_ns"])
    r = _asof_result("asof.state_at", "(a) state_at(ledger, ts_ns=T)", asof["state_ns"])
    r.extra = {k: v for k, v in asof.items() if not k.endswith("_ns")}
    p = Result("asof.position_at", "as-of query, ms", "(a) position_at(ledger, T) alone",
               len(asof["position_ns"]), sum(asof["position_ns"]) / 1e9, latency=latency_stats(asof["position_ns"]),
               count=f"{len(asof['position_ns']):,} queries")  # fmt: skip
    p.beside = f"mean {p.latency['mean_ms']:.2f} ms"  # type: ignore[index]
    results += [r, p]
    tails = asof["tails"]
    snap_s = asof["inner_snapshot_s"]
    inner_tail = r.seconds - asof["inner_position_s"] - snap_s
    notes.append(f"(a) as-of split (means over {n} queries): position_at {asof['inner_position_s'] / n * 1e3:.1f} ms · "
                 f"load_snapshot {snap_s / max(asof['snapshot_loads'], 1) * 1e3:.1f} ms ({asof['snapshot_loads']} loads) · "
                 f"tail fold {inner_tail / n * 1e3:.1f} ms over {sum(tails) / n:,.0f} events (max {max(tails):,}); "
                 f"T uniform over the day's ts_recorded (seeded); every answer checked: position = position_at(T), "
                 f"events folded = events stored up to it" + ("" if n == len(times) else
                                                                f"; budget {args.asof_budget_s:g} s reached: {n} of {len(times)}"))  # fmt: skip

    _history_asof(args, ctx, cfg, times, rows["replay.raw"], results, notes, workers)

    # ------------------------------------------------------------ live lag
    if args.lag_seconds > 0:
        _live_lag(args, admin, ctx, schemas, results, notes, workers)


def _history_asof(args: argparse.Namespace, ctx: Any, cfg: dict[str, Any], times: list[int], raw: Result,
                  results: list[Result], notes: list[str], workers: list[Worker]) -> None:  # fmt: skip
    """`project` over the whole history (the read tables and their history, from empty), then the same
    as-of times answered from that history."""
    progress("project: the read tables and their history, from empty to the head")
    proj = _one(ctx, workers, HISTORY_PATHS + "ProjectPath", {**cfg, "batch_size": PROJECT_BATCH}, "run")
    if proj["reached"] != proj["head"]:
        raise SystemExit(f"project stopped at {proj['reached']:,}, the head is {proj['head']:,}")
    pr = Result("project.catch_up", "project, ev/s", f"(a) project(ledger): rows + history, {PROJECT_BATCH:,} ev a batch",
                proj["events"], proj["seconds"])  # fmt: skip
    pr.beside = f"{pr.eps / raw.eps:.1%} of raw · peak RSS +{proj['peak_growth_mb']:,.0f} MB"
    results.append(pr)
    sizes = proj["history"]
    notes.append(f"(a) project: {proj['batches']:,} batches, CPU {proj['cpu_s']:.1f} s; history rows: " + ", ".join(
        f"{name.removeprefix('ledger_read_').removesuffix('_history')} {count:,} ({size / 2**20:,.0f} MB)"
        for name, (count, size) in sizes.items()))  # fmt: skip
    progress(f"as-of from the read tables' history for the same {len(times)} times")
    hist = _one(ctx, workers, HISTORY_PATHS + "HistoryAsOfPath", cfg, "run", times, args.asof_check)
    if hist["mismatches"]:
        raise SystemExit("as-of (history) mismatch:\n" + "\n".join(hist["mismatches"][:10]))
    n = len(hist["query_ns"])
    results.append(_asof_result("asof.history", "(a) position_at + positions/balances/accounts_at(p), history",
                                hist["query_ns"]))  # fmt: skip
    pos = latency_stats(hist["position_ns"])
    notes.append(f"(a) as-of from the history: every account's positions, balances and account state, "
                 f"{hist['rows'] / max(n, 1):,.1f} rows a query; position_at p50 {pos['p50_ms']:.2f} · p99 "
                 f"{pos['p99_ms']:.2f} ms of it; the first {hist['checked']} answers equal state_at's books")  # fmt: skip
    progress(f"as-of one order, from its stream, for the same {len(times)} times")
    one = _one(ctx, workers, HISTORY_PATHS + "OrderAsOfPath", cfg, "run", times, args.seed, args.asof_check)
    if one["mismatches"]:
        raise SystemExit("as-of (one order) mismatch:\n" + "\n".join(one["mismatches"][:10]))
    n = len(one["query_ns"])
    results.append(_asof_result("asof.order", "(a) position_at + order_at(one order), its stream", one["query_ns"]))
    notes.append(f"(a) as-of one order (`ledger query orders --order`): drawn (seeded) among the orders created by T "
                 f"(of the {one['orders']:,} in the read tables), {one['found']:,} of {n:,} existing at the position; "
                 f"{one['compared']} answers equal the order in state_at's books (the first {args.asof_check} times, where "
                 "the books hold it), and as of the head every drawn order equals its read-tables row")  # fmt: skip


def _asof_result(key: str, path: str, query_ns: list[int]) -> Result:
    """An as-of latency figure: p50/p99/max over the queries, beside their mean, against the p99 target."""
    n = len(query_ns)
    r = Result(key, "as-of query, ms", path, n, sum(query_ns) / 1e9, latency=latency_stats(query_ns),
               count=f"{n:,} queries")  # fmt: skip
    r.beside = f"mean {r.latency['mean_ms']:.2f} ms"  # type: ignore[index]
    r.target = f"p99 ≤ {TARGET_ASOF_P99_MS:g} ms  {verdict(r.latency['p99_ms'] <= TARGET_ASOF_P99_MS)}"  # type: ignore[index]
    return r


def _live_lag(args: argparse.Namespace, admin: psycopg.Connection, ctx: Any, schemas: dict[str, str],
              results: list[Result], notes: list[str], workers: list[Worker]) -> None:  # fmt: skip
    schema = schemas["lag"]
    reset_schema(admin, schema)
    url = with_schema(args.store, schema)
    progress(f"live lag: a {args.lag_history:,}-event history into schema {schema}")
    _one(ctx, workers, PATHS + "GeneratePath", {"url": url, "seed": args.seed + 1, "events": args.lag_history,
                                                "batch_size": args.batch_size, "label": "lag history"}, "generate")  # fmt: skip
    writers = []
    for w in range(args.lag_writers):
        writers.append(Worker(ctx, "benchlib.lag:WriterPath", {"url": url, "seed": args.seed + 1, "history": args.lag_history,
                                                               "index": w, "writers": args.lag_writers, "rate": args.lag_rate}))  # fmt: skip
        workers.append(writers[-1])
    warmed = sum(w.call("warm") for w in writers)
    projector = Worker(ctx, "benchlib.lag:ProjectorPath", {"url": url})
    workers.append(projector)
    ready = projector.call("start")
    counts = lag_plan(args.lag_rate, args.lag_seconds, args.lag_writers)
    t0, answers = run_writers(writers, counts)
    head = admin.execute(sql.SQL("SELECT max(notification_id) FROM {}.ledger_events").format(sql.Identifier(schema))).fetchone()[0]  # type: ignore[index]  # fmt: skip
    done = projector.call("finish", head)
    for w in (*writers, projector):
        w.stop()
    live = admin.execute(sql.SQL("SELECT count(*) FROM {}.ledger_events WHERE notification_id > %s").format(
        sql.Identifier(schema)), (ready,)).fetchone()[0]  # type: ignore[index]  # fmt: skip
    written = sum(a["events"] for a in answers)
    if not (written == live == done["events"] == len(done["lags_ns"])) or not done["reached"]:
        raise SystemExit(f"live lag count mismatch: writers appended {written:,}, the table has {live:,} after the "
                         f"projector's start, the projector folded {done['events']:,} (reached head: {done['reached']})")
    span_s = (max(a["end_ns"] for a in answers) - t0) / 1e9
    lag = Result("lag.project", "live lag, ms", f"(a) project(follow=True), {written / span_s:,.0f} of {args.lag_rate:,} ev/s",
                 written, span_s, latency=latency_stats(done["lags_ns"]))  # fmt: skip
    lag.beside = f"mean {lag.latency['mean_ms']:.2f} ms"  # type: ignore[index]
    lag.extra = {"batches": done["batches"], "projector_cpu_s": done["cpu_s"], "achieved_events_per_s": written / span_s}
    lag.target = f"p99 ≤ {TARGET_LAG_P99_MS:g} ms  {verdict(lag.latency['p99_ms'] <= TARGET_LAG_P99_MS)}"  # type: ignore[index]
    appends = [x for a in answers for x in a["append_ns"]]
    w = Result("lag.writers", "live lag, ms", "    writers' record_fill() (part of the lag)",
               len(appends), span_s, latency=latency_stats(appends))  # fmt: skip
    w.beside = f"mean {w.latency['mean_ms']:.2f} ms"  # type: ignore[index]
    results += [lag, w]
    late = sorted(x for a in answers for x in a["late_ns"])
    notes.append(f"(a) live lag: {written:,} single events by {args.lag_writers} writer processes in {span_s:.1f} s "
                 f"({written / span_s:,.0f} ev/s achieved, {args.lag_rate:,} scheduled; start behind schedule p99 "
                 f"{late[int(0.99 * (len(late) - 1))] / 1e6:.1f} ms, max {late[-1] / 1e6:.1f} ms); the projector "
                 f"(LISTEN/NOTIFY + 1 s poll, its own process) committed them in {done['batches']:,} batches "
                 f"({written / max(done['batches'], 1):.1f} events per batch); schema {schema}: {args.lag_history:,}-event "
                 f"history + {warmed} warm-up fills, caught up to {ready:,} before the writers started")  # fmt: skip
    writers_cpu = sum(a["cpu_s"] for a in answers)
    notes.append(f"    CPU over the {span_s:.1f} s: projector process {done['cpu_s']:.1f} s ({done['cpu_s'] / span_s:.0%} of a "
                 f"core; {done['cpu_s'] / max(done['batches'], 1) * 1e3:.1f} ms per batch, "
                 f"{done['cpu_s'] / written * 1e3:.2f} ms per event); writers {writers_cpu:.1f} s "
                 f"({writers_cpu / written * 1e3:.2f} ms per append); the machine has {os.cpu_count()} cores")  # fmt: skip
