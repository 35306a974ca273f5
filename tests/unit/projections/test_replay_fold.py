"""`replay`: the paged fold of the log. Any page size gives the same books; a replay can stop at a position
and go on from it; it reads the log a page at a time."""

from __future__ import annotations

import pytest
from replay_history import record_demo

from kernel.ledger import Ledger
from projections import Books, state_hash
from projections.replay import Replayed, replay
from projections.snapshots import encode_books


@pytest.fixture(scope="module")
def demo() -> tuple[Ledger, list]:
    ledger = record_demo()
    return ledger, list(ledger.read())


def test_page_sizes_1_7_10000_give_the_same_books(demo):
    ledger, log = demo
    expected = Books.of(e for _, e in log)  # never evicts
    results = [replay(ledger, page_size=size) for size in (1, 7, 10_000)]
    assert {state_hash(r.books) for r in results} == {state_hash(expected)}
    assert expected.evict_closed() > 0 and state_hash(expected) == state_hash(results[0].books)
    assert {encode_books(r.books) for r in results} == {encode_books(expected)}  # the whole state, internals too
    assert {r.position for r in results} == {log[-1][0]} == {ledger.head()}
    assert results[0].books.events_applied == len(log)


def test_an_empty_log_replays_to_empty_books_at_position_0():
    with Ledger.open("memory://") as ledger:
        result = replay(ledger)
    assert result == Replayed(result.books, 0)
    assert state_hash(result.books) == state_hash(Books())


@pytest.mark.parametrize("until", [1, 2, 57, 263, 264])
def test_until_position_folds_exactly_the_events_up_to_it(demo, until):
    ledger, log = demo
    result = replay(ledger, until_position=until, page_size=7)
    assert result.position == until
    expected = Books.of(e for i, e in log if i <= until)
    assert state_hash(result.books) == state_hash(expected)
    expected.evict_closed()  # a replay evicts the closed orders at its end
    assert encode_books(result.books) == encode_books(expected)


def test_until_beyond_the_head_stops_at_the_head(demo):
    ledger, log = demo
    assert replay(ledger, until_position=log[-1][0] + 100).position == log[-1][0]


@pytest.mark.parametrize("cut", [0, 1, 100, 263])
def test_a_replay_goes_on_from_where_it_stopped(demo, cut):
    ledger, log = demo
    first = replay(ledger, until_position=cut)
    assert first.position == cut
    rest = replay(ledger, books=first.books, after=first.position, page_size=13)
    assert rest.books is first.books and rest.position == log[-1][0]
    assert state_hash(rest.books) == state_hash(replay(ledger).books)


def test_nothing_after_gives_back_the_books_at_after(demo):
    ledger, log = demo
    books = replay(ledger).books
    assert replay(ledger, books=books, after=log[-1][0]) == Replayed(books, log[-1][0])
    assert replay(ledger, books=books, after=5, until_position=5) == Replayed(books, 5)


def test_the_log_is_read_a_page_at_a_time(demo, monkeypatch):
    ledger, log = demo
    pages: list[int] = []
    select = ledger.recorder.select_notifications

    def counting(*args, **kwargs):
        page = select(*args, **kwargs)
        pages.append(len(page))
        return page

    monkeypatch.setattr(ledger.recorder, "select_notifications", counting)
    replay(ledger, page_size=100)
    assert max(pages) <= 100 and sum(pages) == len(log) and len(pages) == len(log) // 100 + 1


def test_a_page_size_below_1_is_refused(demo):
    with pytest.raises(ValueError, match="page_size"):
        replay(demo[0], page_size=0)
