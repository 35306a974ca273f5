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
        assert [(r.account_id, r.symbol, r.position) for r in tables.positions_at(position)] == [
            (*k, books.position(*k)) for k in books.position_keys()], position  # fmt: skip
        assert [(r.account_id, r.asset_id, r.balance) for r in tables.balances_at(position)] == [
            (*k, books.balance(*k)) for k in books.balance_keys()], position  # fmt: skip
        assert tables.accounts_at(position) == books.account_states(), position
        for account_id in (SPOT, PERP):  # the filters, as `ledger query` passes them
            assert [r.position for r in tables.positions_at(position, account_id, open_only=True)] == \
                books.positions(account_id, open_only=True)  # fmt: skip
            assert [r.balance for r in tables.balances_at(position, account_id)] == books.balances(account_id)
            state = books.account_state(account_id)
            assert tables.accounts_at(position, account_id) == ([state] if state is not None else [])
    return checked


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
    with sqlite3.connect(path) as conn:  # as a version before the history left them
        for h in HISTORY.values():
            conn.execute(f"DELETE FROM {h.name}")
        conn.execute("UPDATE ledger_read_tracking SET format = 1")
    with open_read_tables(ledger) as tables, pytest.raises(ReadTablesError, match="format 1"):
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
