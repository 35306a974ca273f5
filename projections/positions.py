"""The position fold: one netting position per (account, symbol), for derivatives only.

Which instruments make positions: PERPETUAL, FUTURE, INVERSE_PERPETUAL and INVERSE_FUTURE
(`DERIVATIVE_TYPES`). A fill of any other instrument (SPOT, MARGIN, CURRENCY, OPTION) exchanges assets
and moves balances only (see `projections.balances`); it makes no position.

The numbers (NautilusTrader's netting position, with its flip handling, is the reference):

- `quantity` is signed: BUY fills add, SELL fills subtract.
- The average entry price moves only on fills that increase the position, quantity-weighted:
  `entry' = (|q| × entry + fill_qty × fill_price) ÷ (|q| + fill_qty)` (the arithmetic mean, for inverse
  contracts too). Reducing fills leave it unchanged.
- A reducing fill realizes, on the `closed` quantity (at most |q|):
  linear:  `closed × (fill − entry) × contract_size`, sign reversed for a short;
  inverse: `closed × contract_size × (1/entry − 1/fill)` (in the settlement coin), sign reversed for a
  short, computed as one quotient `closed × contract_size × (fill − entry) ÷ (entry × fill)`.
  `contract_size` is 1 when the instrument does not give one.
- A fill crossing zero closes the whole position at the fill price and opens the remainder at the fill
  price. Its fee is split pro rata: `fee × closed ÷ fill_qty` to the closing part, the rest (exactly,
  by subtraction) to the opening part.
- `realized_pnl` covers the position's current life and is net of the fees paid in the settlement asset
  (a rebate, a negative fee, adds): opening and increasing fills subtract their fee, reducing fills add
  their PnL minus their fee. It starts again (at minus the opening fee) when the position opens from
  flat or flips. Every fill returns its realized increment so that the account can keep the cumulative
  total across lives (`AccountBook.realized_pnl`).
- A flat position keeps its row: quantity 0, side None, entry price None, its last life's realized PnL.
- `unrealized_pnl` uses the account's latest mark price for the symbol (None without one; 0 when flat):
  linear `q × (mark − entry) × contract_size`; inverse `q × contract_size × (mark − entry) ÷ (entry × mark)`.
- `margin_used` = initial margin of `|q|` at the mark price (the entry price until a mark is known); see
  `initial_margin` for the rate.
- `liquidation_price` (isolated margin, linear contracts only): long `entry × (1 − 1/leverage + mmr)`,
  short `entry × (1 + 1/leverage − mmr)`, with `mmr` the instrument's maintenance margin rate. None when
  flat, when the leverage or the maintenance margin rate is unknown, for inverse contracts, or when the
  estimate is not a positive price (a long at leverage ≤ 1 cannot be liquidated).

All arithmetic runs under `projections.numbers.ARITHMETIC`; quotients go through `div` (28 digits).
"""

from __future__ import annotations

from decimal import Decimal

from kernel import events as ev
from kernel.exchange.models import Asset, AssetMetadata, Position
from kernel.schema.order_spec import AssetType, OrderSide
from projections.numbers import ONE, ZERO, div

DERIVATIVE_TYPES = frozenset(
    {AssetType.PERPETUAL, AssetType.FUTURE, AssetType.INVERSE_PERPETUAL, AssetType.INVERSE_FUTURE}
)
INVERSE_TYPES = frozenset({AssetType.INVERSE_PERPETUAL, AssetType.INVERSE_FUTURE})
LONG, SHORT = "LONG", "SHORT"
_BUY = OrderSide.BUY  # read once: a member read off its enum class costs a metaclass lookup

PositionKey = tuple[str, str]
"""(account_id, symbol)"""


def is_derivative(spec: ev.InstrumentSpec) -> bool:
    return spec.asset_type in DERIVATIVE_TYPES


def is_inverse(spec: ev.InstrumentSpec) -> bool:
    return spec.asset_type in INVERSE_TYPES


def contract_size(spec: ev.InstrumentSpec) -> Decimal:
    return ONE if spec.contract_size is None else spec.contract_size


def settlement_asset(spec: ev.InstrumentSpec, base_currency: str) -> str:
    """Where a derivative's PnL, fees and margin live: its settlement asset, else its quote asset,
    else the account's base currency."""
    return spec.settlement_asset or spec.quote_asset or base_currency


def notional(quantity: Decimal, price: Decimal, spec: ev.InstrumentSpec) -> Decimal:
    """Value of |quantity| contracts at `price`, in the settlement asset (inverse: `|q| × size ÷ price`)."""
    size = abs(quantity) * contract_size(spec)
    return div(size, price) if is_inverse(spec) else size * price


def initial_margin(value: Decimal, spec: ev.InstrumentSpec, leverage: Decimal | None) -> Decimal:
    """Initial margin of a notional `value`: × the instrument's initial margin rate; without a rate,
    ÷ the account's leverage for the symbol; without either, the whole notional (leverage 1)."""
    if spec.initial_margin_rate is not None:
        return value * spec.initial_margin_rate
    if leverage:
        return div(value, leverage)
    return value


def closing_pnl(closed: Decimal, entry: Decimal, price: Decimal, long: bool, spec: ev.InstrumentSpec) -> Decimal:
    """PnL of closing `closed` (> 0) contracts entered at `entry` at `price`, before fees."""
    move = (price - entry) * closed * contract_size(spec)
    pnl = div(move, entry * price) if is_inverse(spec) else move
    return pnl if long else ZERO - pnl  # ZERO - x: never a negative zero


