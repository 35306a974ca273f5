"""Where the replay's time goes: cProfile of `replay` (the first `--profile-events` events of the store) and
of `state_hash` of the books it folded, each in a fresh process, summarised by module and by function.

Built-in functions (dict.get, isinstance, msgspec's decoder, psycopg's C loaders...) are charged to the
module of the Python function that called them, in proportion to the time cProfile saw per caller, so the
module ranking adds up to the whole profile."""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from collections import defaultdict
from typing import Any

from benchlib.common import fmt_int

Func = tuple[str, int, str]

# module label -> what part of the replay it is
CATEGORIES = (
    ("read", ("eventsourcing", "psycopg", "psycopg_pool", "kernel/ledger.py")),
    ("decode", ("kernel/mapper.py", "kernel/events.py", "msgspec")),
    ("replay loop", ("projections/replay.py",)),
    ("hash+models", ("projections/hashing.py", "pydantic", "pydantic_core", "kernel/exchange/models.py",
                    "kernel/schema/order_spec.py", "projections/orders.py")),
    ("fold", ("projections/", "kernel/")),
)


def module_of(func: Func) -> str:
    path = func[0]
    if path == "~" or path.startswith("<"):
        return "builtins"
    parts = path.replace(os.sep, "/").split("/")
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    for anchor in ("projections", "kernel", "adapters", "benchlib"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[i:])
    return parts[-1]


def category(module: str) -> str:
    for name, prefixes in CATEGORIES:
        if any(module == p or module.startswith(p) for p in prefixes):
            return name
    return "other"


def _name(func: Func) -> str:
    if func[0] == "~":
        return func[2]
    return f"{module_of(func)}:{func[1]}({func[2]})"


def summarize(stats: pstats.Stats, top: int = 20) -> dict[str, Any]:
    raw: dict[Func, tuple] = stats.stats  # type: ignore[attr-defined]
    by_module: dict[str, float] = defaultdict(float)

    def owner(func: Func, depth: int = 0) -> list[tuple[str, float]]:
        """The modules a function's own time is charged to, with their shares (builtins -> callers)."""
        if module_of(func) != "builtins" or depth > 3:
            return [(module_of(func), 1.0)]
        callers = raw[func][4]
        total = sum(v[2] for v in callers.values())
        if not callers:
            return [("builtins", 1.0)]
        out: list[tuple[str, float]] = []
        for caller, v in callers.items():
            share = v[2] / total if total else 1 / len(callers)
            out += [(m, share * s) for m, s in owner(caller, depth + 1)]
        return out

    for func, (_cc, _nc, tt, _ct, _callers) in raw.items():
        for module, share in owner(func):
            by_module[module] += tt * share
    total = sum(v[2] for v in raw.values())
    modules = sorted(by_module.items(), key=lambda kv: -kv[1])
    own = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    inner = [(f, v) for f, v in raw.items() if v[3] < 0.9 * total and module_of(f) != "builtins"]
    cumulative = sorted(inner, key=lambda kv: -kv[1][3])[:top]
    categories: dict[str, float] = defaultdict(float)
    for module, s in modules:
        categories[category(module)] += s
    return {
        "total_s": total,
        "categories": sorted(categories.items(), key=lambda kv: -kv[1]),
        "modules": [(m, s, category(m)) for m, s in modules],
        "own": [(_name(f), v[1], v[2], v[3]) for f, v in own],
        "cumulative": [(_name(f), v[1], v[2], v[3]) for f, v in cumulative],
    }


class ProfilePath:
    """In a fresh process: the replay of the first `events` events under cProfile, then `state_hash`."""

    def __init__(self, cfg: dict[str, Any]):
        from kernel.ledger import Ledger

        self.cfg = cfg
        self.ledger = Ledger.open(cfg["url"])
        self.ledger.head()

    def run(self) -> dict[str, Any]:
        from projections.hashing import state_hash
        from projections.replay import replay

        until = self.cfg["until"]
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        replayed = replay(self.ledger, until_position=until)
        profiler.disable()
        t1 = time.perf_counter()
        out: dict[str, Any] = {"events": replayed.books.events_applied, "position": replayed.position,
                               "replay_wall_s": t1 - t0, "orders": len(replayed.books.orders)}  # fmt: skip
        stats = pstats.Stats(profiler)
        out["replay"] = summarize(stats)
        hasher = cProfile.Profile()
        t2 = time.perf_counter()
        hasher.enable()
        state_hash(replayed.books)
        hasher.disable()
        out["hash_wall_s"] = time.perf_counter() - t2
        hash_stats = pstats.Stats(hasher)
        out["hash"] = summarize(hash_stats, top=12)
        if self.cfg.get("dump"):
            stats.add(hash_stats)
            stats.dump_stats(self.cfg["dump"])
        return out

    def close(self) -> None:
        self.ledger.close()


def _table(rows: list[tuple[str, int, float, float]], indent: str) -> list[str]:
    lines = [f"{indent}{'ncalls':>10}  {'tottime':>8}  {'cumtime':>8}  {'µs/call':>8}  function"]
    for name, ncalls, tt, ct in rows:
        lines.append(f"{indent}{fmt_int(ncalls):>10}  {tt:8.3f}  {ct:8.3f}  {tt / ncalls * 1e6 if ncalls else 0:8.2f}  "
                     f"{name}")  # fmt: skip
    return lines


def report(p: dict[str, Any], unprofiled_eps: float | None) -> list[str]:
    """The profile as printed lines."""
    r, h = p["replay"], p["hash"]
    lines = ["", f"Replay profile: cProfile of replay(ledger, until_position={p['position']:,}) = the first "
             f"{p['events']:,} events ({p['orders']:,} orders in the books), in a fresh process: "
             f"{p['replay_wall_s']:.2f} s under the profiler ({p['events'] / p['replay_wall_s']:,.0f} ev/s"
             + (f"; unprofiled {unprofiled_eps:,.0f} ev/s" if unprofiled_eps else "") + ")"]  # fmt: skip
    lines.append("  by part (own time; builtins charged to their callers): " + ", ".join(
        f"{name} {s / r['total_s']:.0%} ({s:.2f} s)" for name, s in r["categories"]))  # fmt: skip
    lines.append("  by module, ranked:")
    for module, s, cat in r["modules"][:14]:
        lines.append(f"    {s / r['total_s']:6.1%}  {s:7.2f} s  {cat:<11}  {module}")
    lines.append("  functions by own time:")
    lines += _table(r["own"], "    ")
    lines.append("  functions by cumulative time (below the replay loop):")
    lines += _table(r["cumulative"][:14], "    ")
    lines.append("")
    lines.append(f"state_hash profile: cProfile of state_hash(books) on those books: {p['hash_wall_s']:.2f} s under "
                 f"the profiler; by part: " + ", ".join(f"{name} {s / h['total_s']:.0%}" for name, s in h["categories"]))
    lines.append("  by module, ranked:")
    for module, s, cat in h["modules"][:8]:
        lines.append(f"    {s / h['total_s']:6.1%}  {s:7.2f} s  {cat:<11}  {module}")
    lines.append("  functions by own time:")
    lines += _table(h["own"], "    ")
    return lines
