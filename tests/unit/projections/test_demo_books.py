"""The demo trading day (adapters.demo) folds into books: without error, to the same hash on every run
and every paging, with every seed model valid, and with figures that agree with its fills."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext

import pytest

from adapters.demo import PERP, SPOT, DemoDay
from kernel import events as ev
from kernel.ledger import Ledger
from kernel.schema.order_spec import OrderSide
from projections import ARITHMETIC, Books, state_hash


def record_day(seed: int = 7, orders: int = 40) -> Ledger:
    day = DemoDay(seed=seed, orders=orders)
    ledger = Ledger.open("memory://", clock=day.clock)
    for _ in day.run(lambda step: getattr(ledger, step.method)(*step.args, **step.kwargs)):
        pass
    return ledger


@pytest.fixture(scope="module")
def day() -> tuple[list[ev.Event], Books, Ledger]:
    ledger = record_day()
    events = [e for _, e in ledger.read()]
    return events, Books.of(events), ledger


def test_the_day_folds_to_the_same_hash_on_every_run_and_paging(day):
    events, books, ledger = day
    again = [e for _, e in record_day().read()]
    assert again == events  # the simulated clock makes even ts_recorded reproducible
    paged = Books.of(e for _, e in ledger.read(page_size=7))
    assert state_hash(books) == state_hash(Books.of(again)) == state_hash(paged)
    assert state_hash(books) != state_hash(Books.of(e for _, e in record_day(seed=8).read()))


def test_every_seed_model_validates(day):
    _, books, _ = day
    models = [*books.order_views(), *books.positions(), *books.account_states()]
    models += [b for account_id in books.account_ids() for b in books.balances(account_id)]
    assert len(books.account_states()) == 2 and books.positions() and len(books.order_views()) == 40
    for model in models:
        cls = type(model)
        assert cls.model_validate(model.model_dump()) == model
        assert cls.model_validate_json(model.model_dump_json()) == model


def test_the_books_agree_with_the_days_fills(day):
    events, books, _ = day
    moved: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with localcontext(ARITHMETIC):
        for e in events:
            if isinstance(e, ev.BalanceAdjusted):
                moved[(e.account_id, e.asset_id)] += e.amount
            elif isinstance(e, ev.OrderFilled):
                intent = books.orders[(e.account_id, e.intent_id)].intent
                assert intent is not None
                signed = e.quantity if intent.side is OrderSide.BUY else -e.quantity
                if e.account_id == SPOT:
                    base = intent.symbol.removesuffix("USDT")
                    moved[(SPOT, base)] += signed
                    moved[(SPOT, "USDT")] -= signed * e.price
                    moved[(SPOT, e.fee_asset or "USDT")] -= e.fee
                else:
                    moved[(PERP, f"position:{intent.symbol}")] += signed
        for account_id, asset in sorted(moved):
            if asset.startswith("position:"):
                position = books.position(account_id, asset.removeprefix("position:"))
                assert position is not None and position.asset.quantity == moved[(account_id, asset)]
            elif account_id == SPOT:
                assert books.balance(account_id, asset).total == moved[(account_id, asset)]  # type: ignore[union-attr]
        perp = books.account_state(PERP)
        assert perp is not None and perp.total_realized_pnl is not None
        cash = books.balance(PERP, "USDT").total  # type: ignore[union-attr]
        assert cash == moved[(PERP, "USDT")] + perp.total_realized_pnl  # deposit + funding + realized
        assert perp.total_equity == cash + perp.total_unrealized_pnl  # type: ignore[operator]
    assert all(not b.locked for b in books.balances(SPOT)) == (books.order_keys(SPOT, open_only=True) == [])
