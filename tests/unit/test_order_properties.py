"""Properties of orders under whatever an exchange delivers: random interleavings of intents, acks,
fills, duplicates and reorders against a `memory://` ledger, checked against a simple model."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kernel import events as ev
from kernel.errors import RequestRefused
from kernel.lifecycle import REQUESTS, TERMINAL, TRANSITIONS, Rule
from kernel.order import OVERFILL, Order
from kernel.schema.order_spec import StandardOrderStatus as S
from kernel.testing import (
    ACCOUNT,
    Command,
    adversarial_streams,
    apply_commands,
    call,
    decimals_exact,
    invariants,
    memory_ledger,
    order_intents,
    order_lifecycles,
    standard_orders,
)

SYMBOL = "BTCUSDT"
METHOD_EVENT = {
    "amend_intent": "IntentAmended", "cancel_intent": "IntentCanceled", "start_submission": "SubmissionStarted",
    "fail_submission": "SubmissionFailed", "record_accepted": "OrderAccepted", "record_rejected": "OrderRejected",
    "record_amend_accepted": "AmendAccepted", "record_amend_rejected": "AmendRejected",
    "record_cancel_accepted": "CancelAccepted", "record_cancel_rejected": "CancelRejected",
    "record_expired": "OrderExpired", "record_fill": "OrderFilled",
}  # fmt: skip
ZERO = Decimal(0)
SLOTS = 2  # orders traded at once: few, so that each sees a long history
SLOT = st.integers(0, SLOTS - 1)


def by_fills(filled: Decimal, quantity: Decimal) -> S:
    if filled <= 0:
        return S.NEW
    return S.FILLED if filled >= quantity else S.PARTIALLY_FILLED


def limit(quantity: Decimal, price: Decimal = Decimal(100)) -> dict:
    return {"symbol": SYMBOL, "side": "BUY", "order_type": "LIMIT", "quantity": quantity, "price": price}


class OrderModel:
    """What the ledger must know of one order: its distinct fills and the facts already recorded."""

    def __init__(self) -> None:
        self.fills: dict[str, tuple[Decimal, Decimal]] = {}
        self.fact_keys: set[object] = set()
        self.submitted = False

    @property
    def filled(self) -> Decimal:
        return sum((q for q, _ in self.fills.values()), ZERO)


class LedgerMachine(RuleBasedStateMachine):
    """Random interleavings of requests and exchange facts on a few orders, with replays of facts.

    The machine trades through `SLOTS` order slots: rules act on the order in a slot, and once that
    order is finished a new intent may take its place (late facts still reach the finished one until
    then, and replays reach any order)."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = memory_ledger()
        self.models: dict[str, OrderModel] = {}
        self.slots: list[str] = []
        self.sent: list[tuple[str, Command, object]] = []  # facts sent: (intent id, command, key)
        self.serial = itertools.count(1)
        self.ts = itertools.count(1_000)

    # ------------------------------------------------------------------ sending
    def _send(self, slot: int, method: str, key: object = None, **kwargs: object) -> None:
        intent_id = self.slots[slot]
        command = call(method, ACCOUNT, intent_id, ts_event=next(self.ts), **kwargs)
        self._deliver(intent_id, command, key)
        if command.is_fact:
            self.sent.append((intent_id, command, key))

    def _deliver(self, intent_id: str, command: Command, key: object) -> None:
        model = self.models[intent_id]
        before = self.ledger.order(ACCOUNT, intent_id)
        head = self.ledger.head()
        name = METHOD_EVENT[command.method]
        try:
            recorded = command(self.ledger)
        except RequestRefused:
            assert name in REQUESTS, f"a fact was refused: {command}"
            assert self.ledger.head() == head, "a refused request recorded something"
            return
        after = self.ledger.order(ACCOUNT, intent_id)
        if command.is_fact and key in model.fact_keys:
            assert recorded == () and self.ledger.head() == head, f"a duplicate was recorded: {command}"
            assert after.version == before.version
            return
        if name in REQUESTS and recorded == ():  # the same amend or submission again: nothing changes
            assert self.ledger.head() == head and after.version == before.version
            return
        assert len(recorded) == 1 and after.version == before.version + 1 and self.ledger.head() == head + 1
        if command.is_fact:
            model.fact_keys.add(key)
        if name == "OrderFilled":
            kw = dict(command.kwargs)
            model.fills[kw["trade_id"]] = (Decimal(kw["quantity"]), Decimal(kw["price"]))
        self._check_move(before, after, name, model)
        if name == "SubmissionStarted":
            model.submitted = True

    def _check_move(self, before: Order, after: Order, name: str, model: OrderModel) -> None:
        """The status moved as the table says, with its rules resolved from the model's fills."""
        to = TRANSITIONS.get((before.status, name))
        if to is None:
            assert name not in REQUESTS, f"{name} recorded off the table at {before.status}"
            assert after.status is before.status and f"unexpected:{name}@{before.status}" in after.anomalies
            return
        filled, quantity = model.filled, after.quantity
        if isinstance(to, S):
            expected = {to}
        elif to is Rule.SAME:
            expected = {before.status}
        elif to is Rule.BY_FILLS:
            expected = {by_fills(filled, quantity)}
        elif to is Rule.FILLED_OR_SAME:
            expected = {S.FILLED if filled >= quantity else before.status}
        elif to is Rule.PREVIOUS:
            expected = {by_fills(filled, quantity)} if filled else {S.PENDING_NEW, S.NEW}
        else:
            assert to is Rule.CANCEL_REQUESTED
            expected = {S.PENDING_CANCEL if model.submitted else S.CANCELED}
        assert after.status in expected, f"{before.status} + {name} -> {after.status}, table says {to}"

    # ------------------------------------------------------------------ rules
    def _order(self, slot: int) -> Order:
        return self.ledger.order(ACCOUNT, self.slots[slot])

    def _place(self, quantity: Decimal) -> str:
        intent_id = f"o{next(self.serial)}"
        self.models[intent_id] = OrderModel()
        self.ledger.place_intent(ACCOUNT, {"intent_id": intent_id, "order": limit(quantity),
                                           "created_at": next(self.ts), "updated_at": 0})  # fmt: skip
        return intent_id

    def _finished_slot(self) -> int | None:
        return next((i for i in range(SLOTS) if self._order(i).status in TERMINAL), None)

    @initialize()
    def first_intents(self) -> None:
        self.slots = [self._place(Decimal(3)) for _ in range(SLOTS)]

    @precondition(lambda self: self._finished_slot() is not None)
    @rule(quantity=decimals_exact("1", "5", 1))
    def place(self, quantity: Decimal) -> None:
        self.slots[self._finished_slot()] = self._place(quantity)

    @precondition(lambda self: self._finished_slot() is not None)
    @rule(quantity=decimals_exact("0.1", "1", 1))
    def external_fill(self, quantity: Decimal) -> None:
        """A fill of an order no intent created: discovered, then filled, in one go."""
        n = next(self.serial)
        recorded = self.ledger.record_fill(ACCOUNT, None, trade_id=f"xt{n}", quantity=quantity, price="100",
                                           exchange_order_id=f"X{n}", order=limit(Decimal(1)),
                                           ts_event=next(self.ts))  # fmt: skip
        assert [type(e) for e in recorded] == [ev.ExternalOrderDiscovered, ev.OrderFilled]
        intent_id = recorded[0].intent_id
        model = self.models[intent_id] = OrderModel()
        model.fills[f"xt{n}"] = (quantity, Decimal(100))
        model.submitted = True
        self.slots[self._finished_slot()] = intent_id
        assert self.ledger.order(ACCOUNT, intent_id).status is by_fills(quantity, Decimal(1))

    @rule(slot=SLOT, same_id=st.booleans())
    def submit(self, slot: int, same_id: bool) -> None:
        client_order_id = f"c-{self.slots[slot]}" if same_id else f"c{next(self.serial)}"
        self._send(slot, "start_submission", client_order_id=client_order_id)

    @rule(slot=SLOT)
    def fail_submission(self, slot: int) -> None:
        self._send(slot, "fail_submission", error="timeout")

    @rule(slot=SLOT, quantity=decimals_exact("0.5", "5", 1), price=st.sampled_from(["100", "101"]))
    def amend(self, slot: int, quantity: Decimal, price: str) -> None:
        self._send(slot, "amend_intent", order=limit(quantity, Decimal(price)))

    @rule(slot=SLOT)
    def cancel(self, slot: int) -> None:
        self._send(slot, "cancel_intent", reason="")

    @rule(slot=SLOT, with_exec_id=st.booleans())
    def accept(self, slot: int, with_exec_id: bool) -> None:
        exec_id = f"x{next(self.serial)}" if with_exec_id else ""
        exchange_order_id = f"E-{self.slots[slot]}"
        self._send(slot, "record_accepted", exec_id or ("accepted", exchange_order_id),
                   exchange_order_id=exchange_order_id, exec_id=exec_id)  # fmt: skip

    def _ack(self, slot: int, method: str, **kwargs: object) -> None:
        exec_id = f"x{next(self.serial)}"
        self._send(slot, method, exec_id, exec_id=exec_id, **kwargs)

    @rule(slot=SLOT, yes=st.booleans())
    def exchange_answers(self, slot: int, yes: bool) -> None:
        """The answer to what the order waits for (the other fact rules send facts at any time)."""
        order = self._order(slot)
        if order.status is S.PENDING_NEW and order.submitted:
            self.accept(slot, with_exec_id=True) if yes else self.reject(slot)
        elif order.status is S.PENDING_CANCEL:
            self.cancel_accepted(slot) if yes else self.cancel_rejected(slot)
        elif order.status is S.PENDING_REPLACE:
            self.amend_accepted(slot, order.intent.quantity) if yes else self.amend_rejected(slot)

    @rule(slot=SLOT)
    def reject(self, slot: int) -> None:
        self._ack(slot, "record_rejected", reason="no")

    @rule(slot=SLOT)
    def amend_rejected(self, slot: int) -> None:
        self._ack(slot, "record_amend_rejected", reason="no")

    @rule(slot=SLOT)
    def cancel_rejected(self, slot: int) -> None:
        self._ack(slot, "record_cancel_rejected", reason="no")

    @rule(slot=SLOT)
    def cancel_accepted(self, slot: int) -> None:
        self._ack(slot, "record_cancel_accepted")

    @rule(slot=SLOT)
    def expire(self, slot: int) -> None:
        self._ack(slot, "record_expired")

    @rule(slot=SLOT, quantity=decimals_exact("0.5", "5", 1))
    def amend_accepted(self, slot: int, quantity: Decimal) -> None:
        self._ack(slot, "record_amend_accepted", quantity=quantity, price="100")

    @rule(slot=SLOT, quantity=decimals_exact("0.1", "1", 1), fee=st.sampled_from(["0", "0.01"]))
    def fill(self, slot: int, quantity: Decimal, fee: str) -> None:
        trade_id = f"t{next(self.serial)}"
        self._send(slot, "record_fill", ("trade", trade_id), trade_id=trade_id, quantity=quantity, price="100",
                   fee=fee, fee_asset="USDT" if fee != "0" else None)  # fmt: skip

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        """The same exchange message again: a reconnect, or REST polling overlapping the websocket."""
        intent_id, command, key = data.draw(st.sampled_from(self.sent), label="replayed")
        self._deliver(intent_id, command, key)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def orders_keep_their_invariants(self) -> None:
        for intent_id, model in self.models.items():
            order = self.ledger.order(ACCOUNT, intent_id)
            assert invariants(order) == []
            assert order.filled_quantity == model.filled
            assert dict(order.fills) == model.fills
            assert (order.filled_quantity > order.quantity) <= (OVERFILL in order.anomalies)

    @invariant()
    def no_fact_is_lost_or_doubled(self) -> None:
        trades = Counter(
            (e.intent_id, e.trade_id) for _, e in self.ledger.read() if isinstance(e, ev.OrderFilled)
        )
        expected = {(i, t) for i, model in self.models.items() for t in model.fills}
        assert set(trades) == expected and set(trades.values()) <= {1}


