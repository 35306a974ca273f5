"""The state hash and the fold's determinism: canonical decimals, no recorded time, no dependence on the
thread's decimal context, on chunking or on snapshots; refusals of unfoldable events; order views."""

from __future__ import annotations

import copy
import pickle
from decimal import ROUND_DOWN, Decimal, localcontext

import msgspec
import pytest
from projection_desk import D, perp_desk, spot_desk

from kernel import events as ev
from kernel.testing import T0_NS
from projections import (
    Books,
    ProjectionError,
    canonical_decimal,
    state_document,
    state_hash,
)
from projections.hashing import canonical


def busy_desk():
    """A little of everything: spot and perp accounts, fills, fees, a flip, marks, open orders."""
    desk = perp_desk(initial_margin_rate="0.05", maintenance_margin_rate="0.005")
    desk.open("spot", account_type="SPOT").instrument("spot", asset_type="SPOT")
    desk.adjust("1000")
    desk.adjust("500", account="spot")
    desk.leverage("10")
    desk.trade("BUY", "1", "100", fee="0.1")
    desk.trade("SELL", "3", "101", fee="0.3")
    desk.mark("99")
    desk.order("BUY", "1", "95")
    desk.trade("BUY", "0.3", "101", fee="0.0001", fee_asset="BNB", account="spot")
    desk.order("SELL", "0.1", "120", account="spot")
    return desk


@pytest.mark.parametrize(("number", "text"), [
    ("1", "1"), ("1.0", "1"), ("1.00", "1"), ("-0", "0"), ("-0.000", "0"), ("0E-12", "0"), ("1E+3", "1000"),
    ("12.3400", "12.34"), ("-0.5", "-0.5"), ("1.23E-7", "0.000000123"), ("100", "100"),
])  # fmt: skip
def test_canonical_decimal(number, text):
    assert canonical_decimal(Decimal(number)) == text


def test_canonical_refuses_what_it_cannot_order():
    assert canonical({"b": (Decimal("2.50"), None), 1: True}) == {"b": ["2.5", None], "1": True}
    with pytest.raises(TypeError):
        canonical({1, 2})


def test_equal_values_hash_equal_different_values_do_not():
    hashes = []
    for amount in ("1.0", "1.00", "1", "1.01"):
        desk = perp_desk()
        desk.adjust(amount)
        hashes.append(state_hash(desk.books()))
    assert hashes[0] == hashes[1] == hashes[2] != hashes[3]
    assert len(hashes[0]) == 64 and int(hashes[0], 16) >= 0


def test_the_same_events_give_the_same_hash_and_recorded_times_are_not_state():
    events = busy_desk().events()
    shifted = [msgspec.structs.replace(e, ts_recorded=e.ts_recorded + 123_456_789) for e in events]
    assert state_hash(Books.of(events)) == state_hash(Books.of(list(events))) == state_hash(Books.of(shifted))


def test_the_fold_ignores_the_callers_decimal_context():
    events = busy_desk().events()
    expected = state_hash(Books.of(events))
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 5, ROUND_DOWN
        books = Books.of(events)
        assert state_hash(books) == expected
        assert books.position("acc", "BTCUSDT").asset.entry_price == 101  # type: ignore[union-attr]


@pytest.mark.parametrize("dump", [copy.deepcopy, lambda b: pickle.loads(pickle.dumps(b))])
def test_a_snapshot_folds_on_to_the_same_state(dump):
    events = busy_desk().events()
    half = len(events) // 2
    books = Books.of(events[:half])
    snapshot = dump(books)
    books.apply_all(events[half:])
    snapshot.apply_all(events[half:])
    assert state_hash(snapshot) == state_hash(books) == state_hash(Books.of(events))


def test_apply_one_by_one_equals_apply_all():
    events = busy_desk().events()
    books = Books()
    for e in events:
        books.apply(e)
    assert state_hash(books) == state_hash(Books.of(events))
    assert books.events_applied == len(events)


