"""The simulated FIX day the end-to-end tests and the benchmark use."""

from __future__ import annotations

import io
import json
from collections import Counter
from decimal import Decimal

import pytest

from adapters.translate.base import OrderFact
from adapters.translate.fix import frame, translate
from adapters.translate.fix_sim import (
    SCENARIOS,
    fix_message,
    instruments_exchange_info,
    simulate_fix_day,
    simulate_fix_day_expectations,
)
from kernel import events as ev
from kernel.order import Order
from tests.unit.translate.fix_support import (
    INSTRUMENTS,
    PLACEHOLDERS,
    K,
)


# ------------------------------------------------------------------------------ the simulated day
def test_fix_message_computes_body_length_and_checksum():
    raw = fix_message([(35, "0"), (49, "A"), (56, "B"), (34, 1), (52, "20240102-00:00:00")], b"|")
    body = b"35=0|49=A|56=B|34=1|52=20240102-00:00:00|"
    assert len(body) == 41
    assert raw == b"8=FIX.4.4|9=41|" + body + b"10=%03d|" % (sum(b"8=FIX.4.4|9=41|" + body) % 256)
    with pytest.raises(ValueError):
        fix_message([(35, "0"), (10, "000")])


@pytest.mark.parametrize("delimiter", [b"\x01", b"|"], ids=["SOH", "pipe"])
def test_a_simulated_day_translates_and_ends_as_expected(delimiter: bytes):
    messages = list(simulate_fix_day(3, 60, delimiter=delimiter))
    assert messages == list(simulate_fix_day(3, 60, delimiter=delimiter))  # deterministic
    assert messages != list(simulate_fix_day(4, 60, delimiter=delimiter))
    kinds: Counter[str] = Counter()
    orders: dict[str, Order] = {}
    for raw in messages:
        result = translate(raw, INSTRUMENTS)
        if result.skipped:
            kinds[result.skipped] += 1
            continue
        (fact,) = result.facts
        assert isinstance(fact, OrderFact)
        e = fact.event
        kinds[e.exec_type if isinstance(e, ev.ExecutionReported) else type(e).__name__] += 1
        order = orders.get(fact.ref.exchange_order_id)
        if order is None:  # what the ingest does with an order it does not know: it is discovered
            assert fact.ref.order is not None
            order = orders[fact.ref.exchange_order_id] = Order("", "")
            order.apply(ev.ExternalOrderDiscovered(exchange_order_id=fact.ref.exchange_order_id,
                                                   order=fact.ref.order, **PLACEHOLDERS))  # fmt: skip
        for recorded in order.decide_fact(e):
            order.apply(recorded)
    for skipped in ("Logon (35=A)", "Heartbeat (35=0)", "Logout (35=5)"):
        assert kinds[f"session message {skipped}"] >= 1
    for name in (
        "OrderAccepted",
        "OrderFilled",
        "CancelAccepted",
        "AmendAccepted",
        "OrderRejected",
        "OrderExpired",
        K.PENDING_CANCEL,
        K.PENDING_REPLACE,
        K.PENDING_NEW,
        "CancelRejected",
        "AmendRejected",
    ):
        assert kinds[name] >= 1, name
    assert kinds[K.TRADE_CANCEL] == 1
    expected = simulate_fix_day_expectations(3, 60)
    assert len(expected) == 60 == len(orders)
    for client_order_id, (status, filled, exchange_order_id, fees) in expected.items():
        order = orders[exchange_order_id]
        assert (order.status, order.filled_quantity, order.fees.get("USDT", Decimal(0))) == (status, filled, fees), (
            client_order_id
        )
    assert [expected[f"S3-{n}"].status for n in range(len(SCENARIOS))] == [
        "FILLED",
        "CANCELED",
        "CANCELED",
        "FILLED",
        "REJECTED",
        "EXPIRED",
        "FILLED",
        "FILLED",
        "FILLED",
    ]


def test_a_simulated_day_frames_back_into_its_messages():
    messages = list(simulate_fix_day(5, 20))
    log = b"".join(b"20240102-00:00:00.000 IN: " + m + b"\n" for m in messages)
    assert list(frame(io.BytesIO(log))) == messages
    assert list(frame(io.BytesIO(b"".join(messages)))) == messages  # a raw stream, no newlines


def test_instruments_exchange_info():
    info = json.loads(instruments_exchange_info(("BTCUSDT", "ETHUSDT", "SOLUSDC")))
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    assert set(by_symbol) == {"BTCUSDT", "ETHUSDT", "SOLUSDC"}
    btc = by_symbol["BTCUSDT"]
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("TRADING", "BTC", "USDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == Decimal("0.01")
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) == Decimal("0.00001")
    assert (by_symbol["SOLUSDC"]["baseAsset"], by_symbol["SOLUSDC"]["quoteAsset"]) == ("SOL", "USDC")
