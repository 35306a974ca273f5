"""Hypothesis strategies and invariants for property-testing code that drives the ledger.

Needs the `test` extra (hypothesis). A typical property:

    from hypothesis import given
    from kernel.testing import (ACCOUNT, adversarial_streams, apply_commands, invariants, memory_ledger,
                                order_lifecycles)

    @given(order_lifecycles().flatmap(adversarial_streams))
    def test_orders_survive_a_messy_exchange(commands):
        ledger = memory_ledger()
        apply_commands(ledger, commands)  # requests may be refused, facts never; invariants checked after each
        order = ledger.order(ACCOUNT, commands[0].args[1].intent_id)
        assert invariants(order) == []

Commands are `Command`s: a frozen, printable call of a public `Ledger` method, so a failing example
shrinks to a script you can paste (`record_fill('ACC-1', 'o-1', trade_id='o-1-t1', ...)`).

Numbers are exact: `decimals_exact()` draws Decimals within the ledger's input bounds (at most 24
integer digits and 24 decimal places) with a varying scale, so 0.1 + 0.2 == 0.3 cases come up early.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from hypothesis import strategies as st

from kernel import events as ev
from kernel.errors import RequestRefused
from kernel.exchange.models import AssetMetadata, OrderIntent
from kernel.ledger import Ledger
from kernel.lifecycle import TRANSITIONS, Rule
from kernel.order import ARITHMETIC, EXCHANGE_ORDER_ID_CHANGED, EXTERNAL_ORDER, FILL_AFTER_CANCEL, OVERFILL, Order
from kernel.schema.order_spec import (
    DECIMAL_PLACES_MAX,
    PRICED_TYPES,
    STOP_TYPES,
    OrderSide,
    OrderType,
    StandardOrder,
    TimeInForce,
)
from kernel.schema.order_spec import StandardOrderStatus as S

ACCOUNT = "ACC-1"
SYMBOLS = ("BTCUSDT", "ETHUSDT")
QUOTE_ASSET = "USDT"
_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-"
T0_NS = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z, in ns since the epoch
QUANTITY_PLACES = 4  # decimal places of generated quantities (fills split in these units)

FACT_METHODS = frozenset({
    "record_accepted", "record_rejected", "record_amend_accepted", "record_amend_rejected",
    "record_cancel_accepted", "record_cancel_rejected", "record_expired", "record_fill",
})  # fmt: skip
"""Ledger methods that record exchange facts: never refused, only deduplicated and flagged."""


# ------------------------------------------------------------------------------ commands
@dataclass(frozen=True)
class Command:
    """One call of a public Ledger method: `getattr(ledger, method)(*args, **dict(kwargs))`."""

    method: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def is_fact(self) -> bool:
        return self.method in FACT_METHODS

    def __call__(self, ledger: Ledger) -> tuple[ev.Event, ...]:
        return getattr(ledger, self.method)(*self.args, **dict(self.kwargs))

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.method}({', '.join(parts)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints an example
        printer.text(repr(self))


def call(method: str, *args: Any, **kwargs: Any) -> Command:
    return Command(method, args, tuple(kwargs.items()))


@dataclass(frozen=True)
class Outcome:
    """What one command did: the events it recorded (empty: a duplicate), or why it was refused."""

    command: Command
    events: tuple[ev.Event, ...] = ()
    refused: RequestRefused | None = None


def apply_commands(ledger: Ledger, commands: Iterable[Command], *, strict: bool = False,
                   check: bool = True) -> list[Outcome]:  # fmt: skip
    """Run `commands` in order, one transaction each. A refused request is collected in its `Outcome`
    (reordered facts can make a later request invalid), or raised when `strict`. A refused fact and any
    other error are always raised: facts are never refused. With `check`, the `invariants` of every
    order a command changed are asserted right after it, so that a violation is reported at the command
    that caused it rather than hidden by a later one."""
    outcomes = []
    for command in commands:
        try:
            outcome = Outcome(command, command(ledger))
        except RequestRefused as refused:
            if strict or command.is_fact:
                raise
            outcome = Outcome(command, refused=refused)
        outcomes.append(outcome)
        touched = {(e.account_id, e.intent_id) for e in outcome.events if isinstance(e, ev.OrderEvent)}
        for account_id, intent_id in sorted(touched) if check else ():
            problems = invariants(ledger.order(account_id, intent_id))  # type: ignore[arg-type]
            assert not problems, f"after {command!r}: {problems}"
    return outcomes


def memory_ledger(account_id: str = ACCOUNT, symbols: Sequence[str] = SYMBOLS,
                  clock: Callable[[], int] | None = None) -> Ledger:  # fmt: skip
    """A `memory://` ledger with a deterministic clock, `account_id` open and `symbols` registered."""
    return prepared_ledger("memory://", account_id, symbols, clock)


def prepared_ledger(store_url: str, account_id: str = ACCOUNT, symbols: Sequence[str] = SYMBOLS,
                    clock: Callable[[], int] | None = None) -> Ledger:  # fmt: skip
    """`memory_ledger` on any store (SQLite, PostgreSQL): the same events wherever it is opened."""
    ticks = itertools.count(T0_NS)
    ledger = Ledger.open(store_url, clock=clock or (lambda: next(ticks)))
    ledger.open_account(account_id, exchange="TEST", account_type="SPOT", base_currency=QUOTE_ASSET,
                        ts_event=T0_NS)  # fmt: skip
    for symbol in symbols:
        asset = AssetMetadata(asset_id=symbol, symbol=symbol, asset_type="SPOT", name=symbol)
        ledger.register_asset(account_id, asset, ts_event=T0_NS, base_asset=symbol.removesuffix(QUOTE_ASSET),
                              quote_asset=QUOTE_ASSET)  # fmt: skip
    return ledger


# ------------------------------------------------------------------------------ values
@st.composite
def decimals_exact(draw: st.DrawFn, min_value: Decimal | str = "0.0001", max_value: Decimal | str = "1000000",
                   places: int = QUANTITY_PLACES) -> Decimal:  # fmt: skip
    """Finite Decimals in [min_value, max_value] with at most `places` decimal places (the scale
    varies, so 0.1, 0.25 and 3 all appear). Shrinks towards few digits."""
    low, high = Decimal(min_value), Decimal(max_value)
    assert 0 <= places <= DECIMAL_PLACES_MAX and low <= high, "decimals_exact: ordered bounds, places 0..24"
    scale = draw(st.integers(0, places))
    if low.scaleb(scale).to_integral_value(ROUND_CEILING) > high.scaleb(scale).to_integral_value(ROUND_FLOOR):
        scale = places  # no value of this scale fits: fall back to the finest
    units = draw(st.integers(int(low.scaleb(scale).to_integral_value(ROUND_CEILING)),
                             int(high.scaleb(scale).to_integral_value(ROUND_FLOOR))))  # fmt: skip
    return Decimal(units).scaleb(-scale)


def quantities() -> st.SearchStrategy[Decimal]:
    return decimals_exact("0.0001", "1000", QUANTITY_PLACES)


def prices() -> st.SearchStrategy[Decimal]:
    return decimals_exact("0.01", "100000", 2)


def timestamps_ns(start: int = T0_NS, span: int = 10**15) -> st.SearchStrategy[int]:
    """Times in ns since the epoch (the ledger's `Uint64`), within `span` ns after `start`."""
    return st.integers(start, start + span)


@st.composite
def standard_orders(draw: st.DrawFn, symbols: Sequence[str] = SYMBOLS) -> StandardOrder:
    """Valid `StandardOrder`s of every type: a price exactly when priced, a stop exactly when a stop."""
    order_type = draw(st.sampled_from(OrderType))
    time_in_force = draw(st.sampled_from(TimeInForce))
    return StandardOrder(
        symbol=draw(st.sampled_from(symbols)), side=draw(st.sampled_from(OrderSide)), order_type=order_type,
        quantity=draw(quantities()),
        price=draw(prices()) if order_type in PRICED_TYPES else None,
        stop_price=draw(prices()) if order_type in STOP_TYPES else None,
        time_in_force=time_in_force,
        expire_at=draw(timestamps_ns()) if time_in_force is TimeInForce.GTD else None,
        reduce_only=draw(st.booleans()),
        post_only=order_type is not OrderType.MARKET and draw(st.booleans()),
    )  # fmt: skip


def order_intents(symbols: Sequence[str] = SYMBOLS, intent_ids: st.SearchStrategy[str] | None = None,
                  ) -> st.SearchStrategy[OrderIntent]:  # fmt: skip
    """Valid `OrderIntent`s (the seed model a strategy hands the ledger)."""
    return st.builds(
        lambda intent_id, order, group_id, ts: OrderIntent(intent_id=intent_id, order=order, group_id=group_id,
                                                          created_at=ts, updated_at=ts),
        intent_ids if intent_ids is not None else st.text(_ID_CHARS, min_size=1, max_size=16),
        standard_orders(symbols), st.none() | st.just("oco-1"), timestamps_ns(),
    )  # fmt: skip


# ------------------------------------------------------------------------------ lifecycles
# Hypothesis favours the first and last choices: keep the common ones there.
_ENDINGS = ("live", "live", "canceled_unsent", "failed", "rejected", "expired_unaccepted", "live", "live")
_STEPS = ("fill", "amend", "cancel", "expire", "fill", "amend", "cancel", "fill")


@st.composite
def order_lifecycles(draw: st.DrawFn, account_id: str = ACCOUNT, symbols: Sequence[str] = SYMBOLS,
                     intent_id: str = "o-1", max_steps: int = 6) -> list[Command]:  # fmt: skip
    """One order's life as the ledger should see it, every command valid in its place: place (maybe
    amended or canceled before it is sent), submit, then a failure, a reject, or an accept followed by
    up to `max_steps` of fills, amends and cancels (each answered, with fills while pending), ending
    filled, canceled, expired or still open. Fills of a filled order sum exactly to its quantity.
    Every exchange fact carries a unique trade id or exec id, as real venues' messages do."""
    intent = draw(order_intents(symbols, st.just(intent_id)))
    spec = intent.order
    ts = itertools.count(intent.created_at + 1)
    serial = itertools.count(1)
    commands = [call("place_intent", account_id, intent)]
    unit = Decimal(1).scaleb(-QUANTITY_PLACES)
    units = lambda q: int(q / unit)  # noqa: E731 - quantities are whole multiples of `unit`
    order_key = (account_id, intent_id)

    def request(method: str, **kw: Any) -> None:
        commands.append(call(method, *order_key, ts_event=next(ts), **kw))

    def fact(method: str, **kw: Any) -> None:
        if method != "record_fill":
            kw["exec_id"] = f"{intent_id}-x{next(serial)}"
        commands.append(call(method, *order_key, ts_event=next(ts), **kw))

    def amended(quantity_units: int) -> StandardOrder:
        change = {"quantity": unit * quantity_units}
        if spec.price is not None and draw(st.booleans()):
            change["price"] = draw(prices())
        return spec.model_copy(update=change)

    if draw(st.booleans()):  # changed before it is sent: the new spec is what gets sent
        spec = amended(draw(st.integers(1, units(spec.quantity) * 2)))
        request("amend_intent", order=spec)
    ending = draw(st.sampled_from(_ENDINGS))
    if ending == "canceled_unsent":
        request("cancel_intent", reason="strategy changed its mind")
        return commands
    request("start_submission", client_order_id=f"{intent_id}-c")
    if ending == "failed":
        request("fail_submission", error="connection reset")
        return commands
    if ending == "rejected":
        fact("record_rejected", reason="insufficient balance")
        return commands
    if ending == "expired_unaccepted":
        fact("record_expired")
        return commands
    fact("record_accepted", exchange_order_id=f"E-{intent_id}")
    quantity, filled = units(spec.quantity), 0  # what the exchange holds, in units

    def fill(most: int, *, all_of_it: bool = False) -> None:
        nonlocal filled
        if most < 1:
            return
        size = most if all_of_it else draw(st.integers(1, most))
        fee = draw(st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("-0.001")]))
        fact("record_fill", trade_id=f"{intent_id}-t{next(serial)}", quantity=unit * size,
             price=spec.price or draw(prices()), fee=fee, fee_asset=QUOTE_ASSET if fee else None,
             liquidity=draw(st.sampled_from(list(ev.Liquidity))))  # fmt: skip
        filled += size

    for _ in range(draw(st.integers(1, max_steps))):
        step = draw(st.sampled_from(_STEPS))
        if step == "fill":
            fill(quantity - filled)
        elif step == "amend":
            new = draw(st.integers(filled + 1, filled + quantity))
            if new == units(spec.quantity):
                new += 1  # an amend to the same spec changes nothing and records nothing
            spec = amended(new)
            request("amend_intent", order=spec)
            if draw(st.booleans()):  # fills keep coming until the exchange answers
                fill(min(quantity, new) - filled - 1)
            if draw(st.booleans()):
                fact("record_amend_accepted", quantity=spec.quantity, price=spec.price)
                quantity = new
            else:
                fact("record_amend_rejected", reason="price out of band")
        elif step == "cancel":
            request("cancel_intent", reason="done")
            if draw(st.booleans()):
                fill(quantity - filled)  # may fill it completely: the cancel then comes too late
            if filled < quantity and draw(st.booleans()):
                fact("record_cancel_accepted")
                return commands
            fact("record_cancel_rejected", reason="too late" if filled == quantity else "busy")
        else:
            fact("record_expired")
            return commands
        if filled == quantity:
            return commands
    if draw(st.booleans()):  # the rest fills, in one or two trades
        fill(quantity - filled)
        fill(quantity - filled, all_of_it=True)
    return commands


