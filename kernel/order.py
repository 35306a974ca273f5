"""The order aggregate: one stream per intent. It decides what a request or an exchange fact records,
and evolves by applying recorded events (`apply` never refuses: history is history).

Decisions return the events to record; an empty list means "already recorded" (idempotency).
Requests that break a rule raise `RequestRefused` and record nothing.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from kernel import events as ev
from kernel.errors import ConflictingFact, RequestRefused
from kernel.exchange.models import OrderState
from kernel.lifecycle import LIVE, PENDING, REQUESTS, TRANSITIONS, Rule, reconciliation, target
from kernel.schema.order_spec import DECIMAL_DIGITS_MAX, DECIMAL_PLACES_MAX
from kernel.schema.order_spec import StandardOrderStatus as S

ZERO = Decimal(0)
# The order's arithmetic, whatever the caller's thread context: sums and products of bounded inputs
# (quantity x price of two 48-digit numbers) are exact in it; the average fill price is rounded once.
ARITHMETIC = Context(prec=2 * (DECIMAL_DIGITS_MAX + DECIMAL_PLACES_MAX) + 4, rounding=ROUND_HALF_EVEN,
                     traps=[InvalidOperation, DivisionByZero, Overflow])  # fmt: skip
QUOTIENT = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])

# The members `apply` compares with, as module constants: an enum member read off its class
# (`S.FILLED`) costs an attribute lookup through the enum's metaclass on every evaluation.
_PENDING_NEW, _NEW, _PARTIALLY_FILLED, _FILLED = S.PENDING_NEW, S.NEW, S.PARTIALLY_FILLED, S.FILLED
_PENDING_CANCEL, _CANCELED, _EXPIRED, _REJECTED = S.PENDING_CANCEL, S.CANCELED, S.EXPIRED, S.REJECTED
_CLOSED_EMPTY = (_CANCELED, _EXPIRED, _REJECTED)  # statuses with nothing remaining
_SAME, _BY_FILLS, _FILLED_OR_SAME = Rule.SAME, Rule.BY_FILLS, Rule.FILLED_OR_SAME
_PREVIOUS, _CANCEL_REQUESTED = Rule.PREVIOUS, Rule.CANCEL_REQUESTED
_TRANSITION = TRANSITIONS.get

# Anomaly flags an order can carry (besides "unexpected:<Event>@<STATUS>" for pairs off the table).
OVERFILL = "overfill"
FILL_AFTER_CANCEL = "fill_after_cancel"
EXTERNAL_ORDER = "external_order"
EXCHANGE_ORDER_ID_CHANGED = "exchange_order_id_changed"
TRADE_CORRECTED = "trade_corrected:"  # + the exec id the exchange corrected or busted
TRADE_CANCELED = "trade_canceled:"


class Order:
    """State of one order stream, enough to decide; `order_state()` gives the seed's view of it."""

    __slots__ = (
        "account_id", "intent_id", "version", "status", "status_before_pending", "intent", "group_id",
        "metadata", "created_at", "updated_at", "last_sync_at", "submitted", "accepted", "client_order_id",
        "exchange_order_id", "exchange_quantity", "exchange_price", "filled_quantity", "filled_notional",
        "fees", "fills", "ack_keys", "amend_requests", "cancel_requests", "error_message", "anomalies",
        "external",
    )  # fmt: skip

    def __init__(self, account_id: str, intent_id: str):
        self.account_id = account_id
        self.intent_id = intent_id
        self.version = 0  # events applied so far; the next one is recorded at version + 1
        self.status: S | None = None
        self.status_before_pending: S | None = None
        self.intent: ev.OrderSpec | None = None  # what the strategy wants now
        self.group_id: str | None = None
        self.metadata: dict[str, Any] = {}
        self.created_at = 0
        self.updated_at = 0
        self.last_sync_at = 0  # ts_event of the latest exchange fact
        self.submitted = False
        self.accepted = False  # the exchange acknowledged the order (an accept or an amend accept)
        self.client_order_id = ""
        self.exchange_order_id = ""
        self.exchange_quantity = ZERO  # what the exchange holds: sent, then amended
        self.exchange_price: Decimal | None = None
        self.filled_quantity = ZERO
        self.filled_notional = ZERO
        self.fees: dict[str, Decimal] = {}
        self.fills: dict[str, tuple[Decimal, Decimal]] = {}  # trade_id -> (quantity, price)
        self.ack_keys: set[tuple[str, ...]] = set()
        self.amend_requests = 0
        self.cancel_requests = 0
        self.error_message: str | None = None
        self.anomalies: list[str] = []
        self.external = False

    # ----------------------------------------------------------------- derived
    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def quantity(self) -> Decimal:
        """The quantity fills count against: what the exchange holds once sent, else the intent's."""
        if self.submitted and self.exchange_quantity > 0:
            return self.exchange_quantity
        return self.intent.quantity if self.intent else ZERO

    @property
    def remaining_quantity(self) -> Decimal:
        if self.status in _CLOSED_EMPTY:
            return ZERO
        return max(ARITHMETIC.subtract(self.quantity, self.filled_quantity), ZERO)

    @property
    def average_fill_price(self) -> Decimal | None:
        return QUOTIENT.divide(self.filled_notional, self.filled_quantity) if self.filled_quantity else None

    def order_state(self) -> OrderState:
        assert self.status is not None, "order_state() of an order that does not exist"
        intent_matches = self.intent is None or (
            self.intent.quantity == self.exchange_quantity and self.intent.price == self.exchange_price
        )
        return OrderState(
            intent_id=self.intent_id,
            exchange_order_id=self.exchange_order_id,
            status=self.status,
            reconciliation_status=reconciliation(
                self.status, submitted=self.submitted, intent_matches_exchange=intent_matches
            ),
            last_sync_at=self.last_sync_at,
            error_message=self.error_message,
        )

    # ----------------------------------------------------------------- evolve
    def apply(self, e: ev.OrderEvent) -> None:
        self.version += 1
        self.updated_at = e.ts_event
        cls = type(e)
        if cls is ev.IntentPlaced:
            self.status, self.intent = _PENDING_NEW, e.order
            self.group_id, self.metadata, self.created_at = e.group_id, dict(e.metadata), e.ts_event
            return
        if cls is ev.ExternalOrderDiscovered:
            self.status, self.intent, self.created_at = _NEW, e.order, e.ts_event
            self.submitted, self.external, self.exchange_order_id = True, True, e.exchange_order_id
            self.exchange_quantity, self.exchange_price = e.order.quantity, e.order.price
            self.last_sync_at = e.ts_event
            self._flag(EXTERNAL_ORDER)
            return
        name = cls.__name__
        if name not in REQUESTS:
            self.last_sync_at = e.ts_event
        self._record_effects(e)
        self._move(name)

    def _record_effects(self, e: ev.OrderEvent) -> None:
        """What an event changes besides the status (one small function per event type, below)."""
        cls = type(e)
        effect = _EFFECTS.get(cls)
        if effect is not None:
            effect(self, e)
        if cls in _ACKNOWLEDGEMENTS:
            self.ack_keys.add(self._scoped(ack_key(e)))  # type: ignore[arg-type]

    def _move(self, name: str) -> None:
        status = self.status
        assert status is not None
        to = _TRANSITION((status, name))  # `lifecycle.target`
        if to is None:
            self._flag(f"unexpected:{name}@{status}")
            return
        if to is _SAME:
            return
        if to is _BY_FILLS:
            to = self._by_fills()
        elif to is _FILLED_OR_SAME:
            to = _FILLED if self.filled_quantity >= self.quantity else status
        elif to is _PREVIOUS:
            to = self._previous()
        elif to is _CANCEL_REQUESTED:
            to = _PENDING_CANCEL if self.submitted else _CANCELED
        if to in PENDING and status not in PENDING:
            self.status_before_pending = status
        self.status = to

    def _previous(self) -> S:
        """The status before the pending cancel/replace, brought up to date with what the exchange
        reported while the request was pending: a fill or an accept happened, whatever the status was."""
        before = self.status_before_pending
        if before is None or before in LIVE or self.filled_quantity > 0 or self.accepted:
            return self._by_fills()
        return before

    def _by_fills(self) -> S:
        if self.filled_quantity <= 0:
            return _NEW
        return _FILLED if self.filled_quantity >= self.quantity else _PARTIALLY_FILLED

    def _flag(self, anomaly: str) -> None:
        if anomaly not in self.anomalies:
            self.anomalies.append(anomaly)

    def _scoped(self, key: tuple[str, ...]) -> tuple[str, ...]:
        """Answers without an exec id are told apart by the request they answer."""
        if len(key) > 1:
            return key
        name = key[0]
        if name in ("AmendAccepted", "AmendRejected"):
            return (name, f"amend#{self.amend_requests}")
        if name == "CancelRejected":
            return (name, f"cancel#{self.cancel_requests}")
        return key

    # ----------------------------------------------------------------- decide
    def require_exists(self) -> None:
        if not self.exists:
            raise RequestRefused("intent_id", f"unknown intent {self.intent_id!r} on account {self.account_id!r}")

    def decide_request(self, e: ev.OrderEvent) -> list[ev.OrderEvent]:
        """A strategy's or the kernel's request: recorded if the table allows it, else refused."""
        self.require_exists()
        name = type(e).__name__
        assert self.status is not None and name in REQUESTS
        if isinstance(e, ev.SubmissionStarted) and self.submitted:
            if e.client_order_id == self.client_order_id:
                return []  # the same submission reported twice
            raise RequestRefused("client_order_id", f"intent {self.intent_id!r} was already submitted")
        if isinstance(e, ev.SubmissionFailed) and not self.submitted:
            raise RequestRefused("intent_id", f"intent {self.intent_id!r} was never submitted")
        if isinstance(e, ev.IntentAmended):
            if e.order == self.intent:
                return []  # nothing changes
            self._check_amend(e.order)
        if target(self.status, name) is None:
            verb = {"IntentAmended": "amend", "IntentCanceled": "cancel", "SubmissionStarted": "submit",
                    "SubmissionFailed": "fail the submission of"}.get(name, name)  # fmt: skip
            raise RequestRefused("intent_id", f"cannot {verb} intent {self.intent_id!r}: order is {self.status}")
        return [e]

    def _check_amend(self, new: ev.OrderSpec) -> None:
        assert self.intent is not None
        for field in ("symbol", "side", "order_type"):
            if getattr(new, field) != getattr(self.intent, field):
                raise RequestRefused(f"order.{field}", "cannot change on amend; cancel and place a new intent")
        if new.quantity < self.filled_quantity:
            raise RequestRefused("order.quantity", f"below the filled quantity {self.filled_quantity}")

    def decide_fact(self, e: ev.OrderEvent) -> list[ev.OrderEvent]:
        """An exchange fact: recorded unless already recorded (same trade id, same ack)."""
        self.require_exists()
        if isinstance(e, ev.OrderFilled):
            seen = self.fills.get(e.trade_id)
            if seen is None:
                return [e]
            if seen != (e.quantity, e.price):
                raise ConflictingFact(
                    f"trade_id: {e.trade_id!r} was recorded as {seen[0]} @ {seen[1]}, now reported as "
                    f"{e.quantity} @ {e.price}"
                )
            return []
        key = ack_key(e)
        assert key is not None, type(e)
        return [] if self._scoped(key) in self.ack_keys else [e]

    def decide_if_changed(self, e: ev.AmendAccepted) -> list[ev.OrderEvent]:
        """An amend read off a snapshot of the order (ccxt has no amend event, only the order's terms as of
        its last update): recorded, like any amend, when the terms differ from what the ledger holds and
        the snapshot is not older than the order's latest exchange fact: an older snapshot read again (a
        re-ingest, a late delivery) must not undo a later amend. Same terms: nothing to record."""
        self.require_exists()
        assert self.intent is not None
        if self.submitted:
            held = (self.exchange_quantity, self.exchange_price)
        else:  # reported before the ledger saw it sent: the intent is what the ledger holds
            held = (self.intent.quantity, self.intent.price)
        if (e.quantity, e.price) == held or e.ts_event < self.last_sync_at:
            return []
        return self.decide_fact(e)


