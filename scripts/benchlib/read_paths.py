"""The read half's paths, each in a fresh process of its own (its own heap: memory and the cyclic GC's work
depend on it): generating the history, snapshots, the full-read references, the replay, the as-of queries.

Every path reads the same store, written once by `GeneratePath`: the day's commands through the ledger's
batch API with `ts_recorded` taken from the workload's simulated clock (the command's own time), so the
store -- ids, stamps, snapshot positions, state hash -- is the same on every run with the same seed.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

import psycopg
from psycopg import sql

from benchlib.common import GcTimer, Timed, conninfo, maxrss_mb, progress, rss_mb
from benchlib.workload import METHODS, SETUP_TS_NS, TradingDay, cmd_ts, ledger_setup

PROGRESS_EVERY_S = 5.0


class _Progress:
    """Progress lines on stderr, at most every PROGRESS_EVERY_S."""

    def __init__(self, what: str, total: int, unit: str = "events", rate_unit: str = "ev/s"):
        self.what, self.total, self.unit, self.rate_unit = what, total, unit, rate_unit
        self.t0 = self.last = time.perf_counter()
        self.shown = -1

    def __call__(self, done: int, *, force: bool = False) -> None:
        now = time.perf_counter()
        if done == self.shown or (not force and now - self.last < PROGRESS_EVERY_S):
            return
        self.last, self.shown = now, done
        rate = done / (now - self.t0) if now > self.t0 else 0.0
        eta = f", about {(self.total - done) / rate:.0f} s to go" if rate and done < self.total else ""
        shown = f"{rate:,.0f}" if rate >= 100 else f"{rate:.2f}"
        progress(f"{self.what}: {done:,} / {self.total:,} {self.unit}, {shown} {self.rate_unit}{eta}")


class _Baseline:
    """What a read path is measured against: its RSS once set up (after a full collection)."""

    def __init__(self) -> None:
        gc.collect()
        self.rss = rss_mb()

    def memory(self) -> dict[str, float]:
        """`peak_growth_mb`: getrusage ru_maxrss after the run minus the RSS before it (the peak resident set
        the run reached above where it started); `rss_growth_mb`: the RSS now minus before."""
        return {"peak_growth_mb": maxrss_mb() - self.rss, "rss_growth_mb": rss_mb() - self.rss}


def _open_ledger(url: str, **kw: Any) -> Any:
    from kernel.ledger import Ledger

    return Ledger.open(url, **kw)


# ==================================================================================== the store
class GeneratePath:
    """Records `events` events of the generated day through `with ledger.batch()`, `ts_recorded` on the
    workload's clock."""

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.now = SETUP_TS_NS
        self.ledger = _open_ledger(cfg["url"], clock=lambda: self.now)

    def generate(self) -> dict[str, Any]:
        from kernel.ledger import Batch

        cfg, ledger = self.cfg, self.ledger
        methods = {name: getattr(Batch, name) for name in METHODS}
        day = TradingDay(cfg["seed"], cfg["events"])
        show = _Progress(cfg.get("label", "generate"), cfg["events"])
        t0 = time.perf_counter()
        ledger_setup(ledger)
        recorded = 0
        for chunk in day.chunks(cfg["batch_size"]):
            with ledger.batch() as b:
                for c in chunk:
                    self.now = cmd_ts(c)
                    recorded += len(methods[c.method](b, *c.args, **c.kwargs))
            show(recorded)
        seconds = time.perf_counter() - t0
        show(recorded, force=True)
        return {"events": recorded, "expected_events": day.events, "commands": day.commands, "orders": day.orders,
                "seconds": seconds, "first_ts": SETUP_TS_NS, "last_ts": day.last_ts,
                "by_method": day.by_method, "head": ledger.head()}  # fmt: skip

    def close(self) -> None:
        self.ledger.close()


