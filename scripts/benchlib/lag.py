"""Live lag of `project(..., follow=True)` on PostgreSQL: writer processes append single durable events
(`ledger.record_fill`) at a fixed total rate while the projector follows in a process of its own; the lag
of each event is `committed_ns - ts_recorded` from `on_batch` (the read tables hold it from `committed_ns`).

The store is a schema of its own: a short generated history (its open orders take the live fills), then
each writer touches its orders once (a warm cache, like a live service), then the projector starts and
catches up, and only then the writers start, on an open-loop schedule (event k of writer w is due at
t0 + (k * writers + w) / rate; a writer that falls behind appends at once until it is back on time)."""

from __future__ import annotations

import threading
import time
from typing import Any

from benchlib.common import progress
from benchlib.workload import ACCOUNT, TradingDay, live_fills

READY_TIMEOUT_S = 600.0
FINISH_TIMEOUT_S = 120.0


class WriterPath:
    """Writer `index` of `writers`: its share of the history's open orders, one fill at a time."""

    def __init__(self, cfg: dict[str, Any]):
        from kernel.ledger import Ledger

        self.cfg = cfg
        self.ledger = Ledger.open(cfg["url"])  # the wall clock: lag is measured against it
        day = TradingDay(cfg["seed"], cfg["history"])
        for _ in day.chunks(5000):
            pass
        mine = day.open_orders()[cfg["index"] :: cfg["writers"]]
        if not mine:
            raise RuntimeError("no open orders for this writer: raise --lag-history")
        self.orders = mine
        self.ts0 = day.last_ts + 10**9

    def warm(self) -> int:
        """One fill per order of this writer, before the projector starts (its cache is then warm)."""
        for intent_id, kwargs in live_fills(self.orders, len(self.orders), tag=f"warm{self.cfg['index']}", ts0=self.ts0):
            self.ledger.record_fill(ACCOUNT, intent_id, **kwargs)
        return len(self.orders)

    def run(self, t0_ns: int, count: int) -> dict[str, Any]:
        cfg = self.cfg
        period_ns = 10**9 * cfg["writers"] / cfg["rate"]
        offset_ns = 10**9 * cfg["index"] / cfg["rate"]
        fills = live_fills(self.orders, count, tag=f"live{cfg['index']}", ts0=self.ts0 + 10**6)
        append_ns: list[int] = []
        late_ns: list[int] = []
        cpu0 = time.process_time()
        for k, (intent_id, kwargs) in enumerate(fills):
            due = t0_ns + offset_ns + k * period_ns
            wait = (due - time.time_ns()) / 1e9
            if wait > 0:
                time.sleep(wait)
            late_ns.append(max(0, int(time.time_ns() - due)))
            t = time.perf_counter_ns()
            self.ledger.record_fill(ACCOUNT, intent_id, **kwargs)
            append_ns.append(time.perf_counter_ns() - t)
        return {"events": len(fills), "append_ns": append_ns, "late_ns": late_ns, "end_ns": time.time_ns(),
                "cpu_s": time.process_time() - cpu0}  # fmt: skip

    def close(self) -> None:
        self.ledger.close()


class ProjectorPath:
    """`project(url, follow=True)` in a thread of this process, stopped by `finish`."""

    def __init__(self, cfg: dict[str, Any]):
        from adapters.projector import Stop

        self.cfg = cfg
        self.stop = Stop()
        self.cond = threading.Condition()
        self.ready_at: int | None = None  # the position the first catch-up reached
        self.target = 0  # the head when the projector had rebuilt its books
        self.position = 0
        self.lags: list[int] = []
        self.batches = 0
        self.live_events = 0
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        self.cpu0 = 0.0

    def _on_start(self, position: int, head: int) -> None:
        with self.cond:
            self.target, self.position = head, position
            if position >= head:
                self.ready_at = position
            self.cond.notify_all()

    def _on_batch(self, b: Any) -> None:
        with self.cond:
            if self.ready_at is not None:
                self.lags.extend(b.committed_ns - ts for ts in b.recorded_ns)
                self.batches += 1
                self.live_events += b.events
            elif b.position >= self.target:
                self.ready_at = b.position
            self.position = b.position
            self.cond.notify_all()

    def _run(self) -> None:
        from adapters.projector import project

        try:
            project(self.cfg["url"], follow=True, on_batch=self._on_batch, on_start=self._on_start, stop=self.stop,
                    handle_signals=False)  # fmt: skip
        except BaseException as e:  # noqa: BLE001 - reported by start / finish
            self.error = e
        finally:
            with self.cond:
                self.cond.notify_all()

    def start(self) -> int:
        """Start following; returns once the first catch-up is committed (the position it reached)."""
        self.thread = threading.Thread(target=self._run, name="projector", daemon=True)
        self.thread.start()
        with self.cond:
            self.cond.wait_for(lambda: self.ready_at is not None or self.error is not None or
                               not self.thread.is_alive(), READY_TIMEOUT_S)  # type: ignore[union-attr]  # fmt: skip
        if self.error is not None or self.ready_at is None:
            raise RuntimeError(f"the projector did not catch up: {self.error!r}")
        self.cpu0 = time.process_time()
        return self.ready_at

    def finish(self, head: int) -> dict[str, Any]:
        """Wait until the tables include `head`, stop, and return the lags (ns) of the live events."""
        with self.cond:
            reached = self.cond.wait_for(lambda: self.position >= head or self.error is not None, FINISH_TIMEOUT_S)
        cpu_s = time.process_time() - self.cpu0
        self.stop.set("bench done")
        if self.thread is not None:
            self.thread.join(30)
        if self.error is not None:
            raise RuntimeError(f"the projector failed: {self.error!r}")
        return {"lags_ns": self.lags, "batches": self.batches, "events": self.live_events, "position": self.position,
                "reached": bool(reached), "cpu_s": cpu_s}  # fmt: skip

    def close(self) -> None:
        self.stop.set("closing")
        if self.thread is not None:
            self.thread.join(10)
        self.stop.close()


def lag_plan(rate: int, seconds: float, writers: int) -> list[int]:
    """Events per writer so that the total is rate * seconds, shared out evenly."""
    total = int(rate * seconds)
    return [total // writers + (1 if w < total % writers else 0) for w in range(writers)]


def run_writers(writers: list[Any], counts: list[int], lead_s: float = 0.5) -> tuple[int, list[dict[str, Any]]]:
    """Start every writer on the same schedule (t0 = now + lead_s); returns t0 and their answers."""
    t0 = time.time_ns() + int(lead_s * 1e9)
    progress(f"live lag: {len(writers)} writers appending {sum(counts):,} single events")
    for w, n in zip(writers, counts):
        w.send("run", t0, n)
    return t0, [w.answer() for w in writers]
