"""The read tables' history (`positions_at`, `balances_at`, `accounts_at`): as of every position of the log,
the rows equal the books folded to that position, on every backend and for any batch size; tables of an
older format are rebuilt by the projector. (`ledger query --as-of` reading it: tests/e2e/test_books_cli.py.)"""

from __future__ import annotations

import sqlite3

import pytest

from adapters.demo import PERP, SPOT
from adapters.projector import project
from adapters.read_tables import FORMAT, MemoryReadTables, ReadTablesError, open_read_tables
from adapters.read_tables.base import HISTORY
from projections import Books
from tests.integration.test_read_tables import record_day, tables_for


@pytest.fixture
def ledger(store_url, open_ledger):
    return open_ledger(store_url)


def assert_history_equals_fold(tables, ledger, *, every: int = 1) -> int:
    """For every `every`-th position (and 0 and the head), each as-of read equals the books folded there;
    returns how many positions were checked."""
    books, checked = Books(), 0
    notifications = [(0, None), *ledger.read()]
    for i, (position, event) in enumerate(notifications):
        if event is not None:
            books.apply(event)
        if i % every and i != len(notifications) - 1:
            continue
        checked += 1
        # compared as JSON text: model equality would take Decimal("100") for Decimal("100.00")
        assert _texts(r.position for r in tables.positions_at(position)) == _texts(books.positions()), position
        assert [(r.account_id, r.balance.model_dump_json()) for r in tables.balances_at(position)] == [
            (k[0], books.balance(*k).model_dump_json()) for k in books.balance_keys()], position  # fmt: skip
        assert _texts(tables.accounts_at(position)) == _texts(books.account_states()), position
        assert tables.account_ids_at(position) == books.account_ids(), position
        for account_id in (SPOT, PERP):  # the filters, as `ledger query` passes them
            assert _texts(r.position for r in tables.positions_at(position, account_id, open_only=True)) == \
                _texts(books.positions(account_id, open_only=True))  # fmt: skip
            assert _texts(r.balance for r in tables.balances_at(position, account_id)) == \
                _texts(books.balances(account_id))  # fmt: skip
            state = books.account_state(account_id)
            assert _texts(tables.accounts_at(position, account_id)) == _texts([state] if state is not None else [])
    return checked


def _texts(models) -> list[str]:
    return [m.model_dump_json() for m in models]


def test_as_of_every_position_equals_the_fold_there(ledger):
    tables = tables_for(ledger)
    record_day(ledger, orders=10)
    project(ledger, tables=tables, batch_size=17)
    record_day(ledger, seed=8, orders=8)  # a second run of the projector goes on from where it was
    project(ledger, tables=tables, batch_size=40)
    every = 1 if ledger.store_url.startswith(("memory", "sqlite")) else 3
    assert assert_history_equals_fold(tables, ledger, every=every) > 50
    tables.close()


@pytest.mark.parametrize("batch_size", [1, 5000])
def test_history_is_the_same_for_any_batch_size_and_repeats_no_unchanged_row(memory_url, open_ledger, batch_size):
    ledger = open_ledger(memory_url)
    record_day(ledger, orders=12)
    tables = MemoryReadTables()
    project(ledger, tables=tables, batch_size=batch_size)
    assert_history_equals_fold(tables, ledger)
    for versions in tables.history.values():
        for positions, datas in versions.values():
            assert positions == sorted(set(positions))
            assert all(a != b for a, b in zip(datas, datas[1:]))  # a version differs from the one before
    accounts = tables.history[HISTORY["ledger_read_accounts"].name]
    assert sum(len(p) for p, _ in accounts.values()) < ledger.head()  # not one per event: only the changes
    figures = [values[-1] for _, versions in accounts.values() for values in versions]
    assert 0 < sum(f is not None for f in figures) < len(figures) / 2  # figures only when they changed


def test_sqlite_history_is_narrow_too(sqlite_url, open_ledger):
    ledger = open_ledger(sqlite_url)
    record_day(ledger, orders=12)
    project(ledger, batch_size=100)
    with open_read_tables(ledger) as tables:
        rows = tables.conn.execute("SELECT count(*), count(data) FROM ledger_read_accounts_history").fetchone()
    assert 0 < rows[1] < rows[0] / 2 < ledger.head()  # one per account change; figures only when they changed


def test_as_of_beyond_the_tracking_position_is_refused(memory_url, open_ledger):
    ledger = open_ledger(memory_url)
    head = record_day(ledger, orders=8)
    tables = MemoryReadTables()
    project(ledger, tables=tables, batch_size=10)
    assert tables.covers(head) and not tables.covers(head + 1)
    with pytest.raises(ReadTablesError, match=f"before {head + 1}: run `ledger project`"):
        tables.positions_at(head + 1)


