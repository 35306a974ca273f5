"""Exchange messages find the ledger's own intents: by client order id (the kernel sends the intent id as
ClOrdID), by the original client order id of a cancel or replace, and by the exchange order id once
known; anything else becomes an external order."""

from __future__ import annotations

import msgspec

from adapters.ingest.pipeline import Ingest
from adapters.ingest.tables import open_ingest_tables
from adapters.translate import get_format
from adapters.translate.fix_sim import fix_message, instruments_exchange_info
from kernel.schema.order_spec import StandardOrderStatus as S

from .helpers import intent


def report(exec_type: str, status: str, *, cl: str, orig: str = "", order_id: str = "X1", exec_id: str,
           extra: tuple = ()) -> bytes:  # fmt: skip
    fields = [(35, "8"), (49, "V"), (56, "L"), (34, 1), (52, "20260105-10:00:00.000"), (37, order_id), (11, cl)]
    if orig:
        fields.append((41, orig))
    fields += [(17, exec_id), (150, exec_type), (39, status), (55, "BTCUSDT"), (54, "1"), (38, "2"), (40, "2"),
               (44, "100"), (59, "1"), (60, "20260105-10:00:00.000"), *extra]  # fmt: skip
    return fix_message(fields)


def test_messages_link_to_the_intent_named_by_client_order_id(store_url, open_ledger):
    ledger = open_ledger(store_url)
    tables = open_ingest_tables(ledger)
    tables.put_instruments("fix", get_format("binance").load_instruments(instruments_exchange_info()))  # type: ignore[misc]
    ledger.open_account("acc", exchange="fix", account_type="SPOT", base_currency="USDT", ts_event=1)
    run = Ingest(ledger, tables, get_format("fix"), "acc")
    # the instrument reaches the account through the first message; place the intent after it is registered
    run.ingest_messages("t", [report("0", "0", cl="other", order_id="X0", exec_id="e0")])
    ledger.place_intent("acc", intent("S1", quantity="2", price="100", symbol="BTCUSDT"))
    ledger.start_submission("acc", "S1", client_order_id="S1", ts_event=20)
    summary = run.ingest_messages("t", [
        report("0", "0", cl="S1", exec_id="e1"),                                   # accepted
        report("F", "1", cl="S1", exec_id="e2", extra=((32, "1"), (31, "100"))),  # half filled
        report("5", "1", cl="S1-R", orig="S1", exec_id="e3"),                     # replaced: new ClOrdID
        report("F", "2", cl="S1-R", exec_id="e4", extra=((32, "1"), (31, "100"))),  # found by the new id
    ])  # fmt: skip
    assert summary.quarantined == 0 and summary.recorded == 4
    order = ledger.order("acc", "S1")
    assert order is not None and not order.external
    assert (order.status, order.filled_quantity, order.exchange_order_id) == (S.FILLED, 2, "X1")
    assert ledger.order("acc", "ext:X1") is None, "no external order was made up"
    assert ledger.order("acc", "ext:X0") is not None, "the unknown order became an external one"
    # a later ingest (no links in memory) still finds the intent by its client order id
    later = Ingest(ledger, tables, get_format("fix"), "acc")
    again = later.ingest_messages("t", [report("F", "2", cl="S1", exec_id="e5", extra=((32, "0.5"), (31, "100")))])
    assert again.recorded == 1 and ledger.order("acc", "S1").filled_quantity == 2.5  # type: ignore[union-attr]


def fix_ingest(ledger, tables):
    return Ingest(ledger, tables, get_format("fix"), "acc")


def prepared(store_url, open_ledger):
    ledger = open_ledger(store_url)
    tables = open_ingest_tables(ledger)
    tables.put_instruments("fix", get_format("binance").load_instruments(instruments_exchange_info()))  # type: ignore[misc]
    ledger.open_account("acc", exchange="fix", account_type="SPOT", base_currency="USDT", ts_event=1)
    fix_ingest(ledger, tables).ingest_messages("t", [report("0", "0", cl="other", order_id="X0", exec_id="e0")])
    ledger.place_intent("acc", intent("S1", quantity="2", price="100", symbol="BTCUSDT"))
    ledger.start_submission("acc", "S1", client_order_id="S1", ts_event=20)
    return ledger, tables


def test_a_replaced_order_is_found_by_its_new_client_order_id_in_a_later_ingest(store_url, open_ledger):
    ledger, tables = prepared(store_url, open_ledger)
    fix_ingest(ledger, tables).ingest_messages("day1", [
        report("0", "0", cl="S1", exec_id="e1"),
        report("5", "0", cl="S1-R", orig="S1", exec_id="e2"),
    ])  # fmt: skip
    later = fix_ingest(ledger, tables).ingest_messages("day2", [
        report("F", "2", cl="S1-R", order_id="X1", exec_id="e3", extra=((32, "2"), (31, "100"))),
    ])  # fmt: skip
    assert later.recorded == 1
    assert ledger.order("acc", "S1").status is S.FILLED  # type: ignore[union-attr]
    assert ledger.order("acc", "ext:X1") is None


def test_a_client_order_id_reused_by_the_exchange_does_not_join_two_orders(store_url, open_ledger):
    ledger, tables = prepared(store_url, open_ledger)
    run = fix_ingest(ledger, tables)
    run.ingest_messages("t", [
        report("F", "2", cl="grid-buy", order_id="G1", exec_id="g1", extra=((32, "2"), (31, "100"))),
        report("F", "2", cl="grid-buy", order_id="G2", exec_id="g2", extra=((32, "2"), (31, "100"))),
    ])  # fmt: skip
    first, second = ledger.order("acc", "ext:G1"), ledger.order("acc", "ext:G2")
    assert first is not None and second is not None
    assert (first.filled_quantity, second.filled_quantity) == (2, 2)
    assert first.anomalies == second.anomalies == ["external_order"], "no overfill, no changed exchange id"


