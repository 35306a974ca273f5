"""What every part of the benchmark shares: URLs and schemas, percentiles, results, bench-side timers, memory
readings, and the worker processes each measured path runs in."""

from __future__ import annotations

import gc
import importlib
import math
import os
import resource
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL_ENV = "LEDGER_BENCH_DATABASE_URL"


# ==================================================================================== helpers
def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"] + [("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def conninfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", query=""))


def reset_schema(admin: psycopg.Connection, schema: str, *, create: bool = True) -> None:
    admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    if create:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency_stats(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(x / 1e6 for x in samples_ns)
    return {"n": len(s), "p50_ms": percentile(s, 0.50), "p99_ms": percentile(s, 0.99), "max_ms": s[-1],
            "mean_ms": sum(s) / len(s)}  # fmt: skip


def fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def progress(message: str) -> None:
    """A progress line on stderr (the measured output goes to stdout)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass
class Result:
    """One row of a table. `beside` (the comparison with the row's reference) and `target` (PASS/FAIL) are
    filled in by the half that measured it."""

    key: str
    figure: str
    path: str
    events: int = 0
    seconds: float = 0.0
    commands: int | None = None
    latency: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    beside: str = ""
    target: str = ""
    count: str = ""  # overrides the "N ev / M cmd" count column
    unit: str = "ev"  # what `events` counts: "ev" (events) or "msg" (exchange messages)

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


class Timed:
    """Wraps an instance's method to add up its calls and time (bench-side instrumentation only).
    `after(result)`, if given, runs after each call, outside the time counted."""

    def __init__(self, obj: Any, name: str, after: Callable[[Any], None] | None = None):
        self.calls = 0
        self.ns = 0
        inner = getattr(obj, name)

        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter_ns()
            try:
                result = inner(*a, **kw)
            finally:
                self.ns += time.perf_counter_ns() - t
                self.calls += 1
            if after is not None:
                after(result)
            return result

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


# ==================================================================================== memory
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """The process's resident set now, MB (/proc/self/statm)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return float("nan")


def maxrss_mb() -> float:
    """The process's peak resident set so far (getrusage ru_maxrss, KB on Linux), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ==================================================================================== machine
def git_revision(paths: Sequence[str] = ("kernel", "adapters", "projections")) -> str:
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        rev = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--", *paths],
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (f" + uncommitted changes in {', '.join(p + '/' for p in paths)}" if dirty else "")


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# ==================================================================================== worker processes
def worker_main(role: str, cfg: dict[str, Any], conn: Any) -> None:
    """A path in its own process: `role` is "module:Class"; answers ("method", *args) with ("ok", value)
    or ("error", traceback)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # eventsourcing 9.5: save() is deprecated
    path: Any = None
    try:
        module, _, name = role.partition(":")
        path = getattr(importlib.import_module(module), name)(cfg)
        conn.send(("ok", None))
        while True:
            method, *args = conn.recv()
            if method == "stop":
                break
            conn.send(("ok", getattr(path, method)(*args)))
    except BaseException:  # noqa: BLE001 - reported to the coordinator
        try:
            conn.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        if path is not None:
            try:
                path.close()
            except Exception:  # noqa: BLE001, S110
                pass


class Worker:
    """A spawned process running one path; `call` runs one of its methods and waits for the answer,
    `send` + `answer` let several workers run at once."""

    def __init__(self, ctx: Any, role: str, cfg: dict[str, Any]):
        self.role = role
        self.conn, child = ctx.Pipe()
        name = role.rpartition(":")[2]
        self.process = ctx.Process(target=worker_main, args=(role, cfg, child), name=f"bench-{name}", daemon=True)
        self.process.start()
        child.close()
        self.answer()

    def answer(self) -> Any:
        try:
            status, value = self.conn.recv()
        except EOFError:
            raise RuntimeError(f"the {self.role} worker died (exit code {self.process.exitcode})") from None
        if status == "error":
            raise RuntimeError(f"the {self.role} worker failed:\n{value}")
        return value

    def send(self, name: str, *args: Any) -> None:
        self.conn.send((name, *args))

    def call(self, name: str, *args: Any) -> Any:
        self.send(name, *args)
        return self.answer()

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
