"""What the ledger must end with, computed beside the stream by the ledger's documented rules (not by its
code): pass an `Expected()` and it is filled in as the stream is generated (complete once the iterator is
exhausted), or call `expect_spot_day` / `expect_futures_day`. Spot balances: deposits + what fills exchange -
commissions; locked: what working orders hold (a BUY its remaining quantity at its price, a SELL its remaining
quantity). Futures wallet: deposits + realized PnL - commissions + funding, per asset; positions: the sum of
signed fills, with the average entry price of the ledger's netting position. Every number the exchange reports
(f, l, wb, pa, ep) is exactly the expected one, so a reconciliation after ingesting the stream shows no
difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from kernel import events as ev
from kernel.schema.order_spec import StandardOrderStatus

ZERO = Decimal(0)


# ------------------------------------------------------------------------------ expectations
@dataclass
class ExpectedOrder:
    client_order_id: str  # the id it was placed under (the key in `Expected.orders`)
    exchange_order_id: str
    order: ev.OrderSpec  # as placed, before any amend
    status: StandardOrderStatus  # the ledger's status once the whole stream is recorded
    quantity: Decimal  # what the exchange holds at the end (after amends and self-trade prevention)
    filled: Decimal = ZERO
    trades: int = 0
    fees: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Expected:
    """What the ledger must hold once the stream is recorded."""

    orders: dict[str, ExpectedOrder] = field(default_factory=dict)  # by the client order id placed under
    balances: dict[str, Decimal] = field(default_factory=dict)  # asset -> total (futures: the wallet balance)
    locked: dict[str, Decimal] = field(default_factory=dict)  # spot: what working orders hold
    positions: dict[str, Decimal] = field(default_factory=dict)  # futures: symbol -> signed quantity
    entry_prices: dict[str, Decimal | None] = field(default_factory=dict)  # futures: None when flat
    realized_pnl: Decimal = ZERO  # futures: net of settlement-asset commissions, all symbols
    funding: Decimal = ZERO  # futures: the sum of funding payments
    messages: int = 0
    skipped: int = 0  # messages the translator skips by design (TRADE_LITE)
    first_ts: int = 0  # ms
    last_ts: int = 0