@st.composite
def adversarial_streams(draw: st.DrawFn, lifecycle: Sequence[Command], max_edits: int = 6) -> list[Command]:
    """`lifecycle` as a real exchange might deliver it: some facts duplicated (reconnects, REST polling
    overlapping a websocket) and some moved (a fill before the accept, a late accept, fills after the
    cancel). Requests keep their order, and facts stay after the submission (the kernel records it
    before sending). Some requests may then be refused: `apply_commands` collects those."""
    commands = list(lifecycle)
    for _ in range(draw(st.integers(0, max_edits))):
        facts = [i for i, c in enumerate(commands) if c.is_fact]
        if not facts:
            break
        sent = next((i for i, c in enumerate(commands) if c.method == "start_submission"), 0)
        i = draw(st.sampled_from(facts))
        duplicate = draw(st.booleans())
        moving = commands[i] if duplicate else commands.pop(i)
        j = draw(st.integers(sent + 1, len(commands)))
        commands.insert(j, moving)
    return commands


# ------------------------------------------------------------------------------ invariants
_RESOLUTIONS: dict[Rule, frozenset[S]] = {
    Rule.BY_FILLS: frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED}),
    Rule.FILLED_OR_SAME: frozenset({S.FILLED}),  # or the same status
    Rule.SAME: frozenset(),
    Rule.PREVIOUS: frozenset({S.PENDING_NEW, S.NEW, S.PARTIALLY_FILLED, S.FILLED}),
    Rule.CANCEL_REQUESTED: frozenset({S.PENDING_CANCEL, S.CANCELED}),
}


