"""The order view: the seed's `OrderState` plus what users need beside it.

The order fold itself is the kernel's `Order.apply` (one transition table, one place); the books keep one
`kernel.order.Order` per (account_id, intent_id) and this module only reads it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kernel.exchange.models import OrderState
from kernel.lifecycle import reconciliation
from kernel.order import ARITHMETIC, QUOTIENT, ZERO, Order
from kernel.schema.order_spec import Float, StandardOrder, StandardOrderStatus, Uint64
from projections.numbers import canonical_decimal

OrderKey = tuple[str, str]
"""(account_id, intent_id)"""


class OrderView(BaseModel):
    """One order as the books see it: its `OrderState` and the figures folded from its fills."""

    model_config = {"extra": "forbid"}

    account_id: str
    intent_id: str
    state: OrderState = Field(description="The seed's view: status, reconciliation, exchange id, last sync")
    order: StandardOrder = Field(description="What the strategy wants now (the latest intent)")
    quantity: Float = Field(description="What fills count against: the exchange's quantity once sent")
    price: Float | None = Field(description="The exchange's price once sent (amends included), else the intent's")
    filled_quantity: Float
    average_fill_price: Float | None = Field(description="Σ qty × price ÷ Σ qty over distinct fills (28 digits)")
    remaining_quantity: Float = Field(description="quantity − filled, never below 0; 0 once canceled/expired/rejected")
    fees: dict[str, Float] = Field(description="Fees paid, by asset (rebates negative)")
    anomalies: list[str] = Field(description="Flags in the order they were raised (overfill, fill_after_cancel, ...)")
    external: bool = Field(description="Discovered at the exchange, no intent created it")
    client_order_id: str
    group_id: str | None
    created_at: Uint64
    updated_at: Uint64 = Field(description="ts_event of the order's last event")

    @classmethod
    def of(cls, order: Order) -> OrderView:
        assert order.intent is not None, "a view of an order that does not exist"
        price = order.exchange_price if order.submitted else order.intent.price
        return cls(
            account_id=order.account_id, intent_id=order.intent_id, state=order.order_state(),
            order=order.intent.to_standard(), quantity=order.quantity, price=price,
            filled_quantity=order.filled_quantity,
            average_fill_price=order.average_fill_price,
            remaining_quantity=order.remaining_quantity, fees=dict(sorted(order.fees.items())),
            anomalies=list(order.anomalies), external=order.external, client_order_id=order.client_order_id,
            group_id=order.group_id, created_at=order.created_at, updated_at=order.updated_at,
        )  # fmt: skip


def _text(number: Any) -> Any:
    return None if number is None else canonical_decimal(number)


# `lifecycle.reconciliation` of every (status, submitted, intent matches the exchange): a pure function of
# those three, looked up here instead of recomputed for every order digested
_RECONCILIATION = {
    (status, submitted, matches): reconciliation(status, submitted=submitted, intent_matches_exchange=matches)
    for status in StandardOrderStatus for submitted in (False, True) for matches in (False, True)
}  # fmt: skip


def order_document(order: Order) -> dict[str, Any]:
    """`hashing.canonical(OrderView.of(order).model_dump())` as msgspec encodes it (enums stay members: they
    encode as their values), computed straight from the kernel `Order`
    (no pydantic models: the order digest at eviction runs once per order of the history). The same
    document, so the same bytes: `tests/unit/projections/test_state_hash.py` checks it against the
    OrderView path on every order of its histories. Every object's keys are in sorted order already (what
    `hashing.order_digest` relies on), the fees' too."""
    intent = order.intent
    assert intent is not None, "a view of an order that does not exist"
    status = order.status
    assert status is not None
    text = canonical_decimal
    submitted = order.submitted
    exchange_price = order.exchange_price
    exchange_quantity = order.exchange_quantity
    filled = order.filled_quantity
    intent_price = intent.price
    intent_quantity = intent.quantity
    matches = intent_quantity == exchange_quantity and intent_price == exchange_price
    # `order.quantity` and `order.remaining_quantity`, inline
    quantity = exchange_quantity if submitted and exchange_quantity > 0 else intent_quantity
    if status in _NOTHING_REMAINS:
        remaining = ZERO
    else:
        remaining = ARITHMETIC.subtract(quantity, filled)
        if ZERO > remaining:
            remaining = ZERO
    price = exchange_price if submitted else intent_price
    stop_price = intent.stop_price
    fees = order.fees
    return {
        "account_id": order.account_id,
        "anomalies": list(order.anomalies),
        "average_fill_price": text(QUOTIENT.divide(order.filled_notional, filled)) if filled else None,
        "client_order_id": order.client_order_id,
        "created_at": order.created_at,
        "external": order.external,
        "fees": {asset: text(fees[asset]) for asset in sorted(fees)} if fees else {},
        "filled_quantity": text(filled),
        "group_id": order.group_id,
        "intent_id": order.intent_id,
        "order": {
            "expire_at": intent.expire_at,
            "order_type": intent.order_type,
            "post_only": intent.post_only,
            "price": None if intent_price is None else text(intent_price),
            "quantity": text(intent_quantity),
            "reduce_only": intent.reduce_only,
            "side": intent.side,
            "stop_price": None if stop_price is None else text(stop_price),
            "symbol": intent.symbol,
            "time_in_force": intent.time_in_force,
        },
        "price": None if price is None else text(price),
        "quantity": text(quantity),
        "remaining_quantity": text(remaining),
        "state": {
            "error_message": order.error_message,
            "exchange_order_id": order.exchange_order_id,
            "intent_id": order.intent_id,
            "last_sync_at": order.last_sync_at,
            "reconciliation_status": _RECONCILIATION[status, submitted, matches],
            "status": status,
        },
        "updated_at": order.updated_at,
    }  # fmt: skip


_NOTHING_REMAINS = (StandardOrderStatus.CANCELED, StandardOrderStatus.EXPIRED, StandardOrderStatus.REJECTED)
