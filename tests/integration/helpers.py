"""Small builders shared by the integration tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ACCOUNT = "acc-1"
SYMBOL = "BTCUSDT"


def order_spec(quantity: str = "1", price: str | None = "100", *, side: str = "BUY", symbol: str = SYMBOL,
               **extra: Any) -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {"symbol": symbol, "side": side, "quantity": quantity}
    spec["order_type"] = "LIMIT" if price is not None else "MARKET"
    if price is not None:
        spec["price"] = price
    spec.update(extra)
    return spec


def intent(intent_id: str, quantity: str = "1", price: str | None = "100", *, ts: int = 10,
           group_id: str | None = None, metadata: dict[str, Any] | None = None,
           **order_extra: Any) -> dict[str, Any]:  # fmt: skip
    """An `OrderIntent` as a dict; `order_extra` goes into its order."""
    data = {"intent_id": intent_id, "order": order_spec(quantity, price, **order_extra), "created_at": ts,
            "updated_at": ts}  # fmt: skip
    if group_id is not None:
        data["group_id"] = group_id
    if metadata is not None:
        data["metadata"] = metadata
    return data


def open_spot_account(ledger: Any, account_id: str = ACCOUNT) -> None:
    ledger.open_account(account_id, exchange="binance", account_type="SPOT", base_currency="USDT", ts_event=1)
    ledger.register_asset(
        account_id,
        {"asset_id": SYMBOL, "symbol": SYMBOL, "asset_type": "SPOT", "name": "Bitcoin / Tether",
         "tick_size": "0.01", "lot_size": "0.00001"},
        ts_event=2, base_asset="BTC", quote_asset="USDT",
    )  # fmt: skip


def live_order(ledger: Any, intent_id: str, quantity: str = "1", price: str | None = "100",
               account_id: str = ACCOUNT) -> None:  # fmt: skip
    """Placed, submitted and accepted (exchange order id `X-<intent_id>`)."""
    ledger.place_intent(account_id, intent(intent_id, quantity, price))
    ledger.start_submission(account_id, intent_id, client_order_id=f"c-{intent_id}", ts_event=11)
    ledger.record_accepted(account_id, intent_id, exchange_order_id=f"X-{intent_id}", ts_event=12)


def names(events: Any) -> list[str]:
    return [type(e).__name__ for e in events]


def log(ledger: Any) -> list[tuple[int, Any]]:
    return list(ledger.read())


def D(text: str) -> Decimal:  # noqa: N802 - reads like the literal it is
    return Decimal(text)


def placed_and_accepted(ledger: Any, account_id: str, intent_id: str, ts: int) -> None:
    """A limit buy of 1 BTCUSDT at 100, submitted (client order id c-<intent>) and accepted (X-<intent>)."""
    order = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": "1", "price": "100"}
    ledger.place_intent(account_id, {"intent_id": intent_id, "order": order, "created_at": ts, "updated_at": ts})
    ledger.start_submission(account_id, intent_id, client_order_id=f"c-{intent_id}", ts_event=ts + 1)
    ledger.record_accepted(account_id, intent_id, exchange_order_id=f"X-{intent_id}", ts_event=ts + 2)


def assert_nothing_recorded(ledger, head: int) -> None:
    """The log still ends at notification id `head` (ids may have gaps on PostgreSQL: never count them)."""
    assert ledger.head() == head
    entries = log(ledger)
    assert (entries[-1][0] if entries else 0) == head
