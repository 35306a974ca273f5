"""The lifecycle table, row by row: every allowed (status, event) pair moves an order built from real
events to the row's target; every pair off the table is refused (a request) or recorded, flagged and
left without effect on the status (a fact)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest

from kernel import events as ev
from kernel.errors import RequestRefused
from kernel.exchange.models import ReconciliationStatus as R
from kernel.ledger import Ledger
from kernel.lifecycle import REQUESTS, TRANSITIONS, Rule, reconciliation
from kernel.order import FILL_AFTER_CANCEL, OVERFILL
from kernel.schema.order_spec import StandardOrderStatus as S
from kernel.testing import ACCOUNT, invariants, memory_ledger

OID = "o1"
SYMBOL = "BTCUSDT"
FACTS = ("OrderAccepted", "OrderRejected", "AmendAccepted", "AmendRejected", "CancelAccepted", "CancelRejected",
         "OrderExpired", "OrderFilled", "ExecutionReported")  # fmt: skip
EVENTS = tuple(sorted(REQUESTS)) + FACTS


def spec(quantity: str = "10", price: str = "100") -> dict:
    return {"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT", "quantity": quantity, "price": price}


class Driver:
    """Drives one order through the ledger; every fact gets a fresh exec id / trade id, so none is
    mistaken for a duplicate of an earlier one."""

    def __init__(self) -> None:
        self.ledger: Ledger = memory_ledger()
        self._ids = itertools.count(1)
        self._ts = itertools.count(100)

    def kw(self, **extra: object) -> dict:
        return {"ts_event": next(self._ts), **extra}

    def exec_id(self) -> str:
        return f"x{next(self._ids)}"

    # requests
    def place(self) -> None:
        self.ledger.place_intent(ACCOUNT, {"intent_id": OID, "order": spec(), "created_at": 1, "updated_at": 1})

    def IntentAmended(self) -> None:
        self.ledger.amend_intent(ACCOUNT, OID, order=spec("12", "102"), **self.kw())

    def amend_price(self) -> None:
        self.ledger.amend_intent(ACCOUNT, OID, order=spec("10", "101"), **self.kw())

    def IntentCanceled(self) -> None:
        self.ledger.cancel_intent(ACCOUNT, OID, **self.kw(reason="test"))

    def submit(self) -> None:
        self.ledger.start_submission(ACCOUNT, OID, **self.kw(client_order_id="c-1"))

    def SubmissionStarted(self) -> None:
        self.ledger.start_submission(ACCOUNT, OID, **self.kw(client_order_id=f"c-{next(self._ids)}"))

    def SubmissionFailed(self) -> None:
        self.ledger.fail_submission(ACCOUNT, OID, **self.kw(error="socket closed"))

    # facts
    def OrderAccepted(self) -> None:
        self.ledger.record_accepted(ACCOUNT, OID, **self.kw(exchange_order_id="E1", exec_id=self.exec_id()))

    def OrderRejected(self) -> None:
        self.ledger.record_rejected(ACCOUNT, OID, **self.kw(reason="no funds", exec_id=self.exec_id()))

    def AmendAccepted(self, quantity: str = "10") -> None:
        self.ledger.record_amend_accepted(ACCOUNT, OID, **self.kw(quantity=quantity, price="101",
                                                                  exec_id=self.exec_id()))  # fmt: skip

    def AmendRejected(self) -> None:
        self.ledger.record_amend_rejected(ACCOUNT, OID, **self.kw(reason="no", exec_id=self.exec_id()))

    def CancelAccepted(self) -> None:
        self.ledger.record_cancel_accepted(ACCOUNT, OID, **self.kw(exec_id=self.exec_id()))

    def CancelRejected(self) -> None:
        self.ledger.record_cancel_rejected(ACCOUNT, OID, **self.kw(reason="no", exec_id=self.exec_id()))

    def OrderExpired(self) -> None:
        self.ledger.record_expired(ACCOUNT, OID, **self.kw(exec_id=self.exec_id()))

    def OrderFilled(self, quantity: str = "3") -> None:
        self.ledger.record_fill(ACCOUNT, OID, **self.kw(trade_id=f"t{next(self._ids)}", quantity=quantity,
                                                        price="100"))  # fmt: skip

    def ExecutionReported(self) -> None:
        report = ev.ExecutionReported(account_id=ACCOUNT, intent_id=OID, exec_type=ev.ReportKind.RESTATED,
                                      exec_id=self.exec_id(), ts_recorded=0, **self.kw())  # fmt: skip
        self.ledger.record_exchange_fact(report)

    def fill(self, quantity: str) -> Callable[[], None]:
        return lambda: self.OrderFilled(quantity)

    def do(self, event_name: str) -> None:
        getattr(self, event_name)()

    @property
    def order(self):
        return self.ledger.order(ACCOUNT, OID)


def build(status: S, *, sent: bool = True) -> Driver:
    """An order in `status`, reached through real events (PENDING_NEW: sent and unanswered, or not
    sent at all when `sent` is false)."""
    d = Driver()
    live = [d.place, d.submit, d.OrderAccepted]
    steps: dict[S, list[Callable[[], None]]] = {
        S.PENDING_NEW: [d.place, d.submit] if sent else [d.place],
        S.NEW: live,
        S.PARTIALLY_FILLED: [*live, d.fill("4")],
        S.FILLED: [*live, d.fill("4"), d.fill("6")],
        S.PENDING_CANCEL: [*live, d.IntentCanceled],
        S.CANCELED: [*live, d.IntentCanceled, d.CancelAccepted],
        S.PENDING_REPLACE: [*live, d.amend_price],
        S.REJECTED: [d.place, d.submit, d.OrderRejected],
        S.EXPIRED: [*live, d.OrderExpired],
    }
    for step in steps[status]:
        step()
    assert d.order.status is status, f"recipe for {status} ended in {d.order.status}"
    return d


# Every row's target, resolved for the recipes above (the applied event: amend to 12 @ 102, an amend
# accepted at 10, a fill of 3 against 10 with 4 already filled when PARTIALLY_FILLED).
EXPECTED: dict[tuple[S, str], S] = {
    (S.PENDING_NEW, "IntentAmended"): S.PENDING_NEW,
    (S.NEW, "IntentAmended"): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, "IntentAmended"): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, "IntentAmended"): S.PENDING_REPLACE,
    (S.PENDING_NEW, "IntentCanceled"): S.PENDING_CANCEL,  # CANCEL_REQUESTED of a sent order
    (S.NEW, "IntentCanceled"): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, "IntentCanceled"): S.PENDING_CANCEL,
    (S.PENDING_REPLACE, "IntentCanceled"): S.PENDING_CANCEL,
    (S.PENDING_NEW, "SubmissionStarted"): S.PENDING_NEW,  # of an unsent order
    (S.PENDING_NEW, "SubmissionFailed"): S.REJECTED,
    (S.PENDING_NEW, "OrderAccepted"): S.NEW,
    (S.NEW, "OrderAccepted"): S.NEW,
    (S.PARTIALLY_FILLED, "OrderAccepted"): S.PARTIALLY_FILLED,
    (S.FILLED, "OrderAccepted"): S.FILLED,
    (S.PENDING_CANCEL, "OrderAccepted"): S.PENDING_CANCEL,
    (S.PENDING_REPLACE, "OrderAccepted"): S.PENDING_REPLACE,
    (S.CANCELED, "OrderAccepted"): S.CANCELED,
    (S.EXPIRED, "OrderAccepted"): S.EXPIRED,
    (S.PENDING_NEW, "OrderRejected"): S.REJECTED,
    (S.PENDING_CANCEL, "OrderRejected"): S.REJECTED,
    (S.NEW, "OrderRejected"): S.REJECTED,
    (S.PENDING_CANCEL, "AmendAccepted"): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, "AmendRejected"): S.PENDING_CANCEL,
    (S.PENDING_NEW, "AmendAccepted"): S.NEW,  # BY_FILLS: nothing filled
    (S.NEW, "AmendAccepted"): S.NEW,
    (S.PARTIALLY_FILLED, "AmendAccepted"): S.PARTIALLY_FILLED,  # 4 of 10
    (S.PENDING_REPLACE, "AmendAccepted"): S.NEW,
    (S.PENDING_NEW, "AmendRejected"): S.PENDING_NEW,
    (S.NEW, "AmendRejected"): S.NEW,
    (S.PARTIALLY_FILLED, "AmendRejected"): S.PARTIALLY_FILLED,
    (S.PENDING_REPLACE, "AmendRejected"): S.NEW,  # PREVIOUS
    (S.FILLED, "AmendRejected"): S.FILLED,
    (S.PENDING_NEW, "CancelAccepted"): S.CANCELED,
    (S.NEW, "CancelAccepted"): S.CANCELED,
    (S.PARTIALLY_FILLED, "CancelAccepted"): S.CANCELED,
    (S.PENDING_CANCEL, "CancelAccepted"): S.CANCELED,
    (S.PENDING_REPLACE, "CancelAccepted"): S.CANCELED,
    (S.CANCELED, "CancelAccepted"): S.CANCELED,
    (S.NEW, "CancelRejected"): S.NEW,
    (S.PARTIALLY_FILLED, "CancelRejected"): S.PARTIALLY_FILLED,
    (S.PENDING_CANCEL, "CancelRejected"): S.NEW,  # PREVIOUS
    (S.FILLED, "CancelRejected"): S.FILLED,
    (S.CANCELED, "CancelRejected"): S.CANCELED,
    (S.EXPIRED, "CancelRejected"): S.EXPIRED,
    (S.REJECTED, "CancelRejected"): S.REJECTED,
    (S.PENDING_NEW, "OrderExpired"): S.EXPIRED,
    (S.NEW, "OrderExpired"): S.EXPIRED,
    (S.PARTIALLY_FILLED, "OrderExpired"): S.EXPIRED,
    (S.PENDING_CANCEL, "OrderExpired"): S.EXPIRED,
    (S.PENDING_REPLACE, "OrderExpired"): S.EXPIRED,
    (S.PENDING_NEW, "OrderFilled"): S.PARTIALLY_FILLED,  # BY_FILLS: a fill implies the accept
    (S.NEW, "OrderFilled"): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, "OrderFilled"): S.PARTIALLY_FILLED,  # 7 of 10
    (S.PENDING_CANCEL, "OrderFilled"): S.PENDING_CANCEL,  # FILLED_OR_SAME, 3 of 10
    (S.PENDING_REPLACE, "OrderFilled"): S.PENDING_REPLACE,
    (S.CANCELED, "OrderFilled"): S.CANCELED,
    (S.EXPIRED, "OrderFilled"): S.EXPIRED,
    (S.FILLED, "OrderFilled"): S.FILLED,  # an overfill
    **{(status, "ExecutionReported"): status for status in S},  # changes nothing the ledger keeps
}


def test_every_row_has_an_expected_target():
    assert set(EXPECTED) == set(TRANSITIONS)
    for key, target in TRANSITIONS.items():
        if isinstance(target, S):
            assert EXPECTED[key] is target, key
        elif target is Rule.SAME:
            assert EXPECTED[key] is key[0], key


@pytest.mark.parametrize(("row", "target"), TRANSITIONS.items(), ids=[f"{s}+{n}" for s, n in TRANSITIONS])
def test_row(row: tuple[S, str], target: object):
    status, event_name = row
    d = build(status, sent=event_name != "SubmissionStarted")
    head, version = d.ledger.head(), d.order.version
    d.do(event_name)
    order = d.order
    assert order.version == version + 1 and d.ledger.head() == head + 1, "the event is recorded once"
    assert order.status is EXPECTED[row]
    assert not [a for a in order.anomalies if a.startswith("unexpected:")]
    assert invariants(order) == []


OFF_TABLE = [(s, name) for s in S for name in EVENTS if (s, name) not in TRANSITIONS]


@pytest.mark.parametrize(("status", "event_name"), OFF_TABLE, ids=[f"{s}+{n}" for s, n in OFF_TABLE])
def test_pair_off_the_table(status: S, event_name: str):
    d = build(status)
    head, before = d.ledger.head(), d.order
    if event_name in REQUESTS:
        with pytest.raises(RequestRefused):
            d.do(event_name)
        assert d.ledger.head() == head, "a refused request records nothing"
        assert d.order.version == before.version and d.order.anomalies == before.anomalies
    else:
        d.do(event_name)
        order = d.order
        assert d.ledger.head() == head + 1, "a fact is recorded, whatever the status"
        assert order.status is status
        assert f"unexpected:{event_name}@{status}" in order.anomalies
    assert invariants(d.order) == []


# ------------------------------------------------------------------------------ the rules, resolved
def test_cancel_requested_of_an_unsent_order_is_canceled_at_once():
    d = build(S.PENDING_NEW, sent=False)
    d.IntentCanceled()
    assert d.order.status is S.CANCELED


def test_by_fills_a_fill_completing_the_order_fills_it():
    d = build(S.NEW)
    d.OrderFilled("10")
    assert d.order.status is S.FILLED and OVERFILL not in d.order.anomalies


def test_by_fills_a_fill_before_the_accept_then_the_late_accept_is_absorbed():
    d = build(S.PENDING_NEW)
    d.OrderFilled("10")
    assert d.order.status is S.FILLED
    d.OrderAccepted()
    assert d.order.status is S.FILLED and d.order.exchange_order_id == "E1"


def test_by_fills_an_amend_down_to_the_filled_quantity_fills_it():
    d = build(S.PARTIALLY_FILLED)
    d.AmendAccepted("4")
    assert d.order.status is S.FILLED and OVERFILL not in d.order.anomalies


@pytest.mark.parametrize("pending", [S.PENDING_CANCEL, S.PENDING_REPLACE])
def test_filled_or_same_completing_fill_while_pending_fills_it(pending: S):
    d = build(pending)
    d.OrderFilled("10")
    assert d.order.status is S.FILLED


@pytest.mark.parametrize("closed", [S.CANCELED, S.EXPIRED])
def test_filled_or_same_fills_after_cancel_are_recorded_and_flagged(closed: S):
    d = build(closed)
    d.OrderFilled("4")
    assert (d.order.status, d.order.filled_quantity, d.order.remaining_quantity) == (closed, 4, 0)
    d.OrderFilled("6")
    assert d.order.status is S.FILLED and FILL_AFTER_CANCEL in d.order.anomalies


def test_overfill_is_recorded_and_flagged():
    d = build(S.FILLED)
    d.OrderFilled("1")
    assert d.order.filled_quantity == Decimal(11) and OVERFILL in d.order.anomalies


def test_previous_goes_back_to_partially_filled():
    d = build(S.PARTIALLY_FILLED)
    d.amend_price()
    d.AmendRejected()
    assert d.order.status is S.PARTIALLY_FILLED
    d.IntentCanceled()
    d.CancelRejected()
    assert d.order.status is S.PARTIALLY_FILLED


def test_previous_after_replace_then_cancel_goes_back_to_before_the_replace():
    d = build(S.PARTIALLY_FILLED)
    d.amend_price()
    d.IntentCanceled()
    d.CancelRejected()
    assert d.order.status is S.PARTIALLY_FILLED


def test_previous_of_a_sent_unanswered_order_is_pending_new():
    d = build(S.PENDING_NEW)
    d.IntentCanceled()
    d.CancelRejected()
    assert d.order.status is S.PENDING_NEW


# ------------------------------------------------------------------------------ reconciliation
@pytest.mark.parametrize(
    ("status", "submitted", "matches", "expected"),
    [
        (S.PENDING_NEW, False, True, R.PENDING),
        (S.PENDING_NEW, True, True, R.SUBMITTING),
        (S.NEW, True, True, R.ACTIVE),
        (S.PARTIALLY_FILLED, True, True, R.ACTIVE),
        (S.NEW, True, False, R.RECONCILING),
        (S.PENDING_REPLACE, True, False, R.RECONCILING),
        (S.PENDING_CANCEL, True, True, R.RECONCILING),
        (S.REJECTED, True, True, R.FAILED),
        (S.REJECTED, False, True, R.FAILED),
        (S.FILLED, True, True, R.COMPLETED),
        (S.CANCELED, False, True, R.CANCELED),
        (S.CANCELED, True, True, R.CANCELED),
        (S.EXPIRED, True, True, R.CANCELED),
    ],
)
def test_reconciliation_derivation(status: S, submitted: bool, matches: bool, expected: R):
    assert reconciliation(status, submitted=submitted, intent_matches_exchange=matches) is expected


def _state(d: Driver):
    return d.ledger.order_state(ACCOUNT, OID)


def test_reconciliation_through_the_ledger():
    d = build(S.PENDING_NEW, sent=False)
    assert _state(d).reconciliation_status is R.PENDING and _state(d).exchange_order_id == ""
    d.submit()
    assert _state(d).reconciliation_status is R.SUBMITTING
    d.OrderAccepted()
    assert (_state(d).reconciliation_status, _state(d).exchange_order_id) == (R.ACTIVE, "E1")
    d.amend_price()
    assert _state(d).reconciliation_status is R.RECONCILING
    d.AmendAccepted("10")  # at 101: the exchange caught up with the intent
    assert _state(d).reconciliation_status is R.ACTIVE
    d.IntentAmended()
    d.AmendRejected()
    state = _state(d)
    assert (state.status, state.reconciliation_status) == (S.NEW, R.RECONCILING)
    assert state.error_message == "amend rejected: no"
    d.OrderFilled("10")
    assert _state(d).reconciliation_status is R.COMPLETED


@pytest.mark.parametrize(
    ("status", "error"), [(S.REJECTED, "rejected: no funds"), (S.CANCELED, None), (S.EXPIRED, None)]
)
def test_reconciliation_of_closed_orders(status: S, error: str | None):
    state = _state(build(status))
    expected = R.FAILED if status is S.REJECTED else R.CANCELED
    assert (state.reconciliation_status, state.error_message) == (expected, error)


def test_submission_failure_is_failed_with_its_error():
    d = build(S.PENDING_NEW)
    d.SubmissionFailed()
    state = _state(d)
    assert (state.status, state.reconciliation_status) == (S.REJECTED, R.FAILED)
    assert state.error_message == "submission failed: socket closed"
