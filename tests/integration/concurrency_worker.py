"""One racing writer for test_concurrency, run in its own OS process:

    python concurrency_worker.py JSON

JSON: {"url", "account_id", "intent_id", "trade_numbers": [...], "batch_every": N, "ready": path,
"go": path, "out": path, "chunk": 5}. Opens its own Ledger, says it is ready, waits for the go file,
then records a fill for every trade number -- in chunks of `chunk`, every `batch_every`-th chunk as one
batch, the others as single calls -- and writes a JSON report to `out`.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path


def fill_of(number: int) -> tuple[str, Decimal, Decimal]:
    """The one true fill for a trade number: both racers report the very same fact."""
    return f"t{number}", Decimal(number % 7 + 1) / 100, Decimal(100) + Decimal(number % 5) / 4


def main() -> int:
    job = json.loads(sys.argv[1])
    from eventsourcing.persistence import RecordConflictError

    from kernel.ledger import ConcurrencyError, Ledger

    report = {"claimed": [], "concurrency_errors": 0, "insert_conflicts": 0, "started": 0.0, "ended": 0.0,
              "error": None}  # fmt: skip
    ledger = Ledger.open(job["url"])
    insert_events = ledger.recorder.insert_events

    def counting_insert(*args, **kwargs):  # how often the other racer got there first
        try:
            return insert_events(*args, **kwargs)
        except RecordConflictError:
            report["insert_conflicts"] += 1
            raise

    ledger.recorder.insert_events = counting_insert  # type: ignore[method-assign]
    try:
        account, intent_id = job["account_id"], job["intent_id"]
        ledger.order(account, intent_id)  # connect and warm up before the race
        Path(job["ready"]).touch()
        deadline = time.monotonic() + 60
        while not Path(job["go"]).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("never told to go")
            time.sleep(0.0005)

        report["started"] = time.time()
        numbers = job["trade_numbers"]
        size = job.get("chunk", 5)
        chunks = [numbers[i : i + size] for i in range(0, len(numbers), size)]
        for k, chunk in enumerate(chunks):
            while True:
                try:
                    if job["batch_every"] and k % job["batch_every"] == job["batch_every"] - 1:
                        with ledger.batch() as batch:
                            for n in chunk:
                                trade_id, qty, price = fill_of(n)
                                batch.record_fill(account, intent_id, trade_id=trade_id, quantity=qty,
                                                  price=price, ts_event=1_000 + n)  # fmt: skip
                    else:
                        for n in chunk:
                            trade_id, qty, price = fill_of(n)
                            if ledger.record_fill(account, intent_id, trade_id=trade_id, quantity=qty, price=price,
                                                  ts_event=1_000 + n):  # fmt: skip
                                report["claimed"].append(trade_id)
                    break
                except ConcurrencyError:  # nothing of it was recorded: a writer may try again
                    report["concurrency_errors"] += 1
        report["ended"] = time.time()
    except BaseException:
        report["error"] = traceback.format_exc()
    finally:
        ledger.close()
        Path(job["out"]).write_text(json.dumps(report))
    return 0 if report["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main())
