"""The balance fold: per (account, asset) a `total` moved by facts, and a `locked` amount derived from the
account's open orders.

What moves `total`:
- `BalanceAdjusted` adds its signed `amount` (deposits, withdrawals, transfers, funding, interest,
  rebates, corrections: the sign says the direction, the reason does not change the arithmetic).
- A fill of a non-derivative instrument (SPOT, MARGIN, CURRENCY, OPTION) exchanges assets: BUY adds
  `qty` to the base asset and takes `qty × price × contract_size` from the quote asset, SELL the
  reverse. The base asset is the instrument's `base_asset`, else its `asset_id`; the quote asset its
  `quote_asset`, else its `settlement_asset`, else the account's base currency. `contract_size` is 1
  unless given (an option's multiplier).
- A fill of a derivative settles its realized PnL (net of the fee when the fee is paid in the
  settlement asset; see `projections.positions`) into the settlement asset.
- Every fee debits its `fee_asset` (a negative fee, a rebate, credits it). A fee without a fee asset
  (the kernel refuses one) is taken as paid in the quote (spot) or settlement (derivative) asset.

What `locked` is: the sum of what the account's open orders reserve now (`reservation`), in intent-id
order, exactly as if summed afresh from the orders when asked. The books keep it as they fold
(`LockedSum`, one per (account, asset), fed by every change of an order's reservation), so reading a
balance costs the same however many orders are open. An order reserves only once it was sent
(`SubmissionStarted`, or discovered at the exchange) and until it is FILLED, CANCELED, REJECTED or
EXPIRED, on its remaining quantity (what the exchange holds minus what filled), at its exchange price
(the accepted amend's price, else the sent price), or its stop price when it has no limit price:
- spot BUY: `remaining × price × contract_size` of the quote asset; a MARKET BUY has no price and
  reserves nothing;
- spot SELL: `remaining` of the base asset, whatever its type;
- derivative: the initial margin of `remaining` at the price (`positions.initial_margin`) in the
  settlement asset; a MARKET order and a reduce-only order reserve nothing.
Margin held by open positions is not in `locked`; it is `AccountState.total_margin_used`.

`available = total − locked`, which may be negative: the books show an over-commitment, they do not
hide it. `borrowed` and `interest` are 0 (the catalogue has no borrowing yet; interest paid is a
`BalanceAdjusted`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from kernel import events as ev
from kernel.exchange.models import Balance
from kernel.lifecycle import TERMINAL
from kernel.order import ARITHMETIC, Order
from kernel.schema.order_spec import OrderSide
from projections.numbers import ONE, ZERO
from projections.positions import (
    DERIVATIVE_TYPES,
    contract_size,
    initial_margin,
    notional,
    settlement_asset,
)

_BUY, _SELL = OrderSide.BUY, OrderSide.SELL  # read once: a member read off its enum class costs a metaclass lookup

BalanceKey = tuple[str, str]
"""(account_id, asset_id)"""
Move = tuple[str, Decimal]
"""(asset_id, signed amount) added to a balance's total"""


class BalanceBook:
    """One (account, asset) balance's fact-driven part; `locked` comes from the orders."""

    __slots__ = ("account_id", "asset_id", "total", "updated_at")

    def __init__(self, account_id: str, asset_id: str):
        self.account_id = account_id
        self.asset_id = asset_id
        self.total = ZERO
        self.updated_at = 0  # greatest ts_event of a fact that moved it or changed what orders reserve in it

    @property
    def key(self) -> BalanceKey:
        return (self.account_id, self.asset_id)

    def touch(self, ts_event: int) -> None:
        self.updated_at = max(self.updated_at, ts_event)

    def to_model(self, locked: Decimal) -> Balance:
        return Balance(asset_id=self.asset_id, total=self.total, available=self.total - locked, locked=locked,
                       borrowed=ZERO, interest=ZERO, updated_at=self.updated_at)  # fmt: skip


