"""`Ledger.read_stream`: one stream's events with their positions in the log, by index on PostgreSQL and
SQLite (`select_stream`) and by a scan on memory://, the same on every store; and `order_at`, one order as
of a position folded from its stream."""

from __future__ import annotations

from kernel import events as ev
from kernel.streams import account_stream_id, order_stream_id
from projections.replay import order_at, state_at
from tests.integration.helpers import ACCOUNT, live_order, open_spot_account
from tests.integration.test_read_tables import record_day


def test_a_stream_read_by_index_equals_the_log_filtered_to_it(store_url, open_ledger):
    ledger = open_ledger(store_url)
    open_spot_account(ledger)
    open_spot_account(ledger, "acc-2")
    for intent_id in ("i-1", "i-2"):  # interleaved in the log
        live_order(ledger, intent_id)
        live_order(ledger, intent_id, account_id="acc-2")
    ledger.record_fill(ACCOUNT, "i-1", trade_id="t-1", quantity="0.5", price="100", ts_event=20)
    log = list(ledger.read())
    for stream, account_id, intent_id in [(order_stream_id(ACCOUNT, "i-1"), ACCOUNT, "i-1"),
                                          (order_stream_id("acc-2", "i-2"), "acc-2", "i-2")]:  # fmt: skip
        expected = [(p, e) for p, e in log if e.account_id == account_id and getattr(e, "intent_id", None) == intent_id]
        assert ledger.read_stream(stream) == expected
        assert [type(e).__name__ for _, e in expected][-1] in ("OrderAccepted", "OrderFilled")
    account = [(p, e) for p, e in log if e.account_id == ACCOUNT and not hasattr(e, "intent_id")]
    assert ledger.read_stream(account_stream_id(ACCOUNT)) == account and len(account) == 2
    assert ledger.read_stream(account_stream_id(ACCOUNT), limit=1) == account[:1]  # its opening, read alone
    assert ledger.read_stream(order_stream_id(ACCOUNT, "nope")) == []


def test_an_order_as_of_any_position_from_its_stream_equals_the_books_there(store_url, open_ledger):
    """`order_at` folds one order's own events up to a position: the view the books hold there, and None
    before the order existed. Checked for every order of a demo day at every 7th position."""
    ledger = open_ledger(store_url)
    record_day(ledger, orders=12)
    head = ledger.head()
    keys = sorted({(e.account_id, e.intent_id) for _, e in ledger.read() if isinstance(e, ev.IntentPlaced)})
    assert len(keys) >= 12
    for position in [*range(0, head, 7), head]:
        books = state_at(ledger, position=position, evict=False).books
        for account_id, intent_id in keys:
            assert order_at(ledger, account_id, intent_id, position) == books.order_view(account_id, intent_id)
