"""The read tables' paths: `ledger project` over the whole history (read tables and their history, from
empty), then as-of queries answered from that history (`positions_at`, `balances_at`, `accounts_at`),
each in a fresh process like the other read paths."""

from __future__ import annotations

import gc
import time
from typing import Any

import psycopg
from psycopg import sql

from benchlib.common import conninfo, progress
from benchlib.read_paths import _Baseline, _open_ledger, _Progress


class ProjectPath:
    """`project(ledger)` from empty tables to the head: the rows, their history and the tracking, in
    batches of `batch_size` events, one transaction each."""

    def __init__(self, cfg: dict[str, Any]):
        from adapters.read_tables import open_read_tables

        self.cfg = cfg
        self.ledger = _open_ledger(cfg["url"])
        self.tables = open_read_tables(self.ledger)
        self.tables.create()
        self.tables.reset()  # a kept history may have tables from an earlier run: project from empty
        self.baseline = _Baseline()

    def run(self) -> dict[str, Any]:
        from adapters.projector import project

        head = self.ledger.head()
        show = _Progress("project", head)
        batches: list[int] = []

        def on_batch(b: Any) -> None:
            batches.append(b.events)
            show(b.position)

        t0 = time.perf_counter()
        cpu0 = time.process_time()
        reached = project(self.ledger, tables=self.tables, batch_size=self.cfg["batch_size"], on_batch=on_batch,
                          handle_signals=False)  # fmt: skip
        seconds, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
        show(reached, force=True)
        with psycopg.connect(conninfo(self.cfg["url"]), autocommit=True) as conn:
            sizes = {}
            for table in ("ledger_read_positions_history", "ledger_read_balances_history",
                          "ledger_read_accounts_history"):  # fmt: skip
                ident = sql.Identifier(self.cfg["schema"], table)
                count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]  # type: ignore[index]
                size = conn.execute("SELECT pg_total_relation_size(%s::regclass)",
                                    (f'"{self.cfg["schema"]}".{table}',)).fetchone()[0]  # type: ignore[index]  # fmt: skip
                sizes[table] = (count, size)
        return {"seconds": seconds, "cpu_s": cpu_s, "events": sum(batches), "batches": len(batches),
                "reached": reached, "head": head, "history": sizes, **self.baseline.memory()}  # fmt: skip

    def close(self) -> None:
        self.tables.close()
        self.ledger.close()


class HistoryAsOfPath:
    """For each time T: `position_at(ledger, T)`, then every account's positions, balances and account
    state as of it from the read tables' history (one timed call each T). The first `check` answers are
    compared with `state_at(ledger, position=p)`'s books, outside the time counted."""

    def __init__(self, cfg: dict[str, Any]):
        from adapters.read_tables import open_read_tables

        self.cfg = cfg
        self.ledger = _open_ledger(cfg["url"])
        self.tables = open_read_tables(self.ledger)
        self.ledger.head()
        self.tables.position()
        gc.collect()

    def run(self, times: list[int], check: int) -> dict[str, Any]:
        from projections.replay import position_at, state_at

        ledger, tables = self.ledger, self.tables
        query_ns: list[int] = []
        position_ns: list[int] = []
        mismatches: list[str] = []
        rows = 0
        show = _Progress("as-of from the history", len(times), "queries", "queries/s")
        for k, ts in enumerate(times):
            t0 = time.perf_counter_ns()
            p = position_at(ledger, ts)
            t1 = time.perf_counter_ns()
            positions, balances, accounts = tables.positions_at(p), tables.balances_at(p), tables.accounts_at(p)
            t2 = time.perf_counter_ns()
            query_ns.append(t2 - t0)
            position_ns.append(t1 - t0)
            rows += len(positions) + len(balances) + len(accounts)
            if k < check:
                books = state_at(ledger, position=p).books
                if ([r.position for r in positions] != books.positions() or accounts != books.account_states() or
                        [(r.account_id, r.balance) for r in balances] !=
                        [(k_[0], books.balance(*k_)) for k_ in books.balance_keys()]):  # fmt: skip
                    mismatches.append(f"T={ts} (position {p}): the history differs from state_at")
            show(k + 1)
        progress(f"as-of from the history: {min(check, len(times))} answers checked against state_at")
        return {"query_ns": query_ns, "position_ns": position_ns, "rows": rows, "checked": min(check, len(times)),
                "mismatches": mismatches}  # fmt: skip

    def close(self) -> None:
        self.tables.close()
        self.ledger.close()


class OrderAsOfPath:
    """For each time T: `position_at(ledger, T)`, then one order as of it (`order_at`: its own stream, by
    index), the order drawn (seeded) among those the read tables hold that were created by T. Untimed
    checks: for the first `check` times, the answer equals the order in `state_at`'s books where those
    hold it (open orders, and closed ones of the snapshot's tail); as of the head every drawn order equals
    its read-tables row."""

    def __init__(self, cfg: dict[str, Any]):
        from adapters.read_tables import open_read_tables

        self.cfg = cfg
        self.ledger = _open_ledger(cfg["url"])
        self.tables = open_read_tables(self.ledger)
        with psycopg.connect(conninfo(cfg["url"]), autocommit=True) as conn:
            table = sql.Identifier(cfg["schema"], "ledger_read_orders")
            self.orders = conn.execute(sql.SQL("SELECT (data->>'created_at')::bigint, account_id, intent_id FROM {} "
                                               "ORDER BY 1, 2, 3").format(table)).fetchall()  # fmt: skip
        self.ledger.head()
        gc.collect()

    def run(self, times: list[int], seed: int, check: int) -> dict[str, Any]:
        import bisect
        import random

        from projections.replay import order_at, position_at, state_at

        ledger, draw = self.ledger, random.Random(seed)
        created = [row[0] for row in self.orders]
        query_ns: list[int] = []
        asked: list[tuple[str, str]] = []
        mismatches: list[str] = []
        found = compared = 0
        for ts in times:
            n = bisect.bisect_right(created, ts)
            if n == 0:
                continue
            _, account_id, intent_id = self.orders[draw.randrange(n)]
            t0 = time.perf_counter_ns()
            p = position_at(ledger, ts)
            view = order_at(ledger, account_id, intent_id, p)
            query_ns.append(time.perf_counter_ns() - t0)
            asked.append((account_id, intent_id))
            found += view is not None
            if len(asked) <= check:
                held = state_at(ledger, position=p, evict=False).books.order_view(account_id, intent_id)
                if held is not None:
                    compared += 1
                    if held != view:
                        mismatches.append(f"T={ts}: {account_id}/{intent_id} differs from state_at's books")
        head = ledger.head()
        for account_id, intent_id in asked:
            if [order_at(ledger, account_id, intent_id, head)] != self.tables.orders(account_id, intent_id=intent_id):
                mismatches.append(f"{account_id}/{intent_id}: as of the head, not its read-tables row")
        return {"query_ns": query_ns, "found": found, "orders": len(self.orders), "compared": compared,
                "mismatches": mismatches}  # fmt: skip

    def close(self) -> None:
        self.tables.close()
        self.ledger.close()
