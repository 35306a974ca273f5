"""Regression tests for kernel bugs found while property-testing the order lifecycle.

Each test names the bug it pins; each failed before its fix.
"""

from __future__ import annotations

import decimal
import itertools
import re
from decimal import Decimal

import pytest

from kernel.errors import RequestRefused
from kernel.ledger import Ledger
from kernel.order import OVERFILL
from kernel.schema.order_spec import StandardOrderStatus as S

ACC, SYMBOL = "ACC", "BTCUSDT"


def _ledger() -> Ledger:
    ticks = itertools.count(1)
    ledger = Ledger.open("memory://", clock=lambda: next(ticks))
    ledger.open_account(ACC, exchange="X", account_type="SPOT", base_currency="USDT", ts_event=1)
    ledger.register_asset(ACC, {"asset_id": SYMBOL, "symbol": SYMBOL, "asset_type": "SPOT", "name": "BTC"},
                          ts_event=1)  # fmt: skip
    return ledger


def _live_order(ledger: Ledger, intent_id: str = "o1", quantity: str = "10", *, accept: bool = True) -> None:
    order = {"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT", "quantity": quantity, "price": "100"}
    ledger.place_intent(ACC, {"intent_id": intent_id, "order": order, "created_at": 10, "updated_at": 10})
    ledger.start_submission(ACC, intent_id, client_order_id=f"c-{intent_id}", ts_event=11)
    if accept:
        ledger.record_accepted(ACC, intent_id, exchange_order_id=f"E-{intent_id}", ts_event=12)


def test_cancel_rejected_after_a_fill_during_the_pending_cancel_is_partially_filled():
    """Rule.PREVIOUS went back to the status before the cancel (NEW) and forgot the fill heard while the
    cancel was pending: an order with filled quantity > 0 showed as NEW."""
    ledger = _ledger()
    _live_order(ledger)
    ledger.cancel_intent(ACC, "o1", ts_event=13)
    ledger.record_fill(ACC, "o1", trade_id="t1", quantity="3", price="100", ts_event=14)
    ledger.record_cancel_rejected(ACC, "o1", reason="busy", ts_event=15)
    order = ledger.order(ACC, "o1")
    assert order.filled_quantity == Decimal(3)
    assert order.status is S.PARTIALLY_FILLED


def test_amend_rejected_after_a_fill_during_the_pending_replace_is_partially_filled():
    ledger = _ledger()
    _live_order(ledger)
    ledger.amend_intent(ACC, "o1", order={"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT",
                                          "quantity": "10", "price": "101"}, ts_event=13)  # fmt: skip
    ledger.record_fill(ACC, "o1", trade_id="t1", quantity="4", price="100", ts_event=14)
    ledger.record_amend_rejected(ACC, "o1", reason="too late", ts_event=15)
    assert ledger.order(ACC, "o1").status is S.PARTIALLY_FILLED


def test_cancel_rejected_after_an_accept_during_the_pending_cancel_is_new():
    """Canceling a sent, not yet accepted order saves PENDING_NEW; the accept that arrives while the
    cancel is pending is absorbed. When the cancel then fails, Rule.PREVIOUS went back to PENDING_NEW
    (reconciliation SUBMITTING) although the exchange had accepted the order."""
    ledger = _ledger()
    _live_order(ledger, accept=False)
    ledger.cancel_intent(ACC, "o1", ts_event=13)
    ledger.record_accepted(ACC, "o1", exchange_order_id="E-o1", ts_event=14)
    ledger.record_cancel_rejected(ACC, "o1", reason="busy", ts_event=15)
    state = ledger.order_state(ACC, "o1")
    assert state.status is S.NEW
    assert state.reconciliation_status == "ACTIVE"


def test_cancel_rejected_before_any_answer_goes_back_to_pending_new():
    ledger = _ledger()
    _live_order(ledger, accept=False)
    ledger.cancel_intent(ACC, "o1", ts_event=13)
    ledger.record_cancel_rejected(ACC, "o1", reason="unknown order", ts_event=14)
    assert ledger.order(ACC, "o1").status is S.PENDING_NEW


def test_amend_accepted_below_the_filled_quantity_is_flagged_as_overfill():
    """'filled <= quantity unless flagged': the overfill check ran on fills only, so an amend the exchange
    accepted below what had filled meanwhile left filled > quantity with no flag."""
    ledger = _ledger()
    _live_order(ledger)
    ledger.record_fill(ACC, "o1", trade_id="t1", quantity="5", price="100", ts_event=13)
    ledger.amend_intent(ACC, "o1", order={"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT",
                                          "quantity": "6", "price": "100"}, ts_event=14)  # fmt: skip
    ledger.record_fill(ACC, "o1", trade_id="t2", quantity="2", price="100", ts_event=15)
    ledger.record_amend_accepted(ACC, "o1", quantity="6", price="100", ts_event=16)
    order = ledger.order(ACC, "o1")
    assert (order.filled_quantity, order.quantity, order.status) == (Decimal(7), Decimal(6), S.FILLED)
    assert OVERFILL in order.anomalies


