"""Exchange facts as translators hand them over: `record_exchange_fact` (external discovery for any fact,
the same checks as the commands), execution reports that change nothing but are kept, and exchange
reports deduplicated by report id."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from kernel import events as ev
from kernel.errors import RequestRefused
from kernel.order import TRADE_CANCELED, TRADE_CORRECTED
from kernel.schema.order_spec import OrderSide, OrderType
from kernel.schema.order_spec import StandardOrderStatus as S
from kernel.testing import ACCOUNT, memory_ledger

SPEC = ev.OrderSpec(symbol="BTCUSDT", side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=Decimal("2"),
                    price=Decimal("100"))  # fmt: skip


def fact(cls: type[ev.OrderEvent], intent_id: str = "ext:X1", **fields: object) -> ev.OrderEvent:
    return cls(account_id=ACCOUNT, intent_id=intent_id, ts_event=1_000, ts_recorded=0, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("event", "status"), [
    (fact(ev.OrderAccepted, exchange_order_id="X1", exec_id="e1"), S.NEW),
    (fact(ev.CancelAccepted, exec_id="e1"), S.CANCELED),
    (fact(ev.OrderExpired, exec_id="e1"), S.EXPIRED),
    (fact(ev.OrderRejected, reason="no funds", exec_id="e1"), S.REJECTED),
    (fact(ev.OrderFilled, trade_id="t1", quantity=Decimal("2"), price=Decimal("100")), S.FILLED),
    (fact(ev.ExecutionReported, exec_type=ev.ReportKind.PENDING_NEW, exec_id="e1"), S.NEW),
])  # fmt: skip
def test_any_fact_of_an_unknown_order_discovers_it_first(event: ev.OrderEvent, status: S):
    ledger = memory_ledger()
    recorded = ledger.record_exchange_fact(event, exchange_order_id="X1", order=SPEC)
    assert [type(e) for e in recorded] == [ev.ExternalOrderDiscovered, type(event)]
    assert recorded[1].ts_recorded > 0 and recorded[1].ts_event == 1_000
    order = ledger.order(ACCOUNT, "ext:X1")
    assert order is not None and order.status is status and order.external
    assert ledger.record_exchange_fact(event, exchange_order_id="X1", order=SPEC) == (), "redelivered: nothing"


def test_unknown_order_without_a_description_is_refused_and_records_nothing():
    ledger = memory_ledger()
    head = ledger.head()
    with pytest.raises(RequestRefused, match="does not describe the order"):
        ledger.record_exchange_fact(fact(ev.CancelAccepted, intent_id="nobody"))
    assert ledger.head() == head


@pytest.mark.parametrize(("event", "message"), [
    (fact(ev.OrderFilled, trade_id="t1", quantity=Decimal("0"), price=Decimal("100")), "quantity: must be > 0"),
    (fact(ev.OrderFilled, trade_id="t1", quantity=Decimal("1"), price=Decimal("-1")), "price: must be > 0"),
    (fact(ev.OrderFilled, trade_id="t1", quantity=Decimal("1E+40"), price=Decimal("1")), "quantity"),
    (fact(ev.AmendAccepted, quantity=Decimal("-2"), exec_id="e"), "quantity: must be > 0"),
])  # fmt: skip
def test_fact_numbers_are_checked_like_the_commands(event: ev.OrderEvent, message: str):
    ledger = memory_ledger()
    with pytest.raises(RequestRefused, match=message):
        ledger.record_exchange_fact(event, exchange_order_id="X1", order=SPEC)
    assert ledger.order(ACCOUNT, "ext:X1") is None


def test_a_discovered_order_spec_is_validated():
    bad = msgspec.structs.replace(SPEC, price=None)  # a LIMIT order without a price
    with pytest.raises(RequestRefused, match="order"):
        memory_ledger().record_exchange_fact(fact(ev.OrderAccepted, exchange_order_id="X1"), exchange_order_id="X1",
                                             order=bad)  # fmt: skip


def test_trade_corrections_and_cancels_flag_the_order_and_change_no_fill():
    ledger = memory_ledger()
    ledger.record_exchange_fact(fact(ev.OrderFilled, trade_id="t1", quantity=Decimal("1"), price=Decimal("100")),
                                exchange_order_id="X1", order=SPEC)  # fmt: skip
    ledger.record_exchange_fact(fact(ev.ExecutionReported, exec_type=ev.ReportKind.TRADE_CORRECT, exec_id="e2",
                                     ref_exec_id="t1"))  # fmt: skip
    ledger.record_exchange_fact(fact(ev.ExecutionReported, exec_type=ev.ReportKind.TRADE_CANCEL, exec_id="e3",
                                     ref_exec_id="t1"))  # fmt: skip
    order = ledger.order(ACCOUNT, "ext:X1")
    assert order is not None
    assert (order.status, order.filled_quantity) == (S.PARTIALLY_FILLED, Decimal("1"))
    assert TRADE_CORRECTED + "t1" in order.anomalies and TRADE_CANCELED + "t1" in order.anomalies


def test_execution_reports_without_exec_id_are_told_apart_by_kind_and_status():
    ledger = memory_ledger()
    ledger.record_exchange_fact(fact(ev.OrderAccepted, exchange_order_id="X1"), exchange_order_id="X1", order=SPEC)
    pending = fact(ev.ExecutionReported, exec_type=ev.ReportKind.PENDING_CANCEL, ord_status="PENDING_CANCEL")
    status = fact(ev.ExecutionReported, exec_type=ev.ReportKind.ORDER_STATUS, ord_status="NEW")
    assert len(ledger.record_exchange_fact(pending)) == 1
    assert len(ledger.record_exchange_fact(status)) == 1
    assert ledger.record_exchange_fact(pending) == ()


def test_exchange_reports_with_a_report_id_record_once():
    ledger = memory_ledger()
    balances = [{"asset_id": "USDT", "total": "10", "locked": "1"}]
    assert len(ledger.report_exchange_balances(ACCOUNT, balances=balances, ts_event=5, report_id="r1")) == 1
    assert ledger.report_exchange_balances(ACCOUNT, balances=balances, ts_event=5, report_id="r1") == ()
    assert len(ledger.report_exchange_balances(ACCOUNT, balances=balances, ts_event=6)) == 1, "no id: always"
    positions = [{"symbol_id": "BTCUSDT", "quantity": "-1.5", "entry_price": "100"}]
    assert len(ledger.report_exchange_positions(ACCOUNT, positions=positions, ts_event=5, report_id="r1")) == 1
    assert ledger.report_exchange_positions(ACCOUNT, positions=positions, ts_event=5, report_id="r1") == ()


def test_a_position_report_for_an_unregistered_symbol_is_refused():
    ledger = memory_ledger()
    with pytest.raises(RequestRefused, match=r"positions\[0\].symbol_id: unknown symbol 'DOGEUSDT'"):
        ledger.report_exchange_positions(ACCOUNT, positions=[{"symbol_id": "DOGEUSDT", "quantity": "1"}], ts_event=5)


def test_balance_reports_stored_as_v1_still_decode():
    v1 = b'{"type":"ExchangeBalancesReported","ts_event":1,"ts_recorded":2,"account_id":"a","balances":[]}'
    event = ev.decode("ExchangeBalancesReported.v1", v1)
    assert isinstance(event, ev.ExchangeBalancesReported) and event.report_id == ""
    assert ev.topic_of(event) == "ExchangeBalancesReported.v2"


def test_a_leverage_change_reported_again_records_once():
    ledger = memory_ledger()
    assert len(ledger.set_leverage(ACCOUNT, symbol_id="BTCUSDT", leverage="5", ts_event=5, reference="cfg:1")) == 1
    assert len(ledger.set_leverage(ACCOUNT, symbol_id="BTCUSDT", leverage="10", ts_event=6, reference="cfg:2")) == 1
    assert ledger.set_leverage(ACCOUNT, symbol_id="BTCUSDT", leverage="5", ts_event=5, reference="cfg:1") == ()
    assert len(ledger.set_leverage(ACCOUNT, symbol_id="BTCUSDT", leverage="5", ts_event=7)) == 1, "no reference"
    v1 = b'{"type":"LeverageSet","ts_event":1,"ts_recorded":2,"account_id":"a","symbol_id":"X","leverage":"3"}'
    assert ev.decode("LeverageSet.v1", v1).reference == ""  # type: ignore[attr-defined]


def test_a_batch_rolled_back_to_a_savepoint_records_only_what_came_before():
    ledger = memory_ledger()
    head = ledger.head()
    with ledger.batch() as batch:
        batch.record_exchange_fact(fact(ev.OrderAccepted, exchange_order_id="X1"), exchange_order_id="X1", order=SPEC)
        mark = batch.savepoint()
        batch.record_exchange_fact(fact(ev.OrderFilled, trade_id="t1", quantity=Decimal("1"), price=Decimal("100")))
        batch.record_exchange_fact(fact(ev.OrderAccepted, intent_id="ext:X2", exchange_order_id="X2"),
                                   exchange_order_id="X2", order=SPEC)  # fmt: skip
        batch.rollback_to(mark)
        batch.record_exchange_fact(fact(ev.CancelAccepted, exec_id="c1"))
    order = ledger.order(ACCOUNT, "ext:X1")
    assert order is not None and (order.status, order.filled_quantity) == (S.CANCELED, 0)
    assert ledger.order(ACCOUNT, "ext:X2") is None
    assert ledger.head() == head + 3  # discovered, accepted, canceled


# ------------------------------------------------------------------ terms restated by an order snapshot (ccxt)
def terms(quantity: str, price: str, ts: int, intent_id: str = "ext:X1") -> ev.OrderEvent:
    return ev.AmendAccepted(account_id=ACCOUNT, intent_id=intent_id, ts_event=ts, ts_recorded=0,
                            quantity=Decimal(quantity), price=Decimal(price), exec_id=f"X1:AMENDED@{ts}")  # fmt: skip


def test_restated_terms_record_an_amend_only_when_they_change_and_are_not_older():
    ledger = memory_ledger()
    ledger.record_exchange_fact(fact(ev.OrderAccepted, exchange_order_id="X1"), exchange_order_id="X1", order=SPEC)
    assert ledger.record_exchange_fact(terms("2", "100", 2_000), if_changed=True) == (), "the terms it holds"
    [amended] = ledger.record_exchange_fact(terms("3", "101", 3_000), if_changed=True)
    assert isinstance(amended, ev.AmendAccepted) and amended.exec_id == "X1:AMENDED@3000"
    assert ledger.record_exchange_fact(terms("3", "101", 3_000), if_changed=True) == (), "the same snapshot again"
    assert ledger.record_exchange_fact(terms("2", "100", 2_000), if_changed=True) == (), "an older snapshot"
    order = ledger.order(ACCOUNT, "ext:X1")
    assert order is not None
    assert (order.status, order.exchange_quantity, order.exchange_price) == (S.NEW, Decimal("3"), Decimal("101"))
    assert order.anomalies == ["external_order"]


def test_restated_terms_of_an_unknown_order_discover_it_and_amend_only_if_they_differ():
    ledger = memory_ledger()
    same = ledger.record_exchange_fact(terms("2", "100", 2_000), exchange_order_id="X1", order=SPEC, if_changed=True)
    assert [type(e) for e in same] == [ev.ExternalOrderDiscovered]
    other = ledger.record_exchange_fact(terms("5", "99", 2_000, intent_id="ext:X2"), exchange_order_id="X2",
                                        order=SPEC, if_changed=True)  # fmt: skip
    assert [type(e) for e in other] == [ev.ExternalOrderDiscovered, ev.AmendAccepted]
    assert ledger.order(ACCOUNT, "ext:X2").exchange_quantity == Decimal("5")  # type: ignore[union-attr]


def test_restated_terms_settle_the_strategys_own_amend_once_the_exchange_shows_it():
    ledger = memory_ledger()
    order = {"symbol": "BTCUSDT", "side": "BUY", "order_type": "LIMIT", "quantity": "2", "price": "100"}
    ledger.place_intent(ACCOUNT, {"intent_id": "S1", "order": order, "created_at": 1_000, "updated_at": 1_000})
    ledger.start_submission(ACCOUNT, "S1", client_order_id="S1", ts_event=1_001)
    ledger.record_accepted(ACCOUNT, "S1", exchange_order_id="X1", ts_event=1_002)
    ledger.amend_intent(ACCOUNT, "S1", order={**order, "price": "101"}, ts_event=1_003)
    assert ledger.record_exchange_fact(terms("2", "100", 2_000, "S1"), if_changed=True) == (), "not amended yet"
    assert ledger.order(ACCOUNT, "S1").status is S.PENDING_REPLACE  # type: ignore[union-attr]
    assert len(ledger.record_exchange_fact(terms("2", "101", 3_000, "S1"), if_changed=True)) == 1
    state = ledger.order(ACCOUNT, "S1").order_state()  # type: ignore[union-attr]
    assert (state.status, state.reconciliation_status) == (S.NEW, "ACTIVE")


def test_only_an_amend_can_be_recorded_if_changed():
    with pytest.raises(TypeError, match="CancelAccepted"):
        memory_ledger().record_exchange_fact(fact(ev.CancelAccepted, exec_id="c1"), if_changed=True)