def test_the_document_lists_every_part_sorted():
    doc = state_document(busy_desk().books())
    assert list(doc) == ["hash_version", "orders", "positions", "balances", "accounts"]
    assert doc["hash_version"] == 2 and doc["orders"]["orders_count"] == 5
    assert len(doc["orders"]["orders_digest"]) == 64
    assert [(b["account_id"], b["balance"]["asset_id"]) for b in doc["balances"]] == [
        ("acc", "USDT"), ("spot", "BNB"), ("spot", "BTC"), ("spot", "USDT")]  # fmt: skip
    assert [a["account_id"] for a in doc["accounts"]] == ["acc", "spot"]
    assert doc["positions"][0]["position"]["asset"]["quantity"] == "-2"


# ------------------------------------------------------------------ refusals
def _fill(intent_id: str = "o-1") -> ev.OrderFilled:
    return ev.OrderFilled(account_id="acc", intent_id=intent_id, trade_id="t", quantity=D(1), price=D(1),
                          ts_event=T0_NS, ts_recorded=T0_NS)  # fmt: skip


def test_an_order_event_before_its_order_is_refused_and_changes_nothing():
    books = busy_desk().books()
    before, _ = state_hash(books), books.take_changes()
    with pytest.raises(ProjectionError, match="before it was placed"):
        books.apply(_fill("nobody"))
    assert state_hash(books) == before and books.take_changes().orders == ()


def test_an_order_on_an_unregistered_symbol_is_refused():
    spec = ev.OrderSpec(symbol="DOGEUSDT", side="BUY", order_type="MARKET", quantity=D(1))
    placed = ev.IntentPlaced(account_id="acc", intent_id="o-x", order=spec, ts_event=T0_NS, ts_recorded=T0_NS)
    books = busy_desk().books()
    with pytest.raises(ProjectionError, match="not registered"):
        books.apply(placed)
    assert ("acc", "o-x") not in books.orders


def test_something_that_is_not_an_event_is_refused():
    with pytest.raises(ProjectionError):
        Books().apply(ev.Event(ts_event=1, ts_recorded=1))


# ------------------------------------------------------------------ changes and order views
def test_take_changes_lists_touched_keys_once():
    desk = spot_desk()
    desk.adjust("100")
    books = desk.books()
    changes = books.take_changes()
    assert changes.balances == (("acc", "USDT"),) and changes.accounts == ("acc",)
    assert books.take_changes() == type(changes)()
    books.apply(desk.events()[-1].__class__(**{**msgspec.structs.asdict(desk.events()[-1]), "amount": D(1)}))
    assert books.take_changes().balances == (("acc", "USDT"),)


def test_order_view_figures():
    desk = spot_desk()
    intent = desk.order("BUY", "3", "100")
    desk.fill(intent, "1", "100", fee="0.1")
    desk.fill(intent, "1", "101", fee="0.2", fee_asset="BNB")
    view = desk.books().order_view("acc", intent)
    assert view is not None
    assert (view.filled_quantity, view.remaining_quantity, view.quantity, view.price) == (2, 1, 3, 100)
    assert view.average_fill_price == D("100.5")
    assert view.fees == {"BNB": D("0.2"), "USDT": D("0.1")}
    assert (view.state.status, view.state.reconciliation_status, view.anomalies) == (
        "PARTIALLY_FILLED", "ACTIVE", [])  # fmt: skip
    assert view.state.exchange_order_id == f"E-{intent}" and not view.external


def test_external_orders_are_viewed_and_flagged():
    desk = perp_desk()
    desk.ledger.record_fill("acc", None, trade_id="x1", quantity="1", price="100", exchange_order_id="X9",
                            order={"symbol": "BTCUSDT", "side": "SELL", "order_type": "LIMIT", "quantity": "2",
                                   "price": "100"}, ts_event=desk.tick())  # fmt: skip
    books = desk.books()
    view = books.order_view("acc", "ext:X9")
    assert view is not None and view.external and view.anomalies == ["external_order"]
    assert books.position("acc", "BTCUSDT").asset.quantity == -1  # type: ignore[union-attr]
    assert books.order_keys(open_only=True) == [("acc", "ext:X9")]