def test_a_reject_that_crosses_a_cancel_request_rejects_the_order():
    """Sent, then canceled before any answer: the exchange rejects the new order before it sees the cancel.
    (PENDING_CANCEL, OrderRejected) was off the table, so the reject only raised a flag; the cancel then
    failed ('unknown order') and the rejected order showed as PENDING_NEW / SUBMITTING for ever."""
    ledger = _ledger()
    _live_order(ledger, accept=False)
    ledger.cancel_intent(ACC, "o1", ts_event=13)
    ledger.record_rejected(ACC, "o1", reason="insufficient balance", ts_event=14)
    ledger.record_cancel_rejected(ACC, "o1", reason="unknown order", ts_event=15)
    state = ledger.order_state(ACC, "o1")
    assert (state.status, state.reconciliation_status) == (S.REJECTED, "FAILED")
    assert not [a for a in ledger.order(ACC, "o1").anomalies if a.startswith("unexpected:OrderRejected")]


def test_a_rejected_order_keeps_the_reason_it_failed():
    """`error_message` is the FAILED order's explanation; a later cancel or amend rejection (here the answer to
    a cancel the exchange never saw the order for) replaced 'rejected: <why>' with 'cancel rejected: ...'."""
    ledger = _ledger()
    _live_order(ledger, accept=False)
    ledger.cancel_intent(ACC, "o1", ts_event=13)
    ledger.record_rejected(ACC, "o1", reason="insufficient balance", ts_event=14)
    ledger.record_cancel_rejected(ACC, "o1", reason="unknown order", ts_event=15)
    ledger.record_amend_rejected(ACC, "o1", reason="unknown order", ts_event=16)
    assert ledger.order_state(ACC, "o1").error_message == "rejected: insufficient balance"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"quantity": "1e30"}, "order.quantity"), ({"quantity": "0." + "0" * 29 + "1"}, "order.quantity"),
     ({"price": "1e25"}, "order.price"), ({"order_type": "STOP_LIMIT", "stop_price": "1e-25"}, "order.stop_price")],
)  # fmt: skip
def test_intent_numbers_are_held_to_the_input_bounds_of_fills(change: dict, field: str):
    """Fills are refused beyond 24 integer digits or 24 decimal places, but intents were not: an intent for
    0.000...0001 (30 places) was recorded although no fill could ever complete it."""
    ledger = _ledger()
    order = {"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT", "quantity": "10", "price": "100", **change}
    head = ledger.head()
    with pytest.raises(RequestRefused, match=rf"^{re.escape(field)}: "):
        ledger.place_intent(ACC, {"intent_id": "big", "order": order, "created_at": 10, "updated_at": 10})
    _live_order(ledger)
    with pytest.raises(RequestRefused, match=rf"^{re.escape(field)}: "):
        ledger.amend_intent(ACC, "o1", order=order, ts_event=13)
    with pytest.raises(RequestRefused, match=rf"^{re.escape(field)}: "):
        ledger.record_fill(ACC, None, trade_id="x1", quantity="1", price="100", exchange_order_id="X1", order=order,
                           ts_event=14)  # fmt: skip
    assert ledger.head() == head + 3  # the live order's place, submit and accept only


def test_fills_sum_exactly_at_the_input_bounds():
    """The order's sums followed the thread's decimal context (28 digits by default), so fills of bounded inputs
    (up to 24 + 24 digits) were rounded: 100000 + 0.000000000000000000000001 did not fill 100000.000...001."""
    ledger = _ledger()
    _live_order(ledger, quantity="100000." + "0" * 23 + "1")
    ledger.record_fill(ACC, "o1", trade_id="t1", quantity="100000", price="100", ts_event=13)
    ledger.record_fill(ACC, "o1", trade_id="t2", quantity="0." + "0" * 23 + "1", price="100", ts_event=14)
    order = ledger.order(ACC, "o1")
    assert order.status is S.FILLED and order.remaining_quantity == 0 and OVERFILL not in order.anomalies


def test_order_arithmetic_does_not_depend_on_the_callers_decimal_context():
    largest, finest = "9" * 24, "0." + "0" * 23 + "1"
    with decimal.localcontext(decimal.Context(prec=5)):
        ledger = _ledger()
        _live_order(ledger, quantity="1.234567")
        ledger.record_fill(ACC, "o1", trade_id="t1", quantity="1", price=largest, ts_event=13)
        ledger.record_fill(ACC, "o1", trade_id="t2", quantity="0.234567", price=finest, ts_event=14)
        order = ledger.order(ACC, "o1")
        assert (order.status, order.filled_quantity) == (S.FILLED, Decimal("1.234567"))
        notional = order.filled_notional
    wide = decimal.Context(prec=200)
    assert notional == wide.add(Decimal(largest), wide.multiply(Decimal("0.234567"), Decimal(finest)))