class SnapshotPath:
    """`ensure_snapshots(ledger, every=...)` over the whole store (progress from its page reads)."""

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.ledger = _open_ledger(cfg["url"])

    def ensure(self) -> dict[str, Any]:
        from projections.replay import ensure_snapshots

        show = _Progress(f"ensure_snapshots(every={self.cfg['every']:,})", self.cfg["total"])
        rows = [0]

        def seen(page: Any) -> None:
            rows[0] += len(page)
            show(rows[0])

        Timed(self.ledger.recorder, "select_notifications", after=seen)
        t0 = time.perf_counter()
        written = ensure_snapshots(self.ledger, every=self.cfg["every"])
        return {"seconds": time.perf_counter() - t0, "written": written}

    def close(self) -> None:
        self.ledger.close()


# ==================================================================================== full reads
class ReadPath:
    """One full read of the log, `kind`:
    - "raw": psycopg binary, server-side named cursor, fetchmany(page) (the practical read limit);
    - "eslog": eventsourcing's notification log (`LocalNotificationLog.select`, pages of `page`) and its
      default transcoder's decode (`JSONTranscoder.decode`, stdlib json) of every payload;
    - "decode": `recorder.select_notifications` pages and the ledger's msgspec decode (`mapper.decode`, typed
      events): replay's read + decode without the fold;
    - "replay": `projections.replay.replay(ledger)` (all three projections), then `state_hash(books)`."""

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.page = cfg["page_size"]
        self.conn: Any = None
        self.ledger: Any = None
        if cfg["kind"] == "raw":
            self.conn = psycopg.connect(conninfo(cfg["url"]))
            self.table = sql.Identifier(cfg["schema"], "ledger_events")
        else:
            # imported before the baseline, like the ledger's modules
            import projections  # noqa: F401
            from projections.hashing import state_hash  # noqa: F401

            self.ledger = _open_ledger(cfg["url"])
            self.ledger.head()  # the pool's connection is open before the baseline
        self.base = _Baseline()

    def run(self) -> dict[str, Any]:
        out = getattr(self, "_" + self.cfg["kind"])()
        for key, value in self.base.memory().items():
            out.setdefault(key, value)  # the replay measures its own, before state_hash
        return out

    def _raw(self) -> dict[str, Any]:
        query = sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
                        "ORDER BY notification_id").format(self.table)  # fmt: skip
        n = last = 0
        t0 = time.perf_counter_ns()
        with self.conn.transaction(), self.conn.cursor(name="bench_read", binary=True) as cur:
            cur.execute(query)
            while rows := cur.fetchmany(self.page):
                n += len(rows)
                last = rows[-1][0]
        return {"events": n, "seconds": (time.perf_counter_ns() - t0) / 1e9, "position": last}

    def _eslog(self) -> dict[str, Any]:
        from eventsourcing.application import LocalNotificationLog
        from eventsourcing.persistence import JSONTranscoder

        log = LocalNotificationLog(self.ledger.recorder, section_size=self.page)
        decode = JSONTranscoder().decode
        return self._paged(log.select, lambda notification: decode(notification.state))

    def _decode(self) -> dict[str, Any]:
        return self._paged(self.ledger.recorder.select_notifications, self.ledger.mapper.decode)

    def _paged(self, select: Any, decode: Any) -> dict[str, Any]:
        """Read the whole log in pages with `select(after, limit, inclusive_of_start=False)`, decoding each."""
        n = after = 0
        t0 = time.perf_counter_ns()
        while True:
            page = select(after, self.page, inclusive_of_start=False)
            for notification in page:
                decode(notification)
            n += len(page)
            if page:
                after = page[-1].id
            if len(page) < self.page:
                break
        return {"events": n, "seconds": (time.perf_counter_ns() - t0) / 1e9, "position": after}

    def _replay(self) -> dict[str, Any]:
        """The replay, timed whole; its split from bench-side wrappers: the recorder's page read (`select_page`,
        else `select_rows`, else `select_notifications`) per page (also the RSS after each page; where pages
        are read ahead in a thread, also the time the fold waited for them), `mapper.decode` per event or
        `_decoded` per page (a wrapper's overhead calibrated), the cyclic GC via gc.callbacks, and where the
        code has them `Books.evict_closed` (per page) and the stream reads that revive an evicted order
        (`recorder.select_events`); the fold is the rest."""
        from projections.hashing import state_hash
        from projections.replay import replay
        from projections.state import Books

        ledger = self.ledger
        curve: list[tuple[int, float]] = []
        folded = [0]

        def page_read(page: Any) -> None:
            curve.append((folded[0], rss_mb() - self.base.rss))  # the books before this page is folded
            folded[0] += len(page[0]) if isinstance(page, tuple) else len(page)  # select_page: (ids, topics, states)

        import projections.replay as rp

        overhead_ns = _wrapper_overhead_ns()
        # the fold's page read (`projections.pages`): aggregated pages or plain rows where the recorder has them
        read_method = next(m for m in ("select_page", "select_rows", "select_notifications")
                           if hasattr(ledger.recorder, m))  # fmt: skip
        reads = Timed(ledger.recorder, read_method, after=page_read)
        decodes = Timed(ledger.mapper, "decode")
        paged = hasattr(rp, "_pages")  # pages read ahead in a thread, decoded a page at a time
        page_decodes = Timed(rp, "_decoded") if paged else None
        waits = _TimedPages(rp) if paged else None
        revivals = Timed(ledger.recorder, "select_events")
        evictions = Timed(Books, "evict_closed") if hasattr(Books, "evict_closed") else None
        gc_timer = GcTimer()
        sampler = _RssSampler(lambda: decodes.calls, self.base.rss)
        gc_timer.active = True
        t0 = time.perf_counter_ns()
        replayed = replay(ledger)
        t1 = time.perf_counter_ns()
        gc_timer.active = False
        sampler.stop()
        memory = self.base.memory()
        curve.append((replayed.books.events_applied, rss_mb() - self.base.rss))
        books = replayed.books
        t2 = time.perf_counter_ns()
        digest = state_hash(books)
        t3 = time.perf_counter_ns()
        with_hash = self.base.memory()
        open_orders = sum(len(v) for v in books.open_orders.values())
        return {
            "events": books.events_applied, "seconds": (t1 - t0) / 1e9, "position": replayed.position,
            "hash_seconds": (t3 - t2) / 1e9, "state_hash": digest, "curve": curve, **memory,
            "sampled_peak_mb": sampler.peak, "sampled_peak_at": sampler.peak_at, "samples": sampler.samples,
            "hash_peak_growth_mb": with_hash["peak_growth_mb"],
            "read_s": reads.ns / 1e9, "read_calls": reads.calls, "read_method": read_method,
            "decode_s": (decodes.ns + (page_decodes.ns if page_decodes else 0)) / 1e9,
            "decode_calls": decodes.calls, "page_decodes": page_decodes.calls if page_decodes else 0,
            "read_wait_s": waits.ns / 1e9 if waits else None, "gc_s": gc_timer.ns / 1e9,
            "gc_collections": gc_timer.collections, "wrapper_overhead_s": overhead_ns * decodes.calls / 1e9,
            "revive_reads": revivals.calls, "revive_s": revivals.ns / 1e9,
            "evict_calls": evictions.calls if evictions else 0, "evict_s": evictions.ns / 1e9 if evictions else 0.0,
            "closed_count": getattr(books, "closed_count", 0),
            "orders": len(books.orders), "open_orders": open_orders, "positions": len(books.position_books),
            "balances": len(books.balance_books), "reserved": len(books.reserved),
        }  # fmt: skip

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.ledger is not None:
            self.ledger.close()


