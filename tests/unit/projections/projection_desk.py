"""A small trading desk for the projection tests: drives a `memory://` Ledger with one-line calls and
folds its log into `Books`. Every call advances a simulated clock by 1 s, so ts_event is predictable."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from kernel.ledger import Ledger
from kernel.testing import T0_NS
from projections import Books

SECOND_NS = 1_000_000_000
D = Decimal


class Desk:
    def __init__(self) -> None:
        self.ts = T0_NS
        recorded = itertools.count(T0_NS)
        self.ledger = Ledger.open("memory://", clock=lambda: next(recorded))
        self._ids = itertools.count(1)

    def tick(self) -> int:
        self.ts += SECOND_NS
        return self.ts

    # ------------------------------------------------------------------ account stream
    def open(self, account: str = "acc", account_type: str = "FUTURES", base: str = "USDT") -> Desk:
        self.ledger.open_account(account, exchange="test", account_type=account_type, base_currency=base,
                                 ts_event=self.tick())  # fmt: skip
        return self

    def instrument(self, account: str = "acc", symbol: str = "BTCUSDT", asset_type: str = "PERPETUAL", *,
                   base: str | None = "BTC", quote: str | None = "USDT", **terms: Any) -> Desk:  # fmt: skip
        asset = dict(asset_id=f"{symbol}-{asset_type}", symbol=symbol, asset_type=asset_type, name=symbol, **terms)
        self.ledger.register_asset(account, asset, ts_event=self.tick(), base_asset=base, quote_asset=quote)
        return self

    def adjust(self, amount: Any, asset: str = "USDT", reason: str = "DEPOSIT", account: str = "acc") -> None:
        self.ledger.adjust_balance(account, asset_id=asset, amount=amount, reason=reason, ts_event=self.tick(),
                                   reference=f"adj-{next(self._ids)}")  # fmt: skip

    def mark(self, price: Any, symbol: str = "BTCUSDT", account: str = "acc") -> None:
        self.ledger.record_mark_price(account, symbol_id=symbol, price=price, ts_event=self.tick())

    def leverage(self, leverage: Any, symbol: str = "BTCUSDT", account: str = "acc") -> None:
        self.ledger.set_leverage(account, symbol_id=symbol, leverage=leverage, ts_event=self.tick())

    # ------------------------------------------------------------------ orders
    def order(self, side: str, quantity: Any, price: Any = None, *, symbol: str = "BTCUSDT", account: str = "acc",
              order_type: str | None = None, submit: bool = True, accept: bool = True, **spec: Any) -> str:  # fmt: skip
        intent_id = f"o-{next(self._ids)}"
        order_type = order_type or ("MARKET" if price is None else "LIMIT")
        ts = self.tick()
        order = dict(symbol=symbol, side=side, order_type=order_type, quantity=quantity, price=price, **spec)
        self.ledger.place_intent(account, dict(intent_id=intent_id, order=order, created_at=ts, updated_at=ts))
        if submit:
            self.ledger.start_submission(account, intent_id, client_order_id=f"c-{intent_id}", ts_event=self.tick())
            if accept:
                self.ledger.record_accepted(account, intent_id, exchange_order_id=f"E-{intent_id}",
                                            ts_event=self.tick())  # fmt: skip
        return intent_id

    def fill(self, intent_id: str, quantity: Any, price: Any, fee: Any = 0, fee_asset: str | None = "USDT",
             account: str = "acc") -> None:  # fmt: skip
        self.ledger.record_fill(account, intent_id, trade_id=f"t-{next(self._ids)}", quantity=quantity, price=price,
                                fee=fee, fee_asset=fee_asset if D(str(fee)) else None, ts_event=self.tick())  # fmt: skip

    def trade(self, side: str, quantity: Any, price: Any, fee: Any = 0, fee_asset: str | None = "USDT", *,
              symbol: str = "BTCUSDT", account: str = "acc") -> str:  # fmt: skip
        """A market order filled at once, in one trade."""
        intent_id = self.order(side, quantity, symbol=symbol, account=account)
        self.fill(intent_id, quantity, price, fee, fee_asset, account=account)
        return intent_id

    def cancel(self, intent_id: str, account: str = "acc") -> None:
        self.ledger.cancel_intent(account, intent_id, ts_event=self.tick())
        self.ledger.record_cancel_accepted(account, intent_id, ts_event=self.tick())

    # ------------------------------------------------------------------ reading
    def events(self) -> list:
        return [e for _, e in self.ledger.read()]

    def books(self) -> Books:
        return Books.of(self.events())


def perp_desk(**terms: Any) -> Desk:
    """A FUTURES account "acc" (USDT) trading the linear perpetual BTCUSDT with `terms`."""
    return Desk().open().instrument(settlement_asset="USDT", **terms)


def spot_desk() -> Desk:
    """A SPOT account "acc" (USDT) trading BTCUSDT (BTC/USDT) and BNBUSDT."""
    desk = Desk().open(account_type="SPOT").instrument(asset_type="SPOT")
    return desk.instrument(symbol="BNBUSDT", asset_type="SPOT", base="BNB")
