"""The simulated Binance days (spot and futures), recorded: deterministic, every message translated, the
books agreeing with every exchange report and the simulator's expectations."""

from __future__ import annotations

import itertools

import msgspec

from adapters.translate import binance_sim as sim
from adapters.translate.base import AccountFact
from adapters.translate.binance import (
    load_futures_exchange_info,
    load_spot_exchange_info,
    translate_futures,
    translate_spot,
)
from kernel import events as ev
from kernel.ledger import Ledger
from kernel.schema.order_spec import AssetType
from kernel.streams import external_intent_id
from projections import Books
from tests.unit.translate.binance_support import (
    MS,
    D,
)


# ================================================================================== simulated days
def record(messages: list[bytes], translate, instruments, account_type: ev.AccountType, intents=()) -> Ledger:
    """A minimal ingest: orders resolve by client order id, original client order id, the exchange order id
    seen before, else they are discovered as external orders; account facts as they are. The `intents` (expected
    orders) are placed and sent by "the kernel" just before the exchange first names them."""
    ticks = itertools.count(1)
    ledger = Ledger.open("memory://", clock=lambda: next(ticks))
    ledger.open_account("acc", exchange="binance", account_type=account_type, base_currency="USDT", ts_event=1)
    for spec_ in instruments.values():
        ledger.record_event(ev.AssetRegistered(account_id="acc", asset=spec_, ts_event=1, ts_recorded=next(ticks)))
    links: dict[str, str] = {}
    to_send = {expected.client_order_id: expected for expected in intents}
    for message in messages:
        for fact in translate(message, instruments).facts:
            if isinstance(fact, AccountFact):
                ledger.record_event(msgspec.structs.replace(fact.event, account_id="acc", ts_recorded=next(ticks)))
                continue
            ref = fact.ref
            expected = to_send.pop(ref.client_order_id, None)
            if expected is not None:
                sent = fact.event.ts_event - 1
                placed = {
                    "intent_id": expected.client_order_id,
                    "created_at": sent,
                    "updated_at": sent,
                    "order": msgspec.to_builtins(expected.order),
                }
                ledger.place_intent("acc", placed)
                ledger.start_submission("acc", expected.client_order_id, client_order_id=expected.client_order_id,
                                        ts_event=sent)  # fmt: skip
                links["c:" + expected.client_order_id] = expected.client_order_id
            intent = next((links[k] for k in ("c:" + ref.client_order_id, "c:" + ref.orig_client_order_id,
                                              "x:" + ref.exchange_order_id) if k in links),
                          external_intent_id(ref.exchange_order_id))  # fmt: skip
            links["x:" + ref.exchange_order_id] = intent
            ledger.record_exchange_fact(msgspec.structs.replace(fact.event, account_id="acc", intent_id=intent),
                                        exchange_order_id=ref.exchange_order_id, order=ref.order)  # fmt: skip
    return ledger


def check_reports_agree(ledger: Ledger, *, locked: bool) -> int:
    """Fold the log; at every exchange report the ledger's own figures are the reported ones. Returns how many
    reports were checked."""
    books, checked = Books(), 0
    for _, event in ledger.read():
        books.apply(event)
        if isinstance(event, ev.ExchangeBalancesReported):
            for reported in event.balances:
                mine = books.balance("acc", reported.asset_id)
                assert mine is not None and mine.total == reported.total, (event, mine)
                assert not locked or mine.locked == reported.locked, (event, mine)
            checked += 1
        elif isinstance(event, ev.ExchangePositionsReported):
            for reported in event.positions:
                mine = books.position("acc", reported.symbol_id)
                assert mine is not None and mine.asset.quantity == reported.quantity, (event, mine)
                assert mine.asset.entry_price == reported.entry_price, (event, mine)
            checked += 1
    return checked


def check_orders(ledger: Ledger, expected: sim.Expected, intents: set[str]) -> None:
    books = Books.of(event for _, event in ledger.read())
    for cid, order in expected.orders.items():
        view = books.order_view("acc", cid if cid in intents else external_intent_id(order.exchange_order_id))
        assert view is not None, cid
        assert (view.state.status, view.filled_quantity, view.quantity) == (order.status, order.filled,
                                                                           order.quantity), cid  # fmt: skip
        assert view.fees == {k: v for k, v in order.fees.items() if v}, cid
        assert set(view.anomalies) <= ({"external_order"} if cid not in intents else set()), (cid, view.anomalies)


def test_the_spot_day_is_deterministic_and_every_message_translates():
    first, second = sim.Expected(), sim.Expected()
    messages = list(sim.simulate_spot_day(11, 120, first))
    assert messages == list(sim.simulate_spot_day(11, 120, second)) and first == second
    assert messages != list(sim.simulate_spot_day(12, 120))
    instruments = {s.symbol: s for s in load_spot_exchange_info(sim.spot_exchange_info())}
    translations = [translate_spot(m, instruments) for m in messages]
    assert sum(1 for t in translations if t.skipped) == first.skipped == 0
    assert len(messages) == first.messages
    kinds = {type(f.event) for t in translations for f in t.facts}
    assert kinds == {ev.OrderAccepted, ev.OrderFilled, ev.CancelAccepted, ev.OrderRejected, ev.OrderExpired,
                     ev.AmendAccepted, ev.BalanceAdjusted, ev.ExchangeBalancesReported}  # fmt: skip
    assert any(m.startswith(b'{"subscriptionId":0,"event":') for m in messages)
    assert {f.event.fee_asset for t in translations for f in t.facts if isinstance(f.event, ev.OrderFilled)} == {
        "BTC",
        "ETH",
        "BNB",
        "USDT",
    }