def spot_assets(spec: ev.InstrumentSpec, base_currency: str) -> tuple[str, str]:
    """(base asset, quote asset) a non-derivative instrument exchanges."""
    return (spec.base_asset or spec.asset_id, spec.quote_asset or spec.settlement_asset or base_currency)


def spot_fill_moves(spec: ev.InstrumentSpec, base_currency: str, fill: ev.OrderFilled, side: OrderSide) -> list[Move]:
    base, quote = spot_assets(spec, base_currency)
    cost = fill.quantity * fill.price * contract_size(spec)
    moves: list[Move] = [(base, fill.quantity), (quote, -cost)] if side is _BUY else [
        (base, -fill.quantity), (quote, cost)]  # fmt: skip
    if fill.fee:
        moves.append((fill.fee_asset or quote, -fill.fee))
    return moves


def derivative_fill_moves(settlement: str, realized: Decimal, fill: ev.OrderFilled) -> list[Move]:
    """`realized` already holds the fee when it is paid in the settlement asset."""
    moves: list[Move] = [(settlement, realized)]
    if fill.fee and (fill.fee_asset or settlement) != settlement:
        moves.append((fill.fee_asset, -fill.fee))  # type: ignore[arg-type]
    return moves


def settlement_fee(fill: ev.OrderFilled, settlement: str) -> Decimal:
    """The part of a derivative fill's fee that is paid in its settlement asset (all of it, or none)."""
    return fill.fee if (fill.fee_asset or settlement) == settlement else ZERO


def reserves(order: Order) -> bool:
    """Whether an order reserves anything now: sent, and not yet FILLED, CANCELED, REJECTED or EXPIRED."""
    return order.submitted and order.status not in TERMINAL and order.intent is not None


def reservation(order: Order, spec: ev.InstrumentSpec, base_currency: str, leverage: Decimal | None) -> Move | None:
    """(asset, amount) the order reserves now, or None when it reserves nothing (see the module text)."""
    intent = order.intent
    if not order.submitted or intent is None or order.status in TERMINAL:  # `reserves(order)`
        return None
    # `order.remaining_quantity` of a sent order that is not terminal: what the exchange holds (the intent's
    # quantity while that is 0) minus what filled, never below 0
    quantity = order.exchange_quantity
    if not quantity > 0:
        quantity = intent.quantity
    remaining = ARITHMETIC.subtract(quantity, order.filled_quantity)
    if ZERO > remaining:  # max(remaining, ZERO)
        remaining = ZERO
    price = order.exchange_price
    if price is None:
        price = intent.price
        if price is None:
            price = intent.stop_price
    if spec.asset_type in DERIVATIVE_TYPES:  # `is_derivative(spec)`
        asset = settlement_asset(spec, base_currency)
        if intent.reduce_only or price is None:
            return (asset, ZERO)
        return (asset, initial_margin(notional(remaining, price, spec), spec, leverage))
    if intent.side is _SELL:  # `spot_assets(spec, base_currency)`
        return (spec.base_asset or spec.asset_id, remaining)
    quote = spec.quote_asset or spec.settlement_asset or base_currency
    size = ONE if spec.contract_size is None else spec.contract_size  # `contract_size(spec)`
    return (quote, ZERO if price is None else remaining * price * size)


def locked_by_asset(reservations: Iterable[Move | None]) -> dict[str, Decimal]:
    """Sum of reservations per asset (the caller passes them in a deterministic order)."""
    locked: dict[str, Decimal] = {}
    for move in reservations:
        if move is not None:
            asset, amount = move
            locked[asset] = locked.get(asset, ZERO) + amount
    return locked


_SMALL = 40  # an amount with |exponent| and adjusted exponent within this many digits is "small"
_UNITS: dict[int, Decimal] = {}  # exponent -> Decimal 1E<exponent> (quantize targets)


