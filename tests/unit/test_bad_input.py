"""Bad input is refused at the edge: one clear error naming the field first, and nothing recorded."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from kernel.errors import ConflictingFact, LedgerError, RequestRefused
from kernel.ledger import Ledger
from kernel.schema.order_spec import UINT64_MAX
from kernel.testing import ACCOUNT, memory_ledger

SYMBOL = "BTCUSDT"
TS = 1_000


def spec(**change: Any) -> dict[str, Any]:
    order = {"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT", "quantity": "10", "price": "100"}
    order.update(change)
    return {k: v for k, v in order.items() if v is not None}


def intent(intent_id: str = "new", **change: Any) -> dict[str, Any]:
    return {"intent_id": intent_id, "order": spec(**change), "created_at": TS, "updated_at": TS}


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    """Orders `live` (accepted, nothing filled), `filled` (10 of 10) and `canceled`."""
    ledger = memory_ledger()
    for intent_id in ("live", "filled", "canceled"):
        ledger.place_intent(ACCOUNT, intent(intent_id))
        ledger.start_submission(ACCOUNT, intent_id, client_order_id=f"c-{intent_id}", ts_event=TS)
        ledger.record_accepted(ACCOUNT, intent_id, exchange_order_id=f"E-{intent_id}", ts_event=TS)
    ledger.record_fill(ACCOUNT, "live", trade_id="t-live", quantity="4", price="100", ts_event=TS)
    ledger.record_fill(ACCOUNT, "filled", trade_id="t-filled", quantity="10", price="100", ts_event=TS)
    ledger.cancel_intent(ACCOUNT, "canceled", ts_event=TS)
    ledger.record_cancel_accepted(ACCOUNT, "canceled", ts_event=TS)
    ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="100", reason="DEPOSIT", reference="dep-1", ts_event=TS)
    return ledger


def fill(intent_id: str | None = "live", **change: Any) -> Callable[[Ledger], object]:
    kwargs = {"trade_id": "t-new", "quantity": "1", "price": "100", "ts_event": TS, **change}
    return lambda ledger: ledger.record_fill(ACCOUNT, intent_id, **kwargs)


def place(**change: Any) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.place_intent(ACCOUNT, intent(**change))


def op(method: str, *args: Any, **kwargs: Any) -> Callable[[Ledger], object]:
    """`ledger.<method>(*args, **kwargs)`, at `TS` unless a `ts_event` is given."""
    kwargs.setdefault("ts_event", TS)
    return lambda ledger: getattr(ledger, method)(*args, **kwargs)


def open_account(account_id: str, **change: Any) -> Callable[[Ledger], object]:
    return op("open_account", account_id, **{"exchange": "TEST", "account_type": "SPOT", "base_currency": "USDT",
                                             **change})  # fmt: skip


def adjust(account_id: str = ACCOUNT, **change: Any) -> Callable[[Ledger], object]:
    return op("adjust_balance", account_id, **{"asset_id": "USDT", "amount": "1", "reason": "DEPOSIT", **change})


def amend(intent_id: str = "live", **change: Any) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.amend_intent(ACCOUNT, intent_id, order=spec(**change), ts_event=TS)


NON_FINITE = ["NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", float("nan"), float("inf"),
              Decimal("NaN"), Decimal("-Infinity")]  # fmt: skip
OUT_OF_BOUNDS = ["1e24", "9e999999", "1" * 25, "0." + "0" * 24 + "1", "1e-25", "1E-999999"]
BAD_TS = [-1, UINT64_MAX + 1, 1.5, 1e18, True, "1000", None]

CASES: list[tuple[str, Callable[[Ledger], object], str]] = [
    # the order specification
    ("zero quantity", place(quantity="0"), "order.quantity"),
    ("negative quantity", place(quantity="-1"), "order.quantity"),
    ("quantity not a number", place(quantity="ten"), "order.quantity"),
    ("boolean quantity", place(quantity=True), "order.quantity"),
    ("boolean price", place(price=False), "order.price"),
    ("limit without price", place(price=None), "order.price"),
    ("stop limit without price", place(order_type="STOP_LIMIT", price=None, stop_price="90"), "order.price"),
    ("market with price", place(order_type="MARKET"), "order.price"),
    ("stop without stop_price", place(order_type="STOP", price=None), "order.stop_price"),
    ("stop limit without stop_price", place(order_type="STOP_LIMIT"), "order.stop_price"),
    ("negative price", place(price="-100"), "order.price"),
    ("zero stop_price", place(order_type="STOP", price=None, stop_price="0"), "order.stop_price"),
    ("GTD without expire_at", place(time_in_force="GTD"), "order.expire_at"),
    ("post-only market", place(order_type="MARKET", price=None, post_only=True), "order.post_only"),
    ("unknown side", place(side="HOLD"), "order.side"),
    ("unknown order type", place(order_type="ICEBERG"), "order.order_type"),
    ("unknown time in force", place(time_in_force="GTX"), "order.time_in_force"),
    ("empty symbol", place(symbol=""), "order.symbol"),
    ("unknown field", place(colour="red"), "order.colour"),
    # what the order refers to
    ("unknown account", lambda led: led.place_intent("nobody", intent()), "account_id"),
    ("unknown symbol", place(symbol="DOGEUSDT"), "order.symbol"),
    ("duplicate intent id", lambda led: led.place_intent(ACCOUNT, intent("live")), "intent_id"),
    ("blank intent id", lambda led: led.place_intent(ACCOUNT, intent(" ")), "intent_id"),
    ("negative created_at", lambda led: led.place_intent(ACCOUNT, {**intent(), "created_at": -1}), "created_at"),
    ("created_at beyond 2^64-1", lambda led: led.place_intent(ACCOUNT, {**intent(), "created_at": 2**64}),
     "created_at"),
    ("fractional created_at", lambda led: led.place_intent(ACCOUNT, {**intent(), "created_at": 1.5}), "created_at"),
    # amends and cancels
    ("amend of a filled order", amend("filled", price="101"), "intent_id"),
    ("amend of a canceled order", amend("canceled", price="101"), "intent_id"),
    ("amend changing symbol", amend(symbol="ETHUSDT"), "order.symbol"),
    ("amend changing side", amend(side="SELL"), "order.side"),
    ("amend changing order type", amend(order_type="MARKET", price=None), "order.order_type"),
    ("amend below the filled quantity", amend(quantity="3"), "order.quantity"),
    ("amend to a zero quantity", amend(quantity="0"), "order.quantity"),
    ("amend to a NaN price", amend(price="NaN"), "order.price"),
    ("amend of an unknown intent", amend("ghost", price="101"), "intent_id"),
    ("cancel of a canceled order", op("cancel_intent", ACCOUNT, "canceled"), "intent_id"),
    ("cancel of an unknown intent", op("cancel_intent", ACCOUNT, "ghost"), "intent_id"),
    ("submission of an order already sent", op("start_submission", ACCOUNT, "live", client_order_id="other"),
     "client_order_id"),
    ("submission without a client order id", op("start_submission", ACCOUNT, "live", client_order_id=""),
     "client_order_id"),
    ("failed submission of an accepted order", op("fail_submission", ACCOUNT, "live", error="x"), "intent_id"),
    # exchange facts that cannot be recorded as given
    ("fill of an unknown intent", fill(intent_id="ghost"), "intent_id"),
    ("fill with no intent and no exchange order id", fill(intent_id=None), "exchange_order_id"),
    ("accept of an unknown intent", op("record_accepted", ACCOUNT, "ghost", exchange_order_id="E"), "intent_id"),
    ("accept on an unknown account", op("record_accepted", "nobody", "live", exchange_order_id="E"), "account_id"),
    ("accept without an exchange order id", op("record_accepted", ACCOUNT, "live", exchange_order_id=""),
     "exchange_order_id"),
    ("fill with a zero quantity", fill(quantity="0"), "quantity"),
    ("fill with a negative price", fill(price="-1"), "price"),
    ("fill with a boolean quantity", fill(quantity=True), "quantity"),
    ("fill with a list as price", fill(price=[100]), "price"),
    ("fee without fee_asset", fill(fee="0.1"), "fee_asset"),
    ("blank trade id", fill(trade_id=" "), "trade_id"),
    ("unknown liquidity", fill(liquidity="RETAIL"), "liquidity"),
    ("amend accepted with a zero quantity", op("record_amend_accepted", ACCOUNT, "live", quantity=0), "quantity"),
    # the account stream
    ("unknown account type", open_account("new", account_type="CASH"), "account_type"),
    ("blank exchange", open_account("new", exchange=""), "exchange"),
    ("blank base currency", open_account("new", base_currency=" "), "base_currency"),
    ("reopen with other settings", open_account(ACCOUNT, exchange="OTHER"), "account_id"),
    ("unknown adjustment reason", adjust(reason="GIFT"), "reason"),
    ("NaN adjustment", adjust(amount="NaN"), "amount"),
    ("boolean adjustment", adjust(amount=False), "amount"),
    ("adjustment of an unknown account", adjust("nobody"), "account_id"),
    ("asset of an unknown type", op("register_asset", ACCOUNT, {"asset_id": "X", "symbol": "X", "asset_type": "BOND",
                                                                "name": "X"}), "asset.asset_type"),  # fmt: skip
    ("zero mark price", op("record_mark_price", ACCOUNT, symbol_id=SYMBOL, price=0), "price"),
    ("infinite leverage", op("set_leverage", ACCOUNT, symbol_id=SYMBOL, leverage="Infinity"), "leverage"),
    ("negative locked balance", op("report_exchange_balances", ACCOUNT,
                                   balances=[{"asset_id": "USDT", "total": "1", "locked": "-1"}]),
     "balances[0].locked"),  # fmt: skip
]

CASES += [(f"non-finite quantity {v!r}", place(quantity=v), "order.quantity") for v in NON_FINITE]
CASES += [(f"non-finite price {v!r}", place(price=v), "order.price") for v in NON_FINITE]
CASES += [(f"non-finite fill quantity {v!r}", fill(quantity=v), "quantity") for v in NON_FINITE]
CASES += [(f"non-finite fill price {v!r}", fill(price=v), "price") for v in NON_FINITE]
CASES += [(f"non-finite fee {v!r}", fill(fee=v, fee_asset="USDT"), "fee") for v in NON_FINITE]
CASES += [(f"out-of-bounds quantity {v}", place(quantity=v), "order.quantity") for v in OUT_OF_BOUNDS]
CASES += [(f"out-of-bounds price {v}", place(price=v), "order.price") for v in OUT_OF_BOUNDS]
CASES += [(f"out-of-bounds fill quantity {v}", fill(quantity=v), "quantity") for v in OUT_OF_BOUNDS]
CASES += [(f"out-of-bounds fill price {v}", fill(price=v), "price") for v in OUT_OF_BOUNDS]
CASES += [(f"out-of-bounds fee {v}", fill(fee=v, fee_asset="USDT"), "fee") for v in OUT_OF_BOUNDS]
CASES += [(f"out-of-bounds adjustment {v}", adjust(amount=v), "amount") for v in OUT_OF_BOUNDS]
CASES += [(f"ts_event {v!r} on a fill", fill(ts_event=v), "ts_event") for v in BAD_TS]
CASES += [(f"ts_event {v!r} on a cancel", op("cancel_intent", ACCOUNT, "live", ts_event=v), "ts_event")
          for v in BAD_TS]  # fmt: skip
CASES += [(f"ts_event {v!r} on an amend", op("amend_intent", ACCOUNT, "live", order=spec(price="101"), ts_event=v),
           "ts_event") for v in BAD_TS]  # fmt: skip
CASES += [(f"ts_event {v!r} on an accept", op("record_accepted", ACCOUNT, "live", exchange_order_id="E", ts_event=v),
           "ts_event") for v in BAD_TS]  # fmt: skip
CASES += [(f"ts_event {v!r} on an account", open_account("new", ts_event=v), "ts_event") for v in BAD_TS]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_naming_the_field_and_nothing_recorded(ledger: Ledger, call: Callable[[Ledger], object],
                                                       field: str):  # fmt: skip
    head = ledger.head()
    with pytest.raises(RequestRefused) as refused:
        call(ledger)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: "), str(refused.value)
    assert "\n" not in str(refused.value), "one line"
    assert ledger.head() == head


CONFLICTS: list[tuple[str, Callable[[Ledger], object], str]] = [
    ("same trade id, other quantity", fill(trade_id="t-live", quantity="5"), "trade_id"),
    ("same trade id, other price", fill(trade_id="t-live", quantity="4", price="99"), "trade_id"),
    ("same balance reference, other amount", lambda led: led.adjust_balance(
        ACCOUNT, asset_id="USDT", amount="200", reason="DEPOSIT", reference="dep-1", ts_event=TS), "reference"),
]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in CONFLICTS], ids=[c[0] for c in CONFLICTS])
def test_conflicting_duplicate_is_refused_naming_its_key(ledger: Ledger, call: Callable[[Ledger], object],
                                                         field: str):  # fmt: skip
    head = ledger.head()
    with pytest.raises(ConflictingFact) as conflict:
        call(ledger)
    assert str(conflict.value).startswith(f"{field}: ")
    assert isinstance(conflict.value, LedgerError)
    assert ledger.head() == head


def test_exact_duplicates_are_not_errors(ledger: Ledger):
    head = ledger.head()
    assert fill(trade_id="t-live", quantity="4")(ledger) == ()
    assert ledger.adjust_balance(ACCOUNT, asset_id="USDT", amount="100", reason="DEPOSIT", reference="dep-1",
                                 ts_event=TS) == ()  # fmt: skip
    assert ledger.head() == head


def test_a_refused_command_in_a_batch_records_none_of_the_batch():
    ledger = memory_ledger()
    head = ledger.head()
    with pytest.raises(RequestRefused, match=r"^order\.quantity: "):
        with ledger.batch() as batch:
            batch.place_intent(ACCOUNT, intent("a"))
            batch.place_intent(ACCOUNT, intent("b", quantity="-1"))
    assert ledger.head() == head and ledger.order(ACCOUNT, "a") is None
    ledger.place_intent(ACCOUNT, intent("a"))  # the cached state did not keep the refused batch's intent
    assert ledger.order(ACCOUNT, "a").version == 1


@pytest.mark.parametrize("created_at", [True, False, 1.7e18, 1000.0])
def test_intent_timestamps_refuse_booleans_and_floats(created_at: object):
    ledger = memory_ledger()
    with pytest.raises(RequestRefused, match=r"^created_at: "):
        ledger.place_intent(ACCOUNT, {**intent(), "created_at": created_at})


def test_a_fill_too_large_for_the_ledger_is_refused_naming_the_field():
    ledger = memory_ledger()
    ledger.place_intent(ACCOUNT, intent("o"))
    with pytest.raises(RequestRefused, match=r"^(quantity|price): "):
        ledger.record_fill(ACCOUNT, "o", trade_id="t1", quantity="9e999999", price="9e999999", ts_event=TS)


def test_a_fact_whose_recording_failed_is_recorded_when_delivered_again(monkeypatch: pytest.MonkeyPatch):
    from kernel.order import Order

    ledger = memory_ledger()
    ledger.place_intent(ACCOUNT, intent("o"))
    record_effects = Order._record_effects

    def fail_once(self: Order, e: object) -> None:
        monkeypatch.setattr(Order, "_record_effects", record_effects)
        record_effects(self, e)
        raise ArithmeticError("boom")  # what a decimal trap raises mid-apply

    monkeypatch.setattr(Order, "_record_effects", fail_once)
    with pytest.raises(ArithmeticError):
        ledger.record_fill(ACCOUNT, "o", trade_id="t1", quantity="1", price="100", ts_event=TS)
    assert len(ledger.record_fill(ACCOUNT, "o", trade_id="t1", quantity="1", price="100", ts_event=TS)) == 1


def test_numbers_at_the_bounds_are_recorded_exactly():
    largest, finest = Decimal("9" * 24 + "." + "9" * 24), Decimal("0." + "0" * 23 + "1")
    ledger = memory_ledger()
    ledger.place_intent(ACCOUNT, intent("o", quantity=str(largest), price=str(largest)))
    (filled,) = ledger.record_fill(ACCOUNT, "o", trade_id="t1", quantity=finest, price=largest, ts_event=TS)
    assert (filled.quantity, filled.price) == (finest, largest)
    order = ledger.order(ACCOUNT, "o")
    exact = decimal.Context(prec=200)
    assert order.filled_notional == exact.multiply(finest, largest)
    assert order.remaining_quantity == exact.subtract(largest, finest)


@pytest.mark.parametrize("method, value", [("record_mark_price", {"price": "1"}), ("set_leverage", {"leverage": "5"})])
def test_marks_and_leverage_for_an_unregistered_symbol_are_refused(method: str, value: dict):
    ledger = memory_ledger()
    head = ledger.head()
    with pytest.raises(RequestRefused, match=r"^symbol_id: unknown symbol 'NOPE'"):
        getattr(ledger, method)(ACCOUNT, symbol_id="NOPE", ts_event=TS, **value)
    assert ledger.head() == head
