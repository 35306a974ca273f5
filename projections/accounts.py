"""The account fold: what the account stream says (exchange, type, base currency, instruments, latest
mark prices, leverage, the last balances the exchange reported) plus the cumulative realized PnL, and
the seed's `AccountState` built from it, the account's balances and its positions.

`AccountState`:
- `balances`: every balance row of the account, sorted by asset id;
- `positions`: the open positions only (quantity ≠ 0), sorted by symbol;
- for FUTURES and MARGIN accounts, in the account's base currency (positions settling in another asset
  are listed but not summed; `metadata["realized_pnl_by_asset"]` keeps every asset's total):
  `total_unrealized_pnl` = Σ unrealized PnL of the positions (a position without a mark price counts 0),
  `total_equity` = base-currency balance total + total_unrealized_pnl,
  `total_margin_used` = Σ initial margin of |q| at the mark (entry until a mark is known):
  `|q| × mark × contract_size × initial_margin_rate`, or ÷ leverage without a rate,
  `total_available_margin` = equity − margin used (open orders' margin is in `Balance.locked`),
  `margin_level` = equity ÷ margin used (None while no margin is used),
  `total_realized_pnl` = realized PnL net of settlement fees over the whole history, all lives;
  for SPOT accounts all of these are None (spot fills realize nothing: they exchange assets);
- `updated_at` = the greatest `ts_event` of any event applied for the account (orders included);
- `metadata`: `account_type`, `base_currency`, for margin accounts `realized_pnl_by_asset`, and once the
  exchange reported balances, `exchange_balances` ({asset: {"total", "locked"}}) and
  `exchange_balances_at` (its ts_event), for reconciliation. Decimals in metadata are canonical strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from kernel import events as ev
from kernel.exchange.models import AccountState, Balance
from projections.numbers import ZERO, canonical_decimal, div
from projections.positions import PositionBook, settlement_asset

MARGIN_ACCOUNT_TYPES = frozenset({ev.AccountType.FUTURES, ev.AccountType.MARGIN})


class AccountBook:
    """One account's stream, folded; `realized_pnl` is fed by the position fold."""

    __slots__ = ("account_id", "instruments", "leverage", "marks", "opened", "realized_pnl", "reported",
                 "updated_at")  # fmt: skip

    def __init__(self, account_id: str):
        self.account_id = account_id
        self.opened: ev.AccountOpened | None = None
        self.instruments: dict[str, ev.InstrumentSpec] = {}  # by symbol; a re-registration replaces
        self.marks: dict[str, Decimal] = {}  # latest mark price by symbol
        self.leverage: dict[str, Decimal] = {}  # by symbol
        self.realized_pnl: dict[str, Decimal] = {}  # cumulative, net of settlement fees, by settlement asset
        self.reported: ev.ExchangeBalancesReported | None = None  # the latest report
        self.updated_at = 0

    @property
    def base_currency(self) -> str:
        return self.opened.base_currency if self.opened else ""

    @property
    def is_margin(self) -> bool:
        return self.opened is not None and self.opened.account_type in MARGIN_ACCOUNT_TYPES

    def touch(self, ts_event: int) -> None:
        self.updated_at = max(self.updated_at, ts_event)

    def apply(self, e: ev.AccountEvent) -> None:
        """Fold an account-stream event (BalanceAdjusted moves a balance: the books do that)."""
        self.touch(e.ts_event)
        if isinstance(e, ev.AccountOpened):
            self.opened = e
        elif isinstance(e, ev.AssetRegistered):
            self.instruments[e.asset.symbol] = e.asset
        elif isinstance(e, ev.MarkPriceRecorded):
            self.marks[e.symbol_id] = e.price
        elif isinstance(e, ev.LeverageSet):
            self.leverage[e.symbol_id] = e.leverage
        elif isinstance(e, ev.ExchangeBalancesReported):
            self.reported = e

    def realize(self, asset: str, amount: Decimal) -> None:
        self.realized_pnl[asset] = self.realized_pnl.get(asset, ZERO) + amount

    def to_model(self, balances: list[Balance], positions: Iterable[PositionBook]) -> AccountState:
        """The seed's `AccountState`; `balances` sorted by asset id, `positions` sorted by symbol (all of the
        account's rows: the flat ones are left out here)."""
        assert self.opened is not None, "to_model() of an account that was never opened"
        base = self.base_currency
        models = []
        unrealized = margin_used = ZERO
        for position in positions:
            spec = self.instruments[position.symbol]
            mark, leverage = self.marks.get(position.symbol), self.leverage.get(position.symbol)
            if position.quantity != 0:
                models.append(position.to_model(spec, mark, leverage))
            if settlement_asset(spec, base) == base:
                unrealized += position.unrealized_pnl(mark, spec) or ZERO
                margin_used += position.margin_used(mark, spec, leverage)
        metadata: dict[str, Any] = {"account_type": str(self.opened.account_type), "base_currency": base}
        figures: dict[str, Decimal | None] = {}
        if self.is_margin:
            cash = next((b.total for b in balances if b.asset_id == base), ZERO)
            equity = cash + unrealized
            figures = {
                "total_equity": equity, "total_margin_used": margin_used,
                "total_available_margin": equity - margin_used,
                "margin_level": div(equity, margin_used) if margin_used else None,
                "total_unrealized_pnl": unrealized, "total_realized_pnl": self.realized_pnl.get(base, ZERO),
            }  # fmt: skip
            metadata["realized_pnl_by_asset"] = {
                asset: canonical_decimal(amount) for asset, amount in sorted(self.realized_pnl.items())
            }
        if self.reported is not None:
            metadata["exchange_balances"] = {
                b.asset_id: {"total": canonical_decimal(b.total), "locked": canonical_decimal(b.locked)}
                for b in sorted(self.reported.balances, key=lambda b: b.asset_id)
            }
            metadata["exchange_balances_at"] = self.reported.ts_event
        return AccountState(
            account_id=self.account_id, exchange=self.opened.exchange, balances=balances, positions=models,
            updated_at=self.updated_at, metadata=metadata, **figures,
        )  # fmt: skip
