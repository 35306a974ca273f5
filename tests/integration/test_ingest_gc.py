"""A file's ingest freezes what is alive between its batches out of the cyclic GC's sight (the ledger's
cached aggregates), and gives it back when it ends; it leaves a freeze made by someone else alone."""

from __future__ import annotations

import gc
import io

from adapters.ingest import pipeline
from adapters.ingest.pipeline import Ingest
from adapters.ingest.tables import open_ingest_tables
from adapters.translate import get_format
from adapters.translate.fix_sim import instruments_exchange_info, simulate_fix_day
from kernel.ledger import Ledger

DAY = b"\n".join(simulate_fix_day(5, 8)) + b"\n"


def ingest(blob: bytes) -> pipeline.IngestSummary:
    ledger = Ledger.open("memory://")
    tables = open_ingest_tables(ledger)
    tables.put_instruments("fix", get_format("binance").load_instruments(instruments_exchange_info()))  # type: ignore[misc]
    return Ingest(ledger, tables, get_format("fix"), "dc", batch_messages=7).ingest_file("day.fix", io.BytesIO(blob))


def test_batches_freeze_and_the_end_unfreezes(monkeypatch) -> None:
    freezes = []
    monkeypatch.setattr(pipeline.gc, "freeze", lambda: freezes.append(gc.get_freeze_count()))
    summary = ingest(DAY)
    messages = summary.recorded + summary.duplicates + summary.skipped + summary.quarantined
    assert summary.recorded and len(freezes) == -(-messages // 7)  # once after each batch
    assert gc.get_freeze_count() == 0


def test_a_freeze_made_by_someone_else_is_left_alone() -> None:
    keep = [object()]  # a tracked object of the caller, frozen by the caller
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        ingest(DAY)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    assert keep
