"""The ingest's own tables (quarantine, instrument catalogue) and the store's bulk existence check, on
memory://, SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from adapters.ingest.tables import Quarantined, open_ingest_tables
from kernel import events as ev
from kernel.schema.order_spec import AssetType
from kernel.streams import account_key, order_key

from .helpers import ACCOUNT, live_order, open_spot_account


def spec(symbol: str, tick: str = "0.01") -> ev.InstrumentSpec:
    return ev.InstrumentSpec(asset_id=symbol, symbol=symbol, asset_type=AssetType.SPOT, name=symbol,
                             base_asset=symbol[:3], quote_asset="USDT", tick_size=Decimal(tick))  # fmt: skip


def test_quarantine_keeps_each_message_once_and_releases_by_id(store_url, open_ledger):
    ledger = open_ledger(store_url)
    tables = open_ingest_tables(ledger)
    first = Quarantined(format="fix", account_id="a", source="day.fix", reason="bad checksum", raw=b"8=FIX.4.4|9=5|")
    binary = Quarantined(format="fix", account_id="a", source="blob", reason="binary file", raw=bytes(range(256)))
    assert tables.quarantine([first, binary]) == 2
    assert tables.quarantine([first]) == 0, "the same message again is not kept twice"
    assert tables.quarantine([Quarantined(format="fix", account_id="b", source="x", reason="r", raw=first.raw)]) == 1
    kept = tables.quarantined(account_id="a")
    assert [(e.reason, e.raw, e.source) for e in kept] == [("bad checksum", first.raw, "day.fix"),
                                                           ("binary file", bytes(range(256)), "blob")]  # fmt: skip
    assert all(e.id > 0 and e.ts_recorded > 0 for e in kept)
    assert tables.release([kept[0].id]) == 1
    assert [e.reason for e in tables.quarantined(fmt="fix")] == ["binary file", "r"]
    tables.update_reason(kept[1].id, "still binary")
    assert tables.quarantined(account_id="a")[0].reason == "still binary"
    tables.close()


def test_quarantine_survives_reopening_the_store(sqlite_url, open_ledger):
    tables = open_ingest_tables(open_ledger(sqlite_url))
    tables.quarantine([Quarantined(format="binance", account_id="a", source="-", reason="invalid JSON", raw=b"{")])
    tables.close()
    again = open_ingest_tables(open_ledger(sqlite_url))
    assert [e.raw for e in again.quarantined()] == [b"{"]
    again.close()


def test_instrument_catalogue_counts_added_changed_unchanged(store_url, open_ledger):
    tables = open_ingest_tables(open_ledger(store_url))
    assert tables.put_instruments("binance", [spec("BTCUSDT"), spec("ETHUSDT")]) == (2, 0, 0)
    assert tables.put_instruments("binance", [spec("BTCUSDT"), spec("ETHUSDT", "0.1")]) == (0, 1, 1)
    assert tables.instruments("binance") == {"BTCUSDT": spec("BTCUSDT"), "ETHUSDT": spec("ETHUSDT", "0.1")}
    assert tables.instruments("other") == {}
    assert tables.exchanges() == {"binance": 2}
    tables.close()


def test_existing_streams_in_one_question(store_url, open_ledger):
    ledger = open_ledger(store_url)
    open_spot_account(ledger)
    live_order(ledger, "o1")
    fresh = open_ledger(store_url) if not store_url.startswith("memory") else ledger
    keys = {order_key(ACCOUNT, "o1"), order_key(ACCOUNT, "o2"), account_key(ACCOUNT), account_key("nobody")}
    assert fresh.existing_streams(keys) == {order_key(ACCOUNT, "o1"), account_key(ACCOUNT)}
    assert fresh.existing_streams([]) == set()
