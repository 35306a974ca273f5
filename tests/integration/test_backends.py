"""One behaviour suite, run on memory://, a SQLite file and a PostgreSQL schema (`store_url`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kernel import events as ev
from kernel.errors import ConflictingFact, RequestRefused
from kernel.exchange.models import ReconciliationStatus as R
from kernel.order import EXTERNAL_ORDER, FILL_AFTER_CANCEL, OVERFILL
from kernel.schema.order_spec import StandardOrderStatus as S

from .helpers import (
    ACCOUNT,
    SYMBOL,
    D,
    assert_nothing_recorded,
    intent,
    live_order,
    names,
    order_spec,
)


# ------------------------------------------------------------------------------------ account stream
def test_open_account_and_register_instrument(store_url, open_ledger):
    ledger = open_ledger(store_url)
    assert ledger.head() == 0
    opened = ledger.open_account(ACCOUNT, exchange="binance", account_type="SPOT", base_currency="USDT",
                                 ts_event=1)  # fmt: skip
    assert names(opened) == ["AccountOpened"]
    # The same account opened again with the same settings is the same fact: nothing new.
    assert ledger.open_account(ACCOUNT, exchange="binance", account_type="SPOT", base_currency="USDT",
                               ts_event=5) == ()  # fmt: skip
    with pytest.raises(RequestRefused, match="already open with other settings"):
        ledger.open_account(ACCOUNT, exchange="binance", account_type="MARGIN", base_currency="USDT", ts_event=6)
    registered = ledger.register_asset(
        ACCOUNT, {"asset_id": SYMBOL, "symbol": SYMBOL, "asset_type": "SPOT", "name": "Bitcoin",
                  "tick_size": "0.01"}, ts_event=2, base_asset="BTC", quote_asset="USDT")  # fmt: skip
    assert names(registered) == ["AssetRegistered"]
    assert ledger.head() == 2

    account = ledger.account(ACCOUNT)
    assert account is not None and account.exists
    assert account.opened.account_type is ev.AccountType.SPOT
    spec = account.instrument(SYMBOL)
    assert (spec.base_asset, spec.quote_asset, spec.tick_size) == ("BTC", "USDT", Decimal("0.01"))
    assert ledger.account("nobody") is None


def test_register_asset_on_unknown_account_is_refused(store_url, open_ledger):
    ledger = open_ledger(store_url)
    with pytest.raises(RequestRefused, match="unknown account"):
        ledger.register_asset("ghost", {"asset_id": "X", "symbol": "X", "asset_type": "SPOT", "name": "x"},
                              ts_event=1)  # fmt: skip
    assert_nothing_recorded(ledger, 0)


# ------------------------------------------------------------------------------------ intents
def test_place_intent(ledger):
    placed = ledger.place_intent(ACCOUNT, intent("i1", "0.5", "100.25", group_id="g1", metadata={"k": 1}))
    assert names(placed) == ["IntentPlaced"]
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.PENDING_NEW
    assert order.intent.quantity == D("0.5") and order.intent.price == D("100.25")
    assert (order.group_id, order.metadata) == ("g1", {"k": 1})
    state = ledger.order_state(ACCOUNT, "i1")
    assert state.status is S.PENDING_NEW
    assert state.reconciliation_status is R.PENDING
    assert state.exchange_order_id == ""
    assert ledger.order(ACCOUNT, "unknown") is None
    assert ledger.order_state(ACCOUNT, "unknown") is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (intent("i1", "-1"), "order.quantity"),
        (intent("i1", "0"), "order.quantity"),
        ({**intent("i1"), "order": order_spec(order_type="LIMIT", price=None)}, "order.price"),
        (intent("i1", "NaN"), "order.quantity"),
        (intent("i1", symbol="DOGEUSDT"), "order.symbol"),
    ],
)
def test_refused_intents_record_nothing(ledger, bad, field):
    head = ledger.head()
    with pytest.raises(RequestRefused) as refused:
        ledger.place_intent(ACCOUNT, bad)
    assert refused.value.field == field
    assert_nothing_recorded(ledger, head)


def test_placing_the_same_intent_twice_is_refused(ledger):
    ledger.place_intent(ACCOUNT, intent("i1"))
    head = ledger.head()
    with pytest.raises(RequestRefused, match="already exists"):
        ledger.place_intent(ACCOUNT, intent("i1"))
    assert_nothing_recorded(ledger, head)


def test_submission(ledger):
    ledger.place_intent(ACCOUNT, intent("i1"))
    assert names(ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=11)) == ["SubmissionStarted"]
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.PENDING_NEW, R.SUBMITTING)
    head = ledger.head()
    assert ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=12) == ()
    with pytest.raises(RequestRefused, match="already submitted"):
        ledger.start_submission(ACCOUNT, "i1", client_order_id="c2", ts_event=12)
    assert_nothing_recorded(ledger, head)
    assert ledger.order(ACCOUNT, "i1").client_order_id == "c1"


def test_submission_failed(ledger):
    ledger.place_intent(ACCOUNT, intent("i1"))
    with pytest.raises(RequestRefused, match="never submitted"):
        ledger.fail_submission(ACCOUNT, "i1", error="timeout", ts_event=11)
    ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=11)
    ledger.fail_submission(ACCOUNT, "i1", error="timeout", ts_event=12)
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.REJECTED, R.FAILED)
    assert state.error_message == "submission failed: timeout"


# ------------------------------------------------------------------------------------ exchange facts
def test_accept(ledger):
    ledger.place_intent(ACCOUNT, intent("i1"))
    ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=11)
    assert names(ledger.record_accepted(ACCOUNT, "i1", exchange_order_id="X1", ts_event=12)) == ["OrderAccepted"]
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.NEW, R.ACTIVE)
    assert state.exchange_order_id == "X1"
    assert state.last_sync_at == 12
    head = ledger.head()
    assert ledger.record_accepted(ACCOUNT, "i1", exchange_order_id="X1", ts_event=13) == ()
    assert_nothing_recorded(ledger, head)


def test_partial_fills_sum_exactly(ledger):
    live_order(ledger, "i1", "0.3", "101")
    first = ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.1", price="100", ts_event=20,
                               fee="0.0001", fee_asset="BTC", liquidity="MAKER")  # fmt: skip
    assert names(first) == ["OrderFilled"]
    assert first[0].quantity == D("0.1") and first[0].fee == D("0.0001")
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.PARTIALLY_FILLED
    assert order.filled_quantity == D("0.1")
    assert order.remaining_quantity == D("0.2")

    ledger.record_fill(ACCOUNT, "i1", trade_id="t2", quantity=0.2, price="101", ts_event=21,
                       fee="0.0002", fee_asset="BTC")  # fmt: skip
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.FILLED
    assert order.filled_quantity == D("0.3")  # 0.1 + 0.2 == 0.3, exactly
    assert order.remaining_quantity == D("0")
    assert order.average_fill_price == D("30.2") / D("0.3")
    assert order.fees == {"BTC": D("0.0003")}
    assert order.fills == {"t1": (D("0.1"), D("100")), "t2": (D("0.2"), D("101"))}
    assert order.anomalies == []
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.FILLED, R.COMPLETED)


def test_duplicate_fill_records_nothing(ledger):
    live_order(ledger, "i1", "1")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.25", price="100", ts_event=20)
    head = ledger.head()
    again = ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.250", price="100.0", ts_event=25)
    assert again == ()  # same trade, same numbers (0.250 == 0.25): the same fact
    assert_nothing_recorded(ledger, head)
    order = ledger.order(ACCOUNT, "i1")
    assert order.filled_quantity == D("0.25")
    assert order.status is S.PARTIALLY_FILLED


def test_conflicting_duplicate_is_refused_and_records_nothing(ledger):
    live_order(ledger, "i1", "1")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.25", price="100", ts_event=20)
    head = ledger.head()
    with pytest.raises(ConflictingFact, match="'t1' was recorded as 0.25 @ 100, now reported as 0.5 @ 100"):
        ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=21)
    with pytest.raises(ConflictingFact):
        ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.25", price="99", ts_event=21)
    assert_nothing_recorded(ledger, head)
    assert ledger.order(ACCOUNT, "i1").filled_quantity == D("0.25")
    # ... and the same ledger still records the next real fill.
    assert names(ledger.record_fill(ACCOUNT, "i1", trade_id="t2", quantity="0.75", price="100",
                                    ts_event=22)) == ["OrderFilled"]  # fmt: skip
    assert ledger.order(ACCOUNT, "i1").status is S.FILLED


def test_fill_before_accept_then_late_accept(ledger):
    ledger.place_intent(ACCOUNT, intent("i1", "1"))
    ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=11)
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.4", price="100", ts_event=12)
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.PARTIALLY_FILLED  # a fill implies the accept
    assert order.exchange_order_id == ""
    late = ledger.record_accepted(ACCOUNT, "i1", exchange_order_id="X1", ts_event=13)
    assert names(late) == ["OrderAccepted"]  # recorded, absorbed
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.PARTIALLY_FILLED
    assert order.exchange_order_id == "X1"
    assert order.filled_quantity == D("0.4")
    assert order.anomalies == []


def test_fill_of_the_whole_order_before_accept(ledger):
    ledger.place_intent(ACCOUNT, intent("i1", "1"))
    ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=11)
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=12)
    ledger.record_accepted(ACCOUNT, "i1", exchange_order_id="X1", ts_event=13)
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status, state.exchange_order_id) == (S.FILLED, R.COMPLETED, "X1")


def test_cancel(ledger):
    live_order(ledger, "i1", "1")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.3", price="100", ts_event=20)
    assert names(ledger.cancel_intent(ACCOUNT, "i1", ts_event=21, reason="stop")) == ["IntentCanceled"]
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.PENDING_CANCEL, R.RECONCILING)
    assert names(ledger.record_cancel_accepted(ACCOUNT, "i1", ts_event=22)) == ["CancelAccepted"]
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.CANCELED
    assert order.order_state().reconciliation_status is R.CANCELED
    assert order.remaining_quantity == D("0")
    assert order.filled_quantity == D("0.3")
    head = ledger.head()
    assert ledger.record_cancel_accepted(ACCOUNT, "i1", ts_event=23) == ()
    with pytest.raises(RequestRefused, match="cannot cancel"):
        ledger.cancel_intent(ACCOUNT, "i1", ts_event=24)
    assert_nothing_recorded(ledger, head)


def test_cancel_before_submission_is_immediate(ledger):
    ledger.place_intent(ACCOUNT, intent("i1"))
    ledger.cancel_intent(ACCOUNT, "i1", ts_event=11)
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.CANCELED, R.CANCELED)
    with pytest.raises(RequestRefused):
        ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=12)


def test_fill_after_cancel_is_recorded_and_flagged(ledger):
    live_order(ledger, "i1", "1")
    ledger.cancel_intent(ACCOUNT, "i1", ts_event=20)
    ledger.record_cancel_accepted(ACCOUNT, "i1", ts_event=21)
    late = ledger.record_fill(ACCOUNT, "i1", trade_id="t9", quantity="0.6", price="99.5", ts_event=19)
    assert names(late) == ["OrderFilled"]  # a fact is never dropped
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.CANCELED
    assert order.filled_quantity == D("0.6")
    assert FILL_AFTER_CANCEL in order.anomalies
    # the rest of the order fills after the cancel too: the exchange matched it all first
    ledger.record_fill(ACCOUNT, "i1", trade_id="t10", quantity="0.4", price="99.5", ts_event=19)
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.FILLED
    assert order.filled_quantity == D("1.0")


def test_overfill_is_recorded_and_flagged(ledger):
    live_order(ledger, "i1", "1")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="1", price="100", ts_event=20)
    assert names(ledger.record_fill(ACCOUNT, "i1", trade_id="t2", quantity="0.1", price="100",
                                    ts_event=21)) == ["OrderFilled"]  # fmt: skip
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.FILLED
    assert order.filled_quantity == D("1.1")
    assert OVERFILL in order.anomalies


def test_amend_accepted(ledger):
    live_order(ledger, "i1", "1", "100")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20)
    amended = ledger.amend_intent(ACCOUNT, "i1", order=order_spec("2", "99.5"), ts_event=21)
    assert names(amended) == ["IntentAmended"]
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.PENDING_REPLACE, R.RECONCILING)
    ledger.record_amend_accepted(ACCOUNT, "i1", quantity="2", price="99.5", ts_event=22)
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.PARTIALLY_FILLED
    assert (order.exchange_quantity, order.exchange_price) == (D("2"), D("99.5"))
    assert order.remaining_quantity == D("1.5")
    assert order.order_state().reconciliation_status is R.ACTIVE
    head = ledger.head()
    assert ledger.record_amend_accepted(ACCOUNT, "i1", quantity="2", price="99.5", ts_event=23) == ()
    assert_nothing_recorded(ledger, head)


def test_amend_refusals_record_nothing(ledger):
    live_order(ledger, "i1", "1", "100")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20)
    head = ledger.head()
    with pytest.raises(RequestRefused) as below:
        ledger.amend_intent(ACCOUNT, "i1", order=order_spec("0.4", "100"), ts_event=21)
    assert below.value.field == "order.quantity"
    with pytest.raises(RequestRefused) as side:
        ledger.amend_intent(ACCOUNT, "i1", order=order_spec("1", "100", side="SELL"), ts_event=21)
    assert side.value.field == "order.side"
    assert ledger.amend_intent(ACCOUNT, "i1", order=order_spec("1", "100"), ts_event=21) == ()  # no change
    assert_nothing_recorded(ledger, head)


def test_amend_rejected_goes_back(ledger):
    live_order(ledger, "i1", "1", "100")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.5", price="100", ts_event=20)
    ledger.amend_intent(ACCOUNT, "i1", order=order_spec("3", "100"), ts_event=21)
    assert ledger.order(ACCOUNT, "i1").status is S.PENDING_REPLACE
    assert names(ledger.record_amend_rejected(ACCOUNT, "i1", reason="too big", ts_event=22)) == ["AmendRejected"]
    order = ledger.order(ACCOUNT, "i1")
    assert order.status is S.PARTIALLY_FILLED
    assert order.error_message == "amend rejected: too big"
    assert order.exchange_quantity == D("1")
    # the intent (3) and the exchange (1) disagree until the strategy amends again
    assert order.order_state().reconciliation_status is R.RECONCILING
    head = ledger.head()
    assert ledger.record_amend_rejected(ACCOUNT, "i1", reason="too big", ts_event=23) == ()
    assert_nothing_recorded(ledger, head)


def test_reject(ledger):
    ledger.place_intent(ACCOUNT, intent("i1"))
    ledger.start_submission(ACCOUNT, "i1", client_order_id="c1", ts_event=11)
    rejected = ledger.record_rejected(ACCOUNT, "i1", reason="insufficient balance", ts_event=12,
                                      exchange_order_id="X1")  # fmt: skip
    assert names(rejected) == ["OrderRejected"]
    state = ledger.order_state(ACCOUNT, "i1")
    assert (state.status, state.reconciliation_status) == (S.REJECTED, R.FAILED)
    assert state.error_message == "rejected: insufficient balance"
    assert state.exchange_order_id == "X1"
    head = ledger.head()
    with pytest.raises(RequestRefused, match="cannot cancel"):
        ledger.cancel_intent(ACCOUNT, "i1", ts_event=13)
    with pytest.raises(RequestRefused, match="cannot amend"):
        ledger.amend_intent(ACCOUNT, "i1", order=order_spec("2"), ts_event=13)
    assert_nothing_recorded(ledger, head)


def test_expired(ledger):
    live_order(ledger, "i1", "1")
    ledger.record_fill(ACCOUNT, "i1", trade_id="t1", quantity="0.2", price="100", ts_event=20)
    ledger.record_expired(ACCOUNT, "i1", ts_event=21)
    order = ledger.order(ACCOUNT, "i1")
    assert (order.status, order.remaining_quantity, order.filled_quantity) == (S.EXPIRED, D("0"), D("0.2"))
    assert order.order_state().reconciliation_status is R.CANCELED


def test_external_order(ledger):
    spec = order_spec("2", "50", side="SELL")
    recorded = ledger.record_fill(ACCOUNT, None, trade_id="t1", quantity="0.5", price="50", ts_event=30,
                                  exchange_order_id="EX9", order=spec)  # fmt: skip
    assert names(recorded) == ["ExternalOrderDiscovered", "OrderFilled"]
    assert recorded[0].intent_id == recorded[1].intent_id == "ext:EX9"
    order = ledger.order(ACCOUNT, "ext:EX9")
    assert order.external
    assert order.status is S.PARTIALLY_FILLED
    assert order.exchange_order_id == "EX9"
    assert order.filled_quantity == D("0.5")
    assert order.quantity == D("2")
    assert EXTERNAL_ORDER in order.anomalies
    state = order.order_state()
    assert (state.exchange_order_id, state.reconciliation_status) == ("EX9", R.ACTIVE)
    head = ledger.head()
    assert ledger.record_fill(ACCOUNT, None, trade_id="t1", quantity="0.5", price="50", ts_event=30,
                              exchange_order_id="EX9", order=spec) == ()  # fmt: skip
    assert_nothing_recorded(ledger, head)
    ledger.record_fill(ACCOUNT, None, trade_id="t2", quantity="1.5", price="51", ts_event=31,
                       exchange_order_id="EX9")  # fmt: skip  (known now: no spec needed)
    order = ledger.order(ACCOUNT, "ext:EX9")
    assert (order.status, order.filled_quantity, order.version) == (S.FILLED, D("2.0"), 3)


def test_unknown_order_fill_without_spec_is_refused(ledger):
    head = ledger.head()
    with pytest.raises(RequestRefused) as refused:
        ledger.record_fill(ACCOUNT, None, trade_id="t1", quantity="1", price="1", ts_event=1,
                           exchange_order_id="EX1")  # fmt: skip
    assert refused.value.field == "intent_id"
    with pytest.raises(RequestRefused) as no_id:
        ledger.record_fill(ACCOUNT, None, trade_id="t1", quantity="1", price="1", ts_event=1)
    assert no_id.value.field == "exchange_order_id"
    assert_nothing_recorded(ledger, head)