TestLedgerMachine = LedgerMachine.TestCase


# ------------------------------------------------------------------------------ generated scripts
@given(order_lifecycles())
def test_a_valid_lifecycle_is_recorded_without_refusal_or_anomaly(commands: list[Command]):
    ledger = memory_ledger()
    outcomes = apply_commands(ledger, commands, strict=True)
    order = ledger.order(ACCOUNT, "o-1")
    assert invariants(order) == []
    assert order.anomalies == []
    fills = [c for c in commands if c.method == "record_fill"]
    assert order.filled_quantity == sum((dict(c.kwargs)["quantity"] for c in fills), Decimal(0))
    if order.status is S.FILLED:
        assert order.filled_quantity == order.quantity
    assert sum(len(o.events) for o in outcomes) == order.version


@given(order_lifecycles().flatmap(lambda commands: st.tuples(st.just(commands), adversarial_streams(commands))))
def test_duplicates_and_reorders_lose_no_fact_and_double_none(pair: tuple[list[Command], list[Command]]):
    clean, messy = pair
    ledger = memory_ledger()
    outcomes = apply_commands(ledger, messy)  # facts are never refused: this raises if one is
    order = ledger.order(ACCOUNT, "o-1")
    assert invariants(order) == []
    distinct_fills = {dict(c.kwargs)["trade_id"]: dict(c.kwargs)["quantity"] for c in clean
                      if c.method == "record_fill"}  # fmt: skip
    assert order.filled_quantity == sum(distinct_fills.values(), Decimal(0))
    logged = Counter(e.trade_id for _, e in ledger.read() if isinstance(e, ev.OrderFilled))
    assert logged == Counter(distinct_fills.keys())
    facts = [o for o in outcomes if o.command.is_fact]
    assert sum(1 for o in facts if o.events) == len({repr(o.command) for o in facts}), "each fact once"