def test_tables_of_an_older_format_are_rebuilt_with_their_history(sqlite_url, open_ledger):
    ledger = open_ledger(sqlite_url)
    record_day(ledger, orders=8)
    project(ledger, batch_size=50)
    with open_read_tables(ledger) as tables:
        path = tables.path
    with sqlite3.connect(path) as conn:  # as a version before the history left them: no history tables
        for h in HISTORY.values():
            conn.execute(f"DROP TABLE {h.name}")
        conn.execute("UPDATE ledger_read_tracking SET format = 1")
    with open_read_tables(ledger) as tables, pytest.raises(ReadTablesError, match="format 1.*`ledger project`"):
        tables.positions_at(1)
    assert project(ledger) == ledger.head()
    with open_read_tables(ledger) as tables:
        assert tables.stored_format() == FORMAT
        assert_history_equals_fold(tables, ledger, every=5)


def test_query_as_of_reads_the_history_only_where_it_covers(sqlite_url, open_ledger):
    from adapters.cli.books import _tables_at

    ledger = open_ledger(sqlite_url)
    head = record_day(ledger, orders=8)
    assert _tables_at(ledger, head) is None  # not built: `ledger query --as-of` folds
    project(ledger, batch_size=50)
    with _tables_at(ledger, head) as tables:  # type: ignore[union-attr]
        assert tables.covers(head)
    assert _tables_at(ledger, head + 1) is None  # beyond what was projected: folds


def test_numbers_beyond_28_digits_and_the_same_amount_in_other_digits_read_back_exactly(store_url, open_ledger):
    """`available` is computed in the books' exact context, not the default 28 digits; and an amend that
    changes a price's digits but not its value (100 -> 100.00) changes the locked text, which the history
    must follow."""
    ledger = open_ledger(store_url)
    record_day(ledger, orders=8)
    now = max(e.ts_recorded for _, e in ledger.read()) + 1
    ledger.adjust_balance(SPOT, asset_id="USDT", amount="123456789012345678901234.123456789012345678",
                          reason="DEPOSIT", reference="big-deposit", ts_event=now)  # fmt: skip
    order = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": "1", "price": "100"}
    ledger.place_intent(SPOT, {"intent_id": "digits", "order": order, "created_at": now + 1, "updated_at": now + 1})
    ledger.start_submission(SPOT, "digits", client_order_id="c-digits", ts_event=now + 2)
    ledger.record_accepted(SPOT, "digits", exchange_order_id="x-digits", ts_event=now + 3)
    ledger.record_amend_accepted(SPOT, "digits", quantity="1", price="100.00", ts_event=now + 4)
    tables = tables_for(ledger)
    project(ledger, tables=tables, batch_size=50)
    assert assert_history_equals_fold(tables, ledger, every=25) > 5
    usdt = {r.balance.asset_id: r.balance for r in tables.balances_at(ledger.head(), SPOT)}["USDT"]
    assert len(str(usdt.available).replace(".", "").lstrip("-0")) > 28
    assert str(usdt.locked) == "100.00"  # the amend's digits, not the placement's
    tables.close()


def test_tables_of_a_newer_format_are_left_alone(sqlite_url, open_ledger):
    ledger = open_ledger(sqlite_url)
    record_day(ledger, orders=8)
    head = project(ledger, batch_size=100)
    with open_read_tables(ledger) as tables:
        tables.conn.execute("UPDATE ledger_read_tracking SET format = ?", (FORMAT + 1,))
    with pytest.raises(ReadTablesError, match="newer version of the ledger"):
        project(ledger)
    with open_read_tables(ledger) as tables:  # not reset: a newer ledger's rows are not this one's to drop
        assert tables.stored_format() == FORMAT + 1 and tables._read_tracking()[0] == head


@pytest.mark.postgres
@pytest.mark.parametrize("batch_size", [3, 5000])  # rows by INSERT / rows and versions by COPY
def test_postgres_keeps_json_documents_not_json_strings(pg_url, open_ledger, batch_size):
    ledger = open_ledger(pg_url)
    record_day(ledger, orders=40)
    project(ledger, batch_size=batch_size)
    with open_read_tables(ledger) as tables:
        assert_history_equals_fold(tables, ledger, every=97)
    with open_read_tables(ledger) as tables:
        schema = tables.schema
        kinds = {table: {k for (k,) in tables.conn.execute(
            f'SELECT DISTINCT jsonb_typeof(data) FROM "{schema}".{table} WHERE data IS NOT NULL')}
            for table in ("ledger_read_orders", "ledger_read_positions", "ledger_read_positions_history",
                          "ledger_read_accounts_history")}  # fmt: skip
    assert kinds == dict.fromkeys(kinds, {"object"})