def test_the_spot_day_recorded_agrees_with_every_report_and_the_expectations():
    expected = sim.Expected()
    messages = list(sim.simulate_spot_day(5, 150, expected))
    instruments = {s.symbol: s for s in load_spot_exchange_info(sim.spot_exchange_info())}
    intents = [o for i, o in enumerate(expected.orders.values()) if i % 2 == 0]  # half placed by the kernel
    ledger = record(messages, translate_spot, instruments, ev.AccountType.SPOT, intents)
    assert check_reports_agree(ledger, locked=True) > 150
    books = Books.of(event for _, event in ledger.read())
    assert {b.asset_id: b.total for b in books.balances("acc")} == expected.balances
    assert {a: v for a, v in books.locked("acc").items() if v} == {a: v for a, v in expected.locked.items() if v}
    check_orders(ledger, expected, {o.client_order_id for o in intents})
    assert {o.status for o in expected.orders.values()} >= {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "NEW"}


def test_the_futures_day_recorded_agrees_with_every_report_and_the_expectations():
    expected = sim.Expected()
    messages = list(sim.simulate_futures_day(9, 150, expected))
    assert messages == list(sim.simulate_futures_day(9, 150))
    instruments = {s.symbol: s for s in load_futures_exchange_info(sim.futures_exchange_info())}
    translations = [translate_futures(m, instruments) for m in messages]
    assert sum(1 for t in translations if t.skipped) == expected.skipped > 0
    reasons = {f.event.reason for t in translations for f in t.facts if isinstance(f.event, ev.BalanceAdjusted)}
    assert reasons == {ev.AdjustmentReason.DEPOSIT, ev.AdjustmentReason.FUNDING}
    intents = [o for i, o in enumerate(expected.orders.values()) if i % 3 == 0]
    ledger = record(messages, translate_futures, instruments, ev.AccountType.FUTURES, intents)
    assert check_reports_agree(ledger, locked=False) > 150
    books = Books.of(event for _, event in ledger.read())
    assert {b.asset_id: b.total for b in books.balances("acc")} == expected.balances
    for symbol, quantity in expected.positions.items():
        position = books.position("acc", symbol)
        assert position is not None
        assert (position.asset.quantity, position.asset.entry_price) == (quantity, expected.entry_prices[symbol])
    state = books.account_state("acc")
    assert state is not None and state.total_realized_pnl == expected.realized_pnl
    check_orders(ledger, expected, {o.client_order_id for o in intents})
    flips = sum(1 for t in translations for f in t.facts if isinstance(f.event, ev.ExchangePositionsReported)
                for p in f.event.positions if p.quantity == 0)  # fmt: skip
    assert flips > 0  # positions closed (and flipped: a close is the first fill of a flip)


def test_recording_a_simulated_day_twice_records_nothing_new():
    messages = list(sim.simulate_futures_day(2, 40))
    instruments = {s.symbol: s for s in load_futures_exchange_info(sim.futures_exchange_info())}
    ledger = record(messages, translate_futures, instruments, ev.AccountType.FUTURES)
    head = ledger.head()
    links: dict[str, str] = {}
    for message in messages:  # the same facts again, as an ingest re-running the file would record them
        for fact in translate_futures(message, instruments).facts:
            if isinstance(fact, AccountFact):
                done = ledger.record_event(msgspec.structs.replace(fact.event, account_id="acc", ts_recorded=10**18))
            else:
                intent = links.setdefault(fact.ref.exchange_order_id, external_intent_id(fact.ref.exchange_order_id))
                done = ledger.record_exchange_fact(msgspec.structs.replace(fact.event, account_id="acc",
                                                                           intent_id=intent))  # fmt: skip
            assert done == (), fact
    assert ledger.head() == head


def test_exchange_info_files_of_the_simulator_load():
    spot_specs = load_spot_exchange_info(sim.spot_exchange_info(["BTCUSDT", "ETHBTC"]))
    assert [(s.symbol, s.name, s.tick_size, s.lot_size) for s in spot_specs] == [
        ("BTCUSDT", "BTC/USDT", D("0.01"), D("0.00001")),
        ("ETHBTC", "ETH/BTC", D("0.00001"), D("0.0001")),
    ]
    futures_specs = load_futures_exchange_info(sim.futures_exchange_info())
    assert [(s.symbol, s.asset_type, s.expiry_timestamp) for s in futures_specs] == [
        ("BTCUSDT", AssetType.PERPETUAL, None), ("ETHUSDT", AssetType.PERPETUAL, None),
        ("BTCUSDT_260327", AssetType.FUTURE, sim.QUARTERLY_DELIVERY_MS * MS)]  # fmt: skip


def test_expectations_without_the_stream():
    assert sim.expect_spot_day(3, 20) == sim.expect_spot_day(3, 20)
    assert sim.expect_futures_day(3, 20).messages == sum(1 for _ in sim.simulate_futures_day(3, 20))
