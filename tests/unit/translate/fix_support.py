"""What the FIX translator tests share: instruments, message builders and the facts they mean."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.translate.base import OrderFact, OrderRef, Untranslatable, fix_time_to_ns
from adapters.translate.fix import translate
from adapters.translate.fix_sim import (
    fix_message,
)
from kernel import events as ev
from kernel.schema.order_spec import AssetType, OrderSide, OrderType, TimeInForce

K = ev.ReportKind


def instrument(symbol: str, base: str, quote: str, tick: str, lot: str) -> ev.InstrumentSpec:
    return ev.InstrumentSpec(asset_id=symbol, symbol=symbol, asset_type=AssetType.SPOT, name=f"{base}/{quote}",
                             base_asset=base, quote_asset=quote, tick_size=Decimal(tick), lot_size=Decimal(lot))  # fmt: skip


INSTRUMENTS = {
    "BTCUSDT": instrument("BTCUSDT", "BTC", "USDT", "0.01", "0.00001"),
    "ETHUSDT": instrument("ETHUSDT", "ETH", "USDT", "0.01", "0.0001"),
}
SENDING = "20240102-09:30:00.250"
TRANSACT = "20240102-09:30:00.123456"
TS = fix_time_to_ns(TRANSACT, "t")
PLACEHOLDERS: dict[str, Any] = {"account_id": "", "intent_id": "", "ts_event": TS, "ts_recorded": 0}
SPEC = ev.OrderSpec(symbol="BTCUSDT", side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=Decimal("0.5"),
                    price=Decimal("42000.5"), time_in_force=TimeInForce.GTC)  # fmt: skip
REF = OrderRef("BTCUSDT", "C1", "", "O1", SPEC)
ORDER = [(55, "BTCUSDT"), (54, "1"), (38, "0.5"), (40, "2"), (44, "42000.5"), (59, "1")]


def header(msg_type: str) -> list[tuple[int, object]]:
    return [(35, msg_type), (49, "VENUE"), (56, "DROPCOPY"), (34, 42), (52, SENDING)]


def execution_report(exec_type: str, ord_status: str, *extra: tuple[int, object], ids=None, order=None,
                     delimiter: bytes = b"\x01", begin: str = "FIX.4.4") -> bytes:  # fmt: skip
    """An ExecutionReport (35=8) of order O1 (ClOrdID C1, buy 0.5 BTCUSDT at 42000.5 GTC)."""
    fields = [(8, begin), *header("8"), *(ids or [(37, "O1"), (11, "C1")]), (17, "E1"), (150, exec_type),
              (39, ord_status), *(ORDER if order is None else order), (60, TRANSACT), *extra]  # fmt: skip
    return fix_message(fields, delimiter)


def the_fact(raw: bytes) -> OrderFact:
    result = translate(raw, INSTRUMENTS)
    assert result.skipped == "" and len(result.facts) == 1
    fact = result.facts[0]
    assert isinstance(fact, OrderFact)
    return fact


def refused(raw: bytes) -> str:
    with pytest.raises(Untranslatable) as caught:
        translate(raw, INSTRUMENTS)
    reason = str(caught.value)
    assert reason and "\n" not in reason
    return reason


def report(kind: K, ord_status: str, **fields: Any) -> ev.ExecutionReported:
    return ev.ExecutionReported(exec_type=kind, exec_id="E1", ord_status=ord_status, **fields, **PLACEHOLDERS)


FILL_FIELDS = [(32, "0.2"), (31, "42000.5"), (12, "0.84001"), (13, "3"), (479, "USDT"), (851, "1")]
FILL = ev.OrderFilled(trade_id="E1", quantity=Decimal("0.2"), price=Decimal("42000.5"), fee=Decimal("0.84001"),
                      fee_asset="USDT", liquidity=ev.Liquidity.MAKER, **PLACEHOLDERS)  # fmt: skip
REPLACED = [(55, "BTCUSDT"), (54, "1"), (38, "0.8"), (40, "2"), (44, "41000"), (59, "1")]
SPEC_REPLACED = ev.OrderSpec(symbol="BTCUSDT", side=OrderSide.BUY, order_type=OrderType.LIMIT,
                             quantity=Decimal("0.8"), price=Decimal("41000"), time_in_force=TimeInForce.GTC)  # fmt: skip


def cancel_reject(response_to: str, *extra: tuple[int, object], delimiter: bytes = b"\x01") -> bytes:
    return fix_message([*header("9"), (37, "O1"), (11, "C1-X"), (41, "C1"), (39, "1"), (434, response_to),
                        (60, TRANSACT), *extra], delimiter)  # fmt: skip
