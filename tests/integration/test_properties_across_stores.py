"""Generated histories (the ledger's own strategies) give the same books on every store, and the read
tables a projector keeps (and their history, as of any position) equal a clean replay."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.projector import project
from adapters.read_tables import open_read_tables
from kernel.testing import adversarial_streams, apply_commands, order_lifecycles, prepared_ledger
from projections import Books, state_hash
from projections.replay import replay
from tests.integration.test_read_history import assert_history_equals_fold

_schemas = itertools.count(1)


def histories():
    """Two or three orders' adversarial streams, interleaved."""
    one = lambda i: order_lifecycles(intent_id=f"o-{i}").flatmap(adversarial_streams)  # noqa: E731
    return st.lists(st.integers(0, 2), min_size=4, max_size=60).flatmap(
        lambda picks: st.tuples(one(1), one(2), one(3)).map(lambda streams: _interleave(streams, picks))
    )


def _interleave(streams, picks):
    queues = [list(s) for s in streams]
    merged = []
    for pick in picks:
        if queues[pick]:
            merged.append(queues[pick].pop(0))
    for queue in queues:
        merged.extend(queue)
    return merged


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=histories())
def test_same_books_on_memory_sqlite_and_postgres_and_in_the_read_tables(commands, pg_database_url, tmp_path_factory):
    urls = [
        "memory://",
        f"sqlite:///{tmp_path_factory.mktemp('p') / 'ledger.db'}",
        f"{pg_database_url}?schema=prop_{next(_schemas)}",
    ]
    hashes = []
    for url in urls:
        ledger = prepared_ledger(url)
        try:
            apply_commands(ledger, commands, check=False)
            replayed = replay(ledger, page_size=7)
            hashes.append(state_hash(replayed.books))
            if not url.startswith("memory:"):
                project(ledger, handle_signals=False, batch_size=5)
                with open_read_tables(ledger) as tables:
                    assert tables.position() == replayed.position
                    # the replay evicted closed orders (and revived late ones): the tables keep every order
                    full = Books.of(e for _, e in ledger.read())
                    assert state_hash(full) == hashes[-1]
                    assert tables.orders() == full.order_views()
                    assert replayed.books.order_views(open_only=True) == tables.orders(open_only=True)
                    assert [r.position for r in tables.positions()] == replayed.books.positions()
                    assert tables.accounts() == replayed.books.account_states()
                    assert_history_equals_fold(tables, ledger, every=4)  # as of every 4th position too
        finally:
            ledger.close()
    assert hashes[0] == hashes[1] == hashes[2]
