"""INGEST HALF: end-to-end ingest of generated exchange message logs into PostgreSQL (issue 4 "Speed").

For each format (a FIX 4.4 drop copy, a Binance spot user data stream), a deterministic day of
`--ingest-messages` messages is generated into a file (untimed), then:
  (a) the ledger: `Ingest(...).ingest_file(...)` -- frame, parse and verify, translate, resolve intents,
      decide, encode, durable append in transactions of `--ingest-batch` messages -- messages/s and events/s
      (a file this large is translated in a second process while the first records);
  (b) raw psycopg binary `COPY` of the very rows (a) stored, into a plain 4-column table, one commit per
      batch of as many events as (a) wrote per transaction (the practical write limit for those rows).
  (c) the translator alone over the same file (frame + translate, in this process, no store).
Every count is checked: recorded + duplicates + skipped = messages, nothing quarantined, rows = events.
Both paths run in this process, one after the other, each in a fresh schema.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from benchlib.common import Result, fmt_int, progress, reset_schema, verdict, with_schema

TARGET_MESSAGES_PER_S = 50_000
COPY_TYPES = ("uuid", "int8", "text", "bytea")


def _fix_day(seed: int, messages: int) -> tuple[Callable[[], Iterator[bytes]], bytes]:
    from adapters.translate.fix_sim import instruments_exchange_info, simulate_fix_day

    per_order = max(1.0, sum(1 for _ in simulate_fix_day(seed, 200)) / 200)
    orders = max(1, int(messages / per_order))
    return (lambda: simulate_fix_day(seed, orders)), instruments_exchange_info()


def _binance_day(seed: int, messages: int) -> tuple[Callable[[], Iterator[bytes]], bytes]:
    from adapters.translate.binance_sim import simulate_spot_day, spot_exchange_info

    per_order = max(1.0, sum(1 for _ in simulate_spot_day(seed, 200)) / 200)
    orders = max(1, int(messages / per_order))
    return (lambda: simulate_spot_day(seed, orders)), spot_exchange_info(("BTCUSDT", "ETHUSDT", "BNBUSDT"))


FORMATS: dict[str, tuple[str, str, Callable[[int, int], tuple[Callable[[], Iterator[bytes]], bytes]]]] = {
    # format: (instrument format, exchange of the catalogue, day generator)
    "fix": ("binance", "fix", _fix_day),
    "binance": ("binance", "binance", _binance_day),
}


def run_ingest(args: argparse.Namespace, admin: psycopg.Connection[Any], schemas: dict[str, str],
               results: list[Result], notes: list[str]) -> None:  # fmt: skip
    for fmt in ("fix", "binance"):
        schema = schemas[f"ingest_{fmt}"]
        _one_format(args, admin, fmt, schema, schemas["raw"], results, notes)


def _one_format(args: argparse.Namespace, admin: psycopg.Connection[Any], fmt: str, schema: str, raw_schema: str,
                results: list[Result], notes: list[str]) -> None:  # fmt: skip
    from adapters.ingest.pipeline import WORKER_MIN_BYTES, Ingest
    from adapters.ingest.tables import open_ingest_tables
    from adapters.translate import get_format
    from kernel.ledger import Ledger

    instrument_format, exchange, day = FORMATS[fmt]
    progress(f"ingest {fmt}: generating about {args.ingest_messages:,} messages")
    messages, instrument_file = day(args.seed, args.ingest_messages)
    with tempfile.NamedTemporaryFile("wb", suffix=f".{fmt}", delete=False) as f:
        count = 0
        for raw in messages():
            f.write(raw)
            f.write(b"\n")
            count += 1
        path = f.name
    size_mb = os.path.getsize(path) / 1e6
    try:
        url = with_schema(args.store, schema)
        ledger = Ledger.open(url)
        tables = open_ingest_tables(ledger)
        tables.put_instruments(exchange, get_format(instrument_format).load_instruments(instrument_file))  # type: ignore[misc]
        form = get_format(fmt)
        run = Ingest(ledger, tables, form, f"bench-{fmt}", exchange=exchange, batch_messages=args.ingest_batch)
        progress(f"ingest {fmt}: {count:,} messages ({size_mb:.0f} MB) into {schema}")
        with open(path, "rb") as handle:
            t0 = time.perf_counter_ns()
            summary = run.ingest_file(path, handle)
            seconds = (time.perf_counter_ns() - t0) / 1e9
        handled = summary.recorded + summary.duplicates + summary.skipped
        assert handled + summary.quarantined == count, (summary, count)
        assert summary.quarantined == 0, summary.reasons
        rows = ledger.head()
        assert rows == summary.events, (rows, summary.events)
        tables.close()
        ledger.close()
        batches = -(-count // args.ingest_batch)
        ledger_row = Result(key=f"ingest_{fmt}", figure=f"ingest {fmt}, msg/s", events=count, seconds=seconds,
                            unit="msg",
                            path=f"(a) ledger: Ingest.ingest_file, {fmt} → PostgreSQL",
                            count=f"{fmt_int(count)} msg → {fmt_int(rows)} ev",
                            extra={"events": rows, "events_per_s": rows / seconds,
                                   "recorded": summary.recorded, "duplicates": summary.duplicates,
                                   "skipped": summary.skipped, "file_mb": size_mb})  # fmt: skip
        copy_s = _raw_copy(admin, schema, raw_schema, rows, batches)
        copy_row = Result(key=f"ingest_{fmt}_copy", figure="", events=count, seconds=copy_s, unit="msg",
                          path=f"(b) raw binary COPY of the {fmt_int(rows)} rows (a) stored, {batches} commits",
                          count=f"{fmt_int(rows)} ev", extra={"events_per_s": rows / copy_s})  # fmt: skip
        ledger_row.beside = f"{rows / seconds:,.0f} ev/s · {100 * copy_s / seconds:.1f}% of COPY's speed"
        ledger_row.target = f"≥ {TARGET_MESSAGES_PER_S:,} msg/s  {verdict(count / seconds >= TARGET_MESSAGES_PER_S)}"
        copy_row.beside = f"{rows / copy_s:,.0f} ev/s"
        results += [ledger_row, copy_row]
        translate_s = _translate_only(form, path, run.instruments)
        results.append(Result(key=f"ingest_{fmt}_translate", figure="", events=count, seconds=translate_s,
                              unit="msg",
                              path=f"(c) the {fmt} translator alone over the same file, in this process",
                              count=f"{fmt_int(count)} msg"))  # fmt: skip
        notes.append(f"ingest {fmt}: {summary.recorded:,} recorded, {summary.duplicates:,} duplicates, "
                     f"{summary.skipped:,} skipped; {size_mb:.0f} MB file, so (a) translated "
                     + ("in a second process while it recorded" if size_mb * 1e6 >= WORKER_MIN_BYTES else
                        f"in its own process (a second one from {WORKER_MIN_BYTES >> 20} MiB)"))  # fmt: skip
    finally:
        os.unlink(path)
        reset_schema(admin, schema)


def _translate_only(form: Any, path: str, instruments: Any) -> float:
    """Seconds to frame and translate every message of the file (no store)."""
    with open(path, "rb") as handle:
        t0 = time.perf_counter_ns()
        for raw in form.frame(handle):
            try:
                form.translate(raw, instruments)
            except Exception:  # noqa: BLE001, S112 - a failure costs its time like a success
                continue
        return (time.perf_counter_ns() - t0) / 1e9


def _raw_copy(admin: psycopg.Connection[Any], source_schema: str, raw_schema: str, rows: int, batches: int) -> float:
    """COPY the ingested rows into a plain table of `raw_schema`, in `batches` transactions; seconds."""
    table = f'"{raw_schema}".ingest_copy'
    admin.execute(f"DROP TABLE IF EXISTS {table}")
    admin.execute(f"CREATE TABLE {table} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
                  "topic text NOT NULL, state bytea NOT NULL)")  # fmt: skip
    data = admin.execute(f'SELECT originator_id, originator_version, topic, state FROM "{source_schema}".ledger_events '
                         "ORDER BY notification_id").fetchall()  # fmt: skip
    per_batch = max(1, -(-rows // batches))
    with psycopg.connect(admin.info.dsn) as conn:
        t0 = time.perf_counter_ns()
        for start in range(0, len(data), per_batch):
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(f"COPY {table} (originator_id, originator_version, topic, state) FROM STDIN "
                              "(FORMAT BINARY)") as copy:  # fmt: skip
                    copy.set_types(COPY_TYPES)
                    for row in data[start : start + per_batch]:
                        copy.write_row(row)
        seconds = (time.perf_counter_ns() - t0) / 1e9
    admin.execute(f"DROP TABLE {table}")
    return seconds