def ack_key(e: ev.OrderEvent) -> tuple[str, ...] | None:
    """Idempotency key of an exchange acknowledgement: its exec id, else what it acknowledges."""
    cls = type(e)
    if cls not in _ACKNOWLEDGEMENTS:
        return None  # requests, and fills (keyed by trade id)
    name = cls.__name__
    if e.exec_id:  # type: ignore[attr-defined]
        return (name, e.exec_id)  # type: ignore[attr-defined]
    if cls is ev.OrderAccepted:
        return (name, e.exchange_order_id)  # type: ignore[attr-defined]
    if cls is ev.ExecutionReported:
        return (name, e.exec_type, e.ord_status, e.ref_exec_id)  # type: ignore[attr-defined]
    return (name,)


_ACKNOWLEDGEMENTS = frozenset(
    cls for cls in ev.ORDER_EVENTS if "exec_id" in cls.__struct_fields__ and cls is not ev.OrderFilled
)


# ------------------------------------------------------------------ effects of each event type
def _intent_amended(o: Order, e: ev.IntentAmended) -> None:
    o.intent = e.order
    o.amend_requests += 1


def _intent_canceled(o: Order, e: ev.IntentCanceled) -> None:
    o.cancel_requests += 1


def _submission_started(o: Order, e: ev.SubmissionStarted) -> None:
    assert o.intent is not None
    o.submitted, o.client_order_id = True, e.client_order_id
    o.exchange_quantity, o.exchange_price = o.intent.quantity, o.intent.price


