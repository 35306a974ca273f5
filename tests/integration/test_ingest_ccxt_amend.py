"""An order edited at the exchange (ccxt `editOrder`), ingested from ccxt order snapshots: the later snapshot's
new amount and price become the ledger's AmendAccepted, once, and the books count fills against them. On
SQLite and PostgreSQL (and memory), inline and with translation in a second process."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest

from adapters.ingest import pipeline
from adapters.ingest.pipeline import Ingest
from adapters.ingest.tables import open_ingest_tables
from adapters.translate import get_format
from adapters.translate.ccxt_sim import markets_json
from kernel import events as ev
from kernel.schema.order_spec import StandardOrderStatus as S
from kernel.streams import external_intent_id
from projections import Books

T0 = 1767600000000  # ms
ACCOUNT = "cx"
INTENT = external_intent_id("BTC/USDT:O1")  # ccxt passes on order ids numbered per symbol


def snapshot(status: str, amount: float, price: float, updated: int | None, **fields: Any) -> dict[str, Any]:
    o = {"id": "O1", "clientOrderId": None, "timestamp": T0, "lastUpdateTimestamp": updated, "symbol": "BTC/USDT",
         "type": "limit", "timeInForce": "GTC", "side": "buy", "price": price, "amount": amount, "filled": 0.0,
         "remaining": amount, "status": status, "fee": None, "trades": []}  # fmt: skip
    o.update(fields)
    return o


FILL = {"id": "t1", "order": "O1", "timestamp": T0 + 3000, "symbol": "BTC/USDT", "type": "limit", "side": "buy",
        "takerOrMaker": "maker", "price": 101.5, "amount": 0.5, "cost": 50.75}  # fmt: skip
STREAM = [  # as fetchOrder / watchOrders / fetchMyTrades write them, one JSON object a line
    json.dumps(snapshot("open", 1.0, 100.0, T0)),
    json.dumps({"type": "order", "data": snapshot("open", 2.0, 101.5, T0 + 2000)}),  # edited: amount and price
    json.dumps(snapshot("open", 2.0, 101.5, T0 + 2000)),  # the same snapshot again (watch and fetch)
    json.dumps(FILL),
    json.dumps(snapshot("open", 2.0, 101.5, T0 + 3000, filled=0.5, remaining=1.5)),  # the fill: terms unchanged
]
FILE = ("\n".join(STREAM) + "\n").encode()


def ingest(run: Ingest, data: bytes) -> dict[str, int]:
    return run.ingest_file("orders.jsonl", io.BytesIO(data)).as_dict()


@pytest.mark.parametrize("worker", [False, True], ids=["inline", "worker"])
def test_an_edited_order_is_amended_once_and_the_books_use_its_new_terms(store_url, open_ledger, monkeypatch, worker):
    if worker:  # translation in a second process: the restated terms keep their kind across the pipe
        monkeypatch.setattr(pipeline, "_worth_a_worker", lambda stream: True)
    ledger = open_ledger(store_url)
    tables = open_ingest_tables(ledger)
    tables.put_instruments("ccxt", get_format("ccxt").load_instruments(markets_json()))  # type: ignore[misc]
    summary = ingest(Ingest(ledger, tables, get_format("ccxt"), ACCOUNT), FILE)
    # opened + registered + discovered + accepted; the amend; the fill
    assert summary == {"recorded": 3, "duplicates": 2, "skipped": 0, "quarantined": 0, "events": 6}
    amends = [e for _, e in ledger.read() if isinstance(e, ev.AmendAccepted)]
    assert [(a.quantity, a.price, a.ts_event) for a in amends] == [(Decimal("2.0"), Decimal("101.5"),
                                                                     (T0 + 2000) * 1_000_000)]  # fmt: skip

    view = Books.of(e for _, e in ledger.read()).order_view(ACCOUNT, INTENT)
    assert view is not None
    assert (view.quantity, view.price, view.filled_quantity, view.remaining_quantity) == (
        Decimal(2), Decimal("101.5"), Decimal("0.5"), Decimal("1.5"))  # fmt: skip
    assert (view.state.status, view.anomalies) == (S.PARTIALLY_FILLED, ["external_order"])

    head = ledger.head()
    again = ingest(Ingest(ledger, tables, get_format("ccxt"), ACCOUNT), FILE)  # a later run, links from the store
    assert (again["recorded"], again["duplicates"], again["events"]) == (0, 5, 0)
    late = ingest(Ingest(ledger, tables, get_format("ccxt"), ACCOUNT), STREAM[0].encode() + b"\n")
    assert late["events"] == 0, "the snapshot before the edit, read again, does not undo it"
    assert ledger.head() == head
    order = ledger.order(ACCOUNT, INTENT)
    assert order is not None and (order.exchange_quantity, order.exchange_price) == (Decimal(2), Decimal("101.5"))