def asset_metadata(spec: ev.InstrumentSpec) -> AssetMetadata:
    """The seed's `AssetMetadata` of a registered instrument (its base and quote assets are dropped)."""
    return AssetMetadata(**{name: getattr(spec, name) for name in AssetMetadata.model_fields})


class PositionBook:
    """One netting position's state. `apply_fill` is its fold step; `to_model` its seed view."""

    __slots__ = ("account_id", "entry_price", "quantity", "realized_pnl", "symbol", "updated_at")

    def __init__(self, account_id: str, symbol: str):
        self.account_id = account_id
        self.symbol = symbol
        self.quantity = ZERO  # signed: > 0 long, < 0 short
        self.entry_price: Decimal | None = None  # None exactly when flat
        self.realized_pnl = ZERO  # the current life's, net of settlement-asset fees
        self.updated_at = 0  # greatest ts_event of a fill, mark, leverage or instrument change applied

    @property
    def key(self) -> PositionKey:
        return (self.account_id, self.symbol)

    @property
    def side(self) -> str | None:
        if self.quantity > 0:
            return LONG
        return SHORT if self.quantity < 0 else None

    def touch(self, ts_event: int) -> None:
        self.updated_at = max(self.updated_at, ts_event)

    def apply_fill(self, side: OrderSide, quantity: Decimal, price: Decimal, fee: Decimal,
                   spec: ev.InstrumentSpec) -> Decimal:  # fmt: skip
        """Fold one fill of `quantity` (> 0) at `price`; `fee` is the part of its fee paid in the
        settlement asset (0 when paid in another asset). Returns the PnL it realizes, net of `fee`."""
        signed = quantity if side is _BUY else -quantity
        held = self.quantity
        if held == 0 or (held > 0) == (signed > 0):  # opens from flat, or increases
            if held == 0 or self.entry_price is None:
                self.realized_pnl = ZERO  # a new life
                self.entry_price = price
            else:
                self.entry_price = div(abs(held) * self.entry_price + quantity * price, abs(held) + quantity)
            self.quantity = held + signed
            self.realized_pnl -= fee
            return ZERO - fee
        assert self.entry_price is not None
        closed = min(quantity, abs(held))
        pnl = closing_pnl(closed, self.entry_price, price, held > 0, spec)
        self.quantity = held + signed
        if quantity <= abs(held):  # reduces, or closes exactly
            self.realized_pnl += pnl - fee
            if self.quantity == 0:
                self.entry_price = None
            return pnl - fee
        # Flips: the closing part ends this life (its PnL less its share of the fee goes to the account's
        # total), the rest opens a new life at the fill price carrying the rest of the fee.
        closing_fee = div(fee * closed, quantity)
        self.entry_price = price
        self.realized_pnl = closing_fee - fee
        return pnl - fee

    # ------------------------------------------------------------------ derived from marks and leverage
    def unrealized_pnl(self, mark: Decimal | None, spec: ev.InstrumentSpec) -> Decimal | None:
        if self.quantity == 0:
            return ZERO
        if mark is None or self.entry_price is None:
            return None
        move = ZERO + (mark - self.entry_price) * self.quantity * contract_size(spec)  # 0 + (-0) is 0
        return div(move, self.entry_price * mark) if is_inverse(spec) else move

    def margin_used(self, mark: Decimal | None, spec: ev.InstrumentSpec, leverage: Decimal | None) -> Decimal:
        price = mark if mark is not None else self.entry_price
        if self.quantity == 0 or price is None:
            return ZERO
        return initial_margin(notional(self.quantity, price, spec), spec, leverage)

    def liquidation_price(self, spec: ev.InstrumentSpec, leverage: Decimal | None) -> Decimal | None:
        mmr = spec.maintenance_margin_rate
        entry = self.entry_price
        if self.quantity == 0 or entry is None or not leverage or mmr is None or is_inverse(spec):
            return None
        cushion = div(entry, leverage)  # entry × 1/leverage
        if self.quantity > 0:
            estimate = entry + entry * mmr - cushion
        else:
            estimate = entry - entry * mmr + cushion
        return estimate if estimate > 0 else None

    def to_model(self, spec: ev.InstrumentSpec, mark: Decimal | None, leverage: Decimal | None) -> Position:
        """The seed's `Position`: `position_id` is "<account_id>:<symbol>"; the `Asset` holds the signed
        quantity (all of it available, none locked: orders reserve margin, not contracts)."""
        asset = Asset(
            asset_id=spec.asset_id, quantity=self.quantity, available=self.quantity, locked=ZERO,
            entry_price=self.entry_price, mark_price=mark, liquidation_price=self.liquidation_price(spec, leverage),
            unrealized_pnl=self.unrealized_pnl(mark, spec), realized_pnl=self.realized_pnl,
            margin_used=self.margin_used(mark, spec, leverage), updated_at=self.updated_at,
        )  # fmt: skip
        return Position(
            position_id=f"{self.account_id}:{self.symbol}", symbol_id=self.symbol, asset=asset,
            metadata=asset_metadata(spec), leverage=leverage, side=self.side, updated_at=self.updated_at,
        )  # fmt: skip