def _submission_failed(o: Order, e: ev.SubmissionFailed) -> None:
    o.error_message = f"submission failed: {e.error}"


def _order_accepted(o: Order, e: ev.OrderAccepted) -> None:
    if o.exchange_order_id and o.exchange_order_id != e.exchange_order_id:
        o._flag(EXCHANGE_ORDER_ID_CHANGED)
    o.exchange_order_id = o.exchange_order_id or e.exchange_order_id
    o.accepted = True


def _order_rejected(o: Order, e: ev.OrderRejected) -> None:
    o.error_message = f"rejected: {e.reason}"
    o.exchange_order_id = o.exchange_order_id or e.exchange_order_id


def _amend_accepted(o: Order, e: ev.AmendAccepted) -> None:
    o.exchange_quantity, o.exchange_price = e.quantity, e.price
    o.accepted = True
    if o.filled_quantity > o.quantity:  # amended below what filled meanwhile
        o._flag(OVERFILL)


def _amend_rejected(o: Order, e: ev.AmendRejected) -> None:
    if o.status is not _REJECTED:  # keep why it failed
        o.error_message = f"amend rejected: {e.reason}"


def _cancel_rejected(o: Order, e: ev.CancelRejected) -> None:
    if o.status is not _REJECTED:
        o.error_message = f"cancel rejected: {e.reason}"


