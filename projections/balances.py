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

What `locked` is: the sum of what the account's open orders reserve now (`reservation`), computed from
the orders when asked, so that it always agrees with them. An order reserves only once it was sent
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
from kernel.order import Order
from kernel.schema.order_spec import OrderSide
from projections.numbers import ZERO
from projections.positions import (
    contract_size,
    initial_margin,
    is_derivative,
    notional,
    settlement_asset,
)

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
    moves: list[Move] = [(base, fill.quantity), (quote, -cost)] if side is OrderSide.BUY else [
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
    if not reserves(order):
        return None
    intent = order.intent
    assert intent is not None
    remaining = order.remaining_quantity
    price = order.exchange_price if order.exchange_price is not None else intent.price
    price = price if price is not None else intent.stop_price
    if is_derivative(spec):
        asset = settlement_asset(spec, base_currency)
        if intent.reduce_only or price is None:
            return (asset, ZERO)
        return (asset, initial_margin(notional(remaining, price, spec), spec, leverage))
    base, quote = spot_assets(spec, base_currency)
    if intent.side is OrderSide.SELL:
        return (base, remaining)
    return (quote, ZERO if price is None else remaining * price * contract_size(spec))


def locked_by_asset(reservations: Iterable[Move | None]) -> dict[str, Decimal]:
    """Sum of reservations per asset (the caller passes them in a deterministic order)."""
    locked: dict[str, Decimal] = {}
    for move in reservations:
        if move is not None:
            asset, amount = move
            locked[asset] = locked.get(asset, ZERO) + amount
    return locked