class _TimedPages:
    """Wraps `projections.replay._pages` (a generator of pages read ahead in a thread): the time the fold
    waits for each page, i.e. the read that the fold did not overlap."""

    def __init__(self, module: Any):
        self.ns = 0
        inner = module._pages

        def pages(*a: Any, **kw: Any) -> Any:
            it = inner(*a, **kw)
            while True:
                t = time.perf_counter_ns()
                try:
                    page = next(it)
                except StopIteration:
                    self.ns += time.perf_counter_ns() - t
                    return
                self.ns += time.perf_counter_ns() - t
                yield page

        module._pages = pages


class _RssSampler:
    """A thread reading the RSS every `interval_s` while the replay runs: its peak above `base` (MB) and how
    many events were decoded then (ru_maxrss says how high, not when)."""

    def __init__(self, progress: Any, base: float, interval_s: float = 0.02):
        self.progress, self.base, self.interval_s = progress, base, interval_s
        self.peak, self.peak_at, self.samples = 0.0, 0, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(self.interval_s):
            mb = rss_mb() - self.base
            self.samples += 1
            if mb > self.peak:
                self.peak, self.peak_at = mb, self.progress()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def _wrapper_overhead_ns(calls: int = 200_000) -> float:
    """What a `Timed` wrapper adds per call, ns (calibrated on a no-op method)."""

    class Probe:
        def f(self, x: Any) -> Any:
            return x

    probe, bare = Probe(), Probe()
    Timed(probe, "f")
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter_ns()
        for i in range(calls):
            bare.f(i)
        t1 = time.perf_counter_ns()
        for i in range(calls):
            probe.f(i)
        t2 = time.perf_counter_ns()
        best = min(best, ((t2 - t1) - (t1 - t0)) / calls)
    return max(best, 0.0)