class LockedSum:
    """What one (account, asset) balance has locked: the amounts each reserving order reserves now
    (`amounts`, by intent id), and their sum as `locked_by_asset` computes it -- `0 + a1 + a2 + ...` in
    intent-id order under `ARITHMETIC` -- digit for digit, exponent included, kept as they change.

    While every amount is small (at most 40 digits on either side of the point), every partial sum, in any
    order, is exact in the 100-digit `ARITHMETIC`: the running total (`total`) is then the afresh sum's
    value, and the afresh sum's exponent is the least exponent of its terms and of the 0 it starts from,
    so `value()` is the total quantized to that exponent (the zero a sum ends on is +0 either way). With a
    wide amount present, `value()` sums afresh in intent-id order, as `locked_by_asset` does."""

    __slots__ = ("amounts", "exponents", "total", "wide")

    def __init__(self, amounts: dict[str, Decimal] | None = None) -> None:
        """Empty, or holding `amounts`. Until the first `value()`, `put`/`discard` only keep the amounts (a
        replay that never reads a balance pays nothing more); from then on, the sum too."""
        self.amounts: dict[str, Decimal] = {} if amounts is None else amounts
        self.exponents: dict[int, int] | None = None  # exponent -> how many amounts have it; None: not kept yet
        self.total: Decimal | None = ZERO  # the exact sum while no wide amount was in it (None: recompute)
        self.wide = 0  # amounts that are not small

    def __len__(self) -> int:
        return len(self.amounts)

    def put(self, intent_id: str, amount: Decimal) -> None:
        """The order now reserves `amount` here (replacing what it reserved before)."""
        old = self.amounts.get(intent_id)
        if old is not None:
            if old is amount:
                return
            if self.exponents is not None:  # (`_take` keeps nothing before)
                self._take(old)
        self.amounts[intent_id] = amount
        if self.exponents is None:
            return
        exponent = amount.as_tuple().exponent
        assert isinstance(exponent, int), f"a reservation is finite, got {amount}"
        self.exponents[exponent] = self.exponents.get(exponent, 0) + 1
        if -_SMALL <= exponent and amount.adjusted() <= _SMALL:
            if self.total is not None:
                self.total = ARITHMETIC.add(self.total, amount)
        else:
            self.wide += 1
            self.total = None

    def discard(self, intent_id: str) -> None:
        """The order reserves nothing here any more."""
        old = self.amounts.pop(intent_id, None)
        if old is not None:
            self._take(old)

    def _take(self, amount: Decimal) -> None:
        if self.exponents is None:
            return
        exponent = amount.as_tuple().exponent
        assert isinstance(exponent, int)
        left = self.exponents[exponent] - 1
        if left:
            self.exponents[exponent] = left
        else:
            del self.exponents[exponent]
        if -_SMALL <= exponent and amount.adjusted() <= _SMALL:
            if self.total is not None:
                self.total = ARITHMETIC.subtract(self.total, amount)
        else:
            self.wide -= 1

    def value(self) -> Decimal:
        """The sum, exactly as `locked_by_asset` gives it for these amounts taken in intent-id order."""
        amounts = self.amounts
        if self.exponents is None:  # work out what is kept about the amounts given
            self.exponents, self.total, self.wide = {}, ZERO, 0
            self.amounts = {}
            for intent_id, amount in amounts.items():
                self.put(intent_id, amount)
            amounts = self.amounts
        if self.wide:
            total = ZERO
            for intent_id in sorted(amounts):
                total = ARITHMETIC.add(total, amounts[intent_id])
            return total
        if self.total is None:
            total = ZERO
            for amount in amounts.values():  # all small: exact in any order
                total = ARITHMETIC.add(total, amount)
            self.total = total
        exponent = min(0, min(self.exponents, default=0))  # type: ignore[arg-type]
        unit = _UNITS.get(exponent)
        if unit is None:
            unit = _UNITS[exponent] = Decimal((0, (1,), exponent))
        return self.total.quantize(unit, context=ARITHMETIC)