_CANCELED_OR_EXPIRED = (_CANCELED, _EXPIRED)


def _order_filled(o: Order, e: ev.OrderFilled) -> None:
    o.fills[e.trade_id] = (e.quantity, e.price)
    o.filled_quantity = ARITHMETIC.add(o.filled_quantity, e.quantity)
    o.filled_notional = ARITHMETIC.add(o.filled_notional, ARITHMETIC.multiply(e.quantity, e.price))
    if e.fee and e.fee_asset:
        o.fees[e.fee_asset] = ARITHMETIC.add(o.fees.get(e.fee_asset, ZERO), e.fee)
    if o.filled_quantity > o.quantity:
        o._flag(OVERFILL)
    if o.status in _CANCELED_OR_EXPIRED:
        o._flag(FILL_AFTER_CANCEL)


_TRADE_CORRECT, _TRADE_CANCEL = ev.ReportKind.TRADE_CORRECT, ev.ReportKind.TRADE_CANCEL


def _execution_reported(o: Order, e: ev.ExecutionReported) -> None:
    if e.exec_type is _TRADE_CORRECT:
        o._flag(TRADE_CORRECTED + e.ref_exec_id)
    elif e.exec_type is _TRADE_CANCEL:
        o._flag(TRADE_CANCELED + e.ref_exec_id)


_EFFECTS: dict[type, Any] = {
    ev.IntentAmended: _intent_amended,
    ev.IntentCanceled: _intent_canceled,
    ev.SubmissionStarted: _submission_started,
    ev.SubmissionFailed: _submission_failed,
    ev.OrderAccepted: _order_accepted,
    ev.OrderRejected: _order_rejected,
    ev.AmendAccepted: _amend_accepted,
    ev.AmendRejected: _amend_rejected,
    ev.CancelRejected: _cancel_rejected,
    ev.OrderFilled: _order_filled,
    ev.ExecutionReported: _execution_reported,
}