@given(st.data())
def test_a_refused_request_in_a_messy_stream_records_nothing(data: st.DataObject):
    commands = data.draw(order_lifecycles().flatmap(adversarial_streams))
    ledger = memory_ledger()
    for command in commands:
        head = ledger.head()
        try:
            command(ledger)
        except RequestRefused:
            assert ledger.head() == head


# ------------------------------------------------------------------------------ exact numbers
@pytest.mark.parametrize("parts", [("0.1", "0.2"), (0.1, 0.2), (Decimal("0.1"), Decimal("0.2"))])
def test_point_one_plus_point_two_fills_point_three_exactly(parts: tuple):
    ledger = memory_ledger()
    ledger.place_intent(ACCOUNT, {"intent_id": "o", "order": limit(Decimal("0.3")), "created_at": 1, "updated_at": 1})
    for i, quantity in enumerate(parts):
        ledger.record_fill(ACCOUNT, "o", trade_id=f"t{i}", quantity=quantity, price="100", ts_event=2 + i)
    order = ledger.order(ACCOUNT, "o")
    assert (order.status, order.filled_quantity, order.remaining_quantity) == (S.FILLED, Decimal("0.3"), 0)
    assert OVERFILL not in order.anomalies


@given(quantity=decimals_exact(), data=st.data())
def test_fills_that_sum_to_the_quantity_fill_it_exactly(quantity: Decimal, data: st.DataObject):
    """Split a quantity into exact parts at its own scale; in any order they fill it, never overfill."""
    scale = max(-quantity.as_tuple().exponent, 0)
    units = int(quantity.scaleb(scale))
    cuts = sorted(data.draw(st.sets(st.integers(1, units - 1), max_size=min(units - 1, 6))) if units > 1 else [])
    parts = [Decimal(b - a).scaleb(-scale) for a, b in itertools.pairwise([0, *cuts, units])]
    parts = data.draw(st.permutations(parts))
    ledger = memory_ledger()
    ledger.place_intent(ACCOUNT, {"intent_id": "o", "order": limit(quantity), "created_at": 1, "updated_at": 1})
    for i, part in enumerate(parts):
        ledger.record_fill(ACCOUNT, "o", trade_id=f"t{i}", quantity=str(part), price="100", ts_event=2 + i)
    order = ledger.order(ACCOUNT, "o")
    assert order.filled_quantity == quantity and order.status is S.FILLED
    assert OVERFILL not in order.anomalies and invariants(order) == []