# ==================================================================================== as-of
class AsOfPath:
    """`position_at(ledger, T)` and `state_at(ledger, ts_ns=T)` for the given times, each call timed; the
    state_at time split by bench-side wrappers around the two functions it calls by module name
    (`projections.replay.position_at`, `.load_snapshot`), the tail fold being the rest."""

    def __init__(self, cfg: dict[str, Any]):
        import projections.replay  # noqa: F401

        self.cfg = cfg
        self.ledger = _open_ledger(cfg["url"])
        self.ledger.head()
        self.check = psycopg.connect(conninfo(cfg["url"]), autocommit=True)
        self.table = sql.Identifier(cfg["schema"], "ledger_events")
        gc.collect()

    def _expected(self, position: int) -> int:
        """Events with id <= position (from the table; outside the timed calls)."""
        if self.cfg["contiguous"]:
            return position
        query = sql.SQL("SELECT count(*) FROM {} WHERE notification_id <= %s").format(self.table)
        return self.check.execute(query, (position,)).fetchone()[0]  # type: ignore[index]

    def run(self, times: list[int], budget_s: float) -> dict[str, Any]:
        import projections.replay as rp

        ledger = self.ledger
        pos_ns: list[int] = []
        positions: list[int] = []
        for ts in times:
            t0 = time.perf_counter_ns()
            positions.append(rp.position_at(ledger, ts))
            pos_ns.append(time.perf_counter_ns() - t0)
        starts: list[int] = []  # the position of the snapshot each state_at started from (0: none)
        inner_pos = Timed(rp, "position_at")
        inner_snap = Timed(rp, "load_snapshot", after=lambda s: starts.append(s.position if s else 0))
        show = _Progress("as-of state_at", len(times), "queries", "queries/s")
        state_ns: list[int] = []
        tails: list[int] = []
        mismatches: list[str] = []
        started = time.perf_counter()
        for k, ts in enumerate(times):
            if budget_s and time.perf_counter() - started > budget_s:
                break
            loads = len(starts)
            t0 = time.perf_counter_ns()
            got = rp.state_at(ledger, ts_ns=ts)
            state_ns.append(time.perf_counter_ns() - t0)
            expected = self._expected(positions[k])
            if got.position != positions[k] or got.books.events_applied != expected:
                mismatches.append(f"T={ts}: position {got.position} (position_at {positions[k]}), folded "
                                  f"{got.books.events_applied} events, the table holds {expected} up to it")  # fmt: skip
            start = starts[-1] if len(starts) > loads else 0  # position 0 loads no snapshot
            tails.append(got.books.events_applied - (self._expected(start) if start else 0))
            del got
            show(k + 1)
        done = len(state_ns)
        return {"position_ns": pos_ns, "state_ns": state_ns, "positions": positions[:done], "tails": tails,
                "starts": starts, "inner_position_s": inner_pos.ns / 1e9, "inner_snapshot_s": inner_snap.ns / 1e9,
                "snapshot_loads": inner_snap.calls, "mismatches": mismatches}  # fmt: skip

    def close(self) -> None:
        self.check.close()
        self.ledger.close()