def reachable_statuses(start: Iterable[S] = (S.PENDING_NEW, S.NEW)) -> frozenset[S]:
    """Statuses the table can reach from a placed (PENDING_NEW) or discovered (NEW) order."""
    seen, todo = set(start), deque(start)
    while todo:
        status = todo.popleft()
        for (source, _), to in TRANSITIONS.items():
            if source is status:
                for nxt in _RESOLUTIONS[to] if isinstance(to, Rule) else {to}:
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
    return frozenset(seen)


REACHABLE = reachable_statuses()
_CLOSED = frozenset({S.CANCELED, S.EXPIRED, S.REJECTED})
_FLAGS = frozenset({OVERFILL, FILL_AFTER_CANCEL, EXTERNAL_ORDER, EXCHANGE_ORDER_ID_CHANGED})


def invariants(order: Order) -> list[str]:
    """What must hold of any order, whatever the exchange said and in whatever order; returns the
    violations (empty when all hold), so `assert invariants(order) == []` shows them all.

    - filled_quantity is the sum of the distinct fills (one per trade id), the notional likewise;
    - remaining_quantity is max(quantity - filled, 0), and 0 once canceled, expired or rejected;
    - an overfill is never hidden: filled > quantity implies the `overfill` flag (the flag is history
      and stays if an accepted amend later raises the quantity);
    - the status is one the lifecycle table can reach, and agrees with the fills: nothing filled while
      PENDING_NEW or NEW, something but not all while PARTIALLY_FILLED;
    - every anomaly is a known flag, or `unexpected:<Event>@<STATUS>` for a pair off the table.
    """
    problems = []
    fills = order.fills.values()
    quantity, filled = order.quantity, order.filled_quantity
    with localcontext(ARITHMETIC):  # exact for the ledger's inputs, whatever the caller's context
        fills_sum, notional = sum((q for q, _ in fills), Decimal(0)), sum((q * p for q, p in fills), Decimal(0))
    if filled != fills_sum:
        problems.append(f"filled_quantity {filled} != sum of distinct fills {[q for q, _ in fills]}")
    if order.filled_notional != notional:
        problems.append(f"filled_notional {order.filled_notional} != sum of quantity x price of the fills")
    expected_remaining = Decimal(0) if order.status in _CLOSED else max(quantity - filled, Decimal(0))
    if order.remaining_quantity != expected_remaining:
        problems.append(f"remaining_quantity {order.remaining_quantity} != {expected_remaining} ({order.status})")
    if filled > quantity and OVERFILL not in order.anomalies:
        problems.append(f"filled {filled} > quantity {quantity} but not flagged {OVERFILL!r}")
    if OVERFILL in order.anomalies and not fills:
        problems.append(f"flagged {OVERFILL!r} without any fill")
    if FILL_AFTER_CANCEL in order.anomalies and not fills:
        problems.append(f"flagged {FILL_AFTER_CANCEL!r} without any fill")
    if order.status not in REACHABLE:
        problems.append(f"status {order.status} is not reachable in the lifecycle table")
    if order.status in (S.PENDING_NEW, S.NEW) and filled:
        problems.append(f"status {order.status} with filled quantity {filled}")
    if order.status is S.PARTIALLY_FILLED and not 0 < filled < quantity:
        problems.append(f"PARTIALLY_FILLED with filled {filled} of quantity {quantity}")
    if order.status is S.REJECTED and not order.error_message:
        problems.append("REJECTED without an error message")
    for flag in order.anomalies:
        name, _, status = flag.removeprefix("unexpected:").partition("@")
        off_table = flag.startswith("unexpected:") and name in ev.CATALOGUE and status in S.__members__
        if flag not in _FLAGS and not (off_table and (S(status), name) not in TRANSITIONS):
            problems.append(f"unknown anomaly flag {flag!r}")
    return problems
