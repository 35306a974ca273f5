"""Properties of ingesting exchange messages (FIX drop copy, through the real translator and pipeline):
duplicated messages change nothing, any batch size gives the same state, a fill delivered before its
order's acknowledgement gives the same final books."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ingest.pipeline import Ingest
from adapters.ingest.tables import open_ingest_tables
from adapters.translate import get_format
from adapters.translate.fix_sim import instruments_exchange_info, simulate_fix_day
from kernel.ledger import Ledger
from projections import state_hash
from projections.replay import replay

DAY = list(simulate_fix_day(3, 12))
INSTRUMENTS = get_format("binance").load_instruments(instruments_exchange_info())  # type: ignore[misc]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ingest(messages: list[bytes], *, batch: int = 1000, url: str = "memory://") -> tuple[Ledger, dict[str, int]]:
    ledger = Ledger.open(url)
    tables = open_ingest_tables(ledger)
    tables.put_instruments("fix", INSTRUMENTS)
    run = Ingest(ledger, tables, get_format("fix"), "dc", batch_messages=batch)
    summary = run.ingest_messages("test", messages)
    return ledger, {"quarantined": summary.quarantined, "recorded": summary.recorded}


def books_of(ledger: Ledger) -> tuple[str, list[tuple], list[tuple]]:
    books = replay(ledger, evict=False).books
    orders = sorted((v.state.exchange_order_id, str(v.state.status), v.filled_quantity) for v in books.order_views())
    balances = sorted((b.asset_id, b.total) for b in books.balances("dc"))
    return state_hash(books), orders, balances


REFERENCE = books_of(ingest(DAY)[0])


@FAST
@given(st.lists(st.integers(min_value=0, max_value=len(DAY) - 1), min_size=1, max_size=20), st.randoms())
def test_duplicating_any_messages_changes_nothing(picks: list[int], rnd) -> None:
    stream = list(DAY)
    for i in picks:  # a redelivery comes after the original
        original = DAY[i]
        at = stream.index(original)
        stream.insert(rnd.randint(at + 1, len(stream)), original)
    ledger, summary = ingest(stream)
    assert summary["quarantined"] == 0
    assert books_of(ledger) == REFERENCE


@FAST
@given(st.integers(min_value=1, max_value=60))
def test_any_batch_size_gives_the_same_state(batch: int) -> None:
    ledger, summary = ingest(DAY, batch=batch)
    assert summary["quarantined"] == 0
    assert books_of(ledger) == REFERENCE


def _fills_before_acks(messages: list[bytes]) -> list[bytes]:
    """Each order's first fill moved in front of its New acknowledgement (150=0)."""
    out = list(messages)
    for m in messages:
        if b"\x01150=0\x01" not in m:
            continue
        order_id = m.split(b"\x0137=", 1)[1].split(b"\x01", 1)[0]
        fills = [x for x in out if b"\x0137=" + order_id + b"\x01" in x and b"\x01150=F\x01" in x]
        if fills:
            out.remove(fills[0])
            out.insert(out.index(m), fills[0])
    return out


def test_fills_delivered_before_their_acknowledgements_give_the_same_final_books() -> None:
    reordered = _fills_before_acks(DAY)
    assert reordered != DAY and sorted(reordered) == sorted(DAY)
    ledger, summary = ingest(reordered)
    assert summary["quarantined"] == 0
    _, orders, balances = books_of(ledger)
    assert (orders, balances) == REFERENCE[1:]


@pytest.mark.postgres
def test_the_same_messages_give_the_same_hash_on_postgresql_and_sqlite(pg_url: str, sqlite_url: str) -> None:
    for url in (pg_url, sqlite_url):
        ledger, summary = ingest(DAY, batch=7, url=url)
        try:
            assert summary["quarantined"] == 0
            assert books_of(ledger) == REFERENCE
        finally:
            ledger.close()


def test_translating_in_a_second_process_gives_the_same_state(tmp_path, monkeypatch) -> None:
    from adapters.ingest import pipeline

    monkeypatch.setattr(pipeline, "WORKER_MIN_BYTES", 0)  # the worker is used for any file
    bad = b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01"  # quarantined from the worker as from here
    path = tmp_path / "day.fix"
    path.write_bytes(b"\n".join([*DAY, bad]) + b"\n")
    ledger = Ledger.open("memory://")
    tables = open_ingest_tables(ledger)
    tables.put_instruments("fix", INSTRUMENTS)
    with path.open("rb") as handle:
        summary = Ingest(ledger, tables, get_format("fix"), "dc", batch_messages=17).ingest_file("day.fix", handle)
    assert summary.quarantined == 1 and "CheckSum" in next(iter(summary.reasons))
    assert books_of(ledger) == REFERENCE


def test_a_large_binary_file_is_quarantined_once_with_its_head(monkeypatch) -> None:
    import io

    from adapters.ingest import pipeline

    monkeypatch.setattr(pipeline, "QUARANTINE_FILE_MAX_BYTES", 10_000)
    ledger = Ledger.open("memory://")
    tables = open_ingest_tables(ledger)
    blob = bytes(range(256)) * 1000
    summary = Ingest(ledger, tables, get_format("fix"), "dc").ingest_file("blob", io.BytesIO(blob))
    assert (summary.quarantined, summary.recorded) == (1, 0)
    (entry,) = tables.quarantined()
    assert entry.raw == blob[:10_000] and "(256000 bytes; the first 10000 kept)" in entry.reason