@given(decimals_exact(min_value="0.5", max_value="2", places=3))
def test_decimals_exact_respects_bounds_and_scale(number: Decimal):
    assert number.is_finite() and Decimal("0.5") <= number <= Decimal(2)
    assert -number.as_tuple().exponent <= 3


@given(standard_orders(symbols=[SYMBOL]))
def test_standard_orders_are_accepted_by_the_ledger(order):
    ledger = memory_ledger()
    ledger.place_intent(ACCOUNT, {"intent_id": "o", "order": order, "created_at": 1, "updated_at": 1})
    assert ledger.order(ACCOUNT, "o").intent.to_standard() == order


@given(order_intents())
def test_order_intents_are_accepted_by_the_ledger(intent):
    ledger = memory_ledger()
    (placed,) = ledger.place_intent(ACCOUNT, intent)
    assert placed.intent_id == intent.intent_id and placed.ts_event == intent.created_at


def test_invariants_are_exact_for_numbers_at_the_input_bounds():
    ledger = memory_ledger()
    quantity = Decimal("9" * 24 + "." + "9" * 24)
    ledger.place_intent(ACCOUNT, {"intent_id": "o", "order": limit(quantity, quantity), "created_at": 1, "updated_at": 1})
    ledger.record_fill(ACCOUNT, "o", trade_id="t1", quantity="0." + "9" * 24, price=quantity, ts_event=2)
    ledger.record_fill(ACCOUNT, "o", trade_id="t2", quantity="9" * 24, price=quantity, ts_event=3)
    order = ledger.order(ACCOUNT, "o")
    assert order.status is S.FILLED and invariants(order) == []
