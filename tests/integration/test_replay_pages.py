"""The fold's page read (`projections.pages`): PostgreSQL's plain-row read gives what `select_notifications`
gives, and a replay over it -- evicting, and reviving an evicted order for a late fact -- hashes like the
fold of the whole log, on every store and page size."""

from __future__ import annotations

import pytest

from kernel.ledger import Ledger
from kernel.testing import ACCOUNT, prepared_ledger
from projections import Books, state_hash
from projections.pages import decode_page, notification_of, page_states, read_page
from projections.replay import ensure_snapshots, replay, state_at

from .helpers import placed_and_accepted


def place(ledger: Ledger, intent_id: str, ts: int) -> None:
    placed_and_accepted(ledger, ACCOUNT, intent_id, ts)


@pytest.fixture
def history(store_url: str):
    """Closed orders, then late fills for two of them (after they were evicted), then more orders."""
    ledger = prepared_ledger(store_url)
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="1000000", reason="DEPOSIT", ts_event=1)
    for n in range(6):
        place(ledger, f"o{n}", 10 * n + 10)
        ledger.cancel_intent(ACCOUNT, f"o{n}", ts_event=10 * n + 13)
        ledger.record_cancel_accepted(ACCOUNT, f"o{n}", ts_event=10 * n + 14)
    ledger.record_fill(ACCOUNT, "o1", trade_id="t1", quantity="0.5", price="99", ts_event=200)
    place(ledger, "p", 210)
    ledger.record_fill(ACCOUNT, "o4", trade_id="t4", quantity="1", price="98", ts_event=220)
    ledger.record_fill(ACCOUNT, "p", trade_id="t5", quantity="0.25", price="100", ts_event=230)
    yield ledger
    ledger.close()


def test_pages_hold_the_log_as_select_notifications_gives_it(history: Ledger):
    head = history.head()
    for after, until, limit in ((0, None, 1_000), (3, None, 5), (3, 9, 100), (head, None, 10)):
        page = read_page(history, after, until, limit)
        stored = history.recorder.select_notifications(start=after, limit=limit, stop=until, inclusive_of_start=False)
        assert list(page.ids) == [n.id for n in stored]
        assert list(page.topics) == [n.topic for n in stored]
        assert [bytes(s) for s in page_states(history, page)] == [bytes(n.state) for n in stored]
        assert decode_page(history, page) == [history.mapper.decode(n) for n in stored]
        for index, notification in enumerate(stored):
            again = notification_of(history, page, index)
            assert (again.id, again.originator_id, again.originator_version) == (
                notification.id, notification.originator_id, notification.originator_version)  # fmt: skip


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 10_000])
def test_replay_revives_evicted_orders_and_hashes_as_the_whole_fold(history: Ledger, page_size: int,
                                                                   monkeypatch: pytest.MonkeyPatch):  # fmt: skip
    whole = Books.of(e for _, e in history.read())
    revived: list[str] = []
    revive = Books.revive
    monkeypatch.setattr(Books, "revive", lambda books, order: (revived.append(order.intent_id), revive(books, order)))
    replayed = replay(history, page_size=page_size)
    assert revived == (["o1", "o4"] if page_size <= 7 else [])  # evicted before their late fills, or never
    assert replayed.position == history.head()
    assert state_hash(replayed.books) == state_hash(whole)
    assert replayed.books.events_applied == whole.events_applied
    assert replayed.books.closed_count + len(replayed.books.orders) == len(whole.orders)
    assert "fill_after_cancel" in whole.order_view(ACCOUNT, "o4").anomalies  # type: ignore[union-attr]
    unevicted = replay(history, page_size=page_size, evict=False).books  # the late facts' orders are held
    assert unevicted.order_view(ACCOUNT, "o1") == whole.order_view(ACCOUNT, "o1")
    assert state_hash(unevicted) == state_hash(whole)


def test_snapshots_and_as_of_over_pages_hash_as_the_whole_fold(history: Ledger):
    assert ensure_snapshots(history, every=5, cutoff=None, page_size=4)
    for position in (7, 19, history.head()):
        expected = Books.of(e for at, e in history.read() if at <= position)
        assert state_hash(state_at(history, position=position, page_size=3).books) == state_hash(expected)


def test_a_page_with_an_older_topic_is_decoded_row_by_row_and_upcast(history: Ledger):
    from eventsourcing.persistence import StoredEvent

    from kernel.streams import account_stream_id

    stream = account_stream_id(ACCOUNT)
    version = len(history.recorder.select_events(stream))
    v1 = (b'{"type":"LeverageSet","ts_event":300,"ts_recorded":300,"account_id":"' + ACCOUNT.encode() +
          b'","symbol_id":"BTCUSDT","leverage":"3"}')  # fmt: skip
    history.recorder.insert_events([StoredEvent(stream, version + 1, "LeverageSet.v1", v1)])
    place(history, "q", 310)
    whole = Books.of(e for _, e in history.read())  # `mapper.decode` one by one: upcasts
    assert whole.accounts[ACCOUNT].leverage["BTCUSDT"] == 3
    for page_size in (1, 4, 10_000):
        page = read_page(history, 0, None, page_size * 100)
        assert decode_page(history, page) == [e for _, e in history.read()][: len(page)]
        assert state_hash(replay(history, page_size=page_size).books) == state_hash(whole)