def test_a_message_records_all_its_facts_or_none(store_url, open_ledger):
    """A ccxt order snapshot listing its trades is one message of several facts: when one of them is
    refused (a trade id reused with other numbers), none of them is recorded and the message waits in
    quarantine."""
    import json

    from adapters.translate.ccxt_sim import markets_json

    ledger = open_ledger(store_url)
    tables = open_ingest_tables(ledger)
    tables.put_instruments("ccxt", get_format("ccxt").load_instruments(markets_json()))  # type: ignore[misc]
    run = Ingest(ledger, tables, get_format("ccxt"), "cx")
    trade = {"id": "t1", "order": "O1", "timestamp": 1767600000000, "symbol": "BTC/USDT", "type": "limit",
             "side": "buy", "takerOrMaker": "maker", "price": 100.0, "amount": 1.0, "cost": 100.0,
             "fee": {"cost": 0.1, "currency": "USDT"}}  # fmt: skip
    assert run.ingest_messages("t", [json.dumps({"type": "trade", "data": trade}).encode()]).recorded == 1
    head = ledger.head()
    order = {"id": "O1", "clientOrderId": None, "timestamp": 1767600000000, "lastTradeTimestamp": 1767600001000,
             "symbol": "BTC/USDT", "type": "limit", "timeInForce": "GTC", "side": "buy", "price": 100.0,
             "amount": 3.0, "filled": 3.0, "remaining": 0.0, "status": "closed", "fee": None,
             "trades": [{**trade, "id": "t2", "amount": 1.0}, {**trade, "amount": 2.0}]}  # t1 again, other amount
    summary = run.ingest_messages("t", [json.dumps({"type": "order", "data": order}).encode()])
    assert (summary.recorded, summary.quarantined, summary.events) == (0, 1, 0)
    assert ledger.head() == head, "nothing of the message was recorded"
    (entry,) = tables.quarantined(account_id="cx")
    assert "t1" in entry.reason


def test_an_intent_submitted_under_a_client_order_id_of_its_own_is_found_by_it(store_url, open_ledger):
    """The kernel may send an intent under another ClOrdID (`start_submission(client_order_id=...)`): the
    ingest reads the log's submissions and finds the intent by it, in this ingest and in later ones."""
    ledger, tables = prepared(store_url, open_ledger)
    ledger.place_intent("acc", intent("S2", quantity="2", price="100", symbol="BTCUSDT"))
    ledger.start_submission("acc", "S2", client_order_id="CL-0002", ts_event=21)
    run = fix_ingest(ledger, tables)
    first = run.ingest_messages("t", [
        report("0", "0", cl="CL-0002", order_id="X2", exec_id="s2-e1"),
        report("F", "1", cl="CL-0002", order_id="X2", exec_id="s2-e2", extra=((32, "1"), (31, "100"))),
    ])  # fmt: skip
    assert (first.recorded, first.quarantined) == (2, 0)
    order = ledger.order("acc", "S2")
    assert order is not None and not order.external
    assert (order.status, order.filled_quantity, order.exchange_order_id) == (S.PARTIALLY_FILLED, 1, "X2")
    assert ledger.order("acc", "ext:X2") is None, "no external order was made up"
    # submitted between two batches of the same ingest: the next batch reads the new submission
    ledger.place_intent("acc", intent("S3", quantity="1", price="100", symbol="BTCUSDT"))
    ledger.start_submission("acc", "S3", client_order_id="CL-0003", ts_event=22)
    run.ingest_messages("t", [report("0", "0", cl="CL-0003", order_id="X3", exec_id="s3-e1")])
    assert ledger.order("acc", "S3").status is S.NEW and ledger.order("acc", "ext:X3") is None  # type: ignore[union-attr]
    # a later ingest finds it from the kept links, without reading the submissions again
    scanned = tables.link_scan("acc")
    assert scanned == ledger.head() - 1  # read up to the head it saw; the last message recorded after that
    later = fix_ingest(ledger, tables).ingest_messages("t", [
        report("F", "2", cl="CL-0002", order_id="X2", exec_id="s2-e3", extra=((32, "1"), (31, "100"))),
    ])  # fmt: skip
    assert later.recorded == 1 and ledger.order("acc", "S2").status is S.FILLED  # type: ignore[union-attr]


def test_another_accounts_submissions_link_nothing(store_url, open_ledger):
    ledger, tables = prepared(store_url, open_ledger)
    ledger.open_account("other", exchange="fix", account_type="SPOT", base_currency="USDT", ts_event=1)
    spec = msgspec.to_builtins(tables.instruments("fix")["BTCUSDT"])
    pair = {"base_asset": spec.pop("base_asset"), "quote_asset": spec.pop("quote_asset")}
    ledger.register_asset("other", spec, ts_event=2, **pair)
    ledger.place_intent("other", intent("O1", quantity="1", price="100", symbol="BTCUSDT"))
    ledger.start_submission("other", "O1", client_order_id="CL-9", ts_event=21)
    summary = fix_ingest(ledger, tables).ingest_messages("t", [report("0", "0", cl="CL-9", order_id="X9",
                                                                      exec_id="o-e1")])  # fmt: skip
    assert summary.recorded == 1
    assert ledger.order("acc", "ext:X9") is not None, "on this account, CL-9 names no intent"
    assert ledger.order("other", "O1").status is S.PENDING_NEW  # type: ignore[union-attr]
