"""The order view: the seed's `OrderState` plus what users need beside it.

The order fold itself is the kernel's `Order.apply` (one transition table, one place); the books keep one
`kernel.order.Order` per (account_id, intent_id) and this module only reads it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from kernel.exchange.models import OrderState
from kernel.order import Order
from kernel.schema.order_spec import Float, StandardOrder, Uint64

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
