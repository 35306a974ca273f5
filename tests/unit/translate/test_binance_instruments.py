"""Binance numbers kept exact, and the exchangeInfo loaders (spot and futures)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.translate import get_format
from adapters.translate.binance import (
    FUTURES_FORMAT,
    SPOT_FORMAT,
    load_futures_exchange_info,
    load_spot_exchange_info,
    translate_spot,
)
from kernel import events as ev
from kernel.schema.order_spec import AssetType
from tests.unit.translate.binance_support import (
    MS,
    SPOT,
    D,
    execution_report,
    futures,
    only,
    order_update,
    raw,
)

# ================================================================================== exact numbers
plain_decimals = st.builds(
    lambda whole, fraction, places: f"{whole}.{str(fraction).zfill(places)[:places]}" if places else str(whole),
    st.integers(0, 10**15),
    st.integers(0, 10**8),
    st.integers(0, 8),
).filter(lambda text: Decimal(text) > 0)


@given(quantity=plain_decimals, price=plain_decimals, as_number=st.booleans())
@example(quantity="0.00000001", price="123456789012345.12345678", as_number=False)
@example(quantity="0.00000001", price="1000", as_number=True)
def test_quantities_and_prices_round_trip_exactly(quantity, price, as_number):
    """Whatever decimal text Binance sends is the exact number recorded, digit for digit (trailing zeros too)."""
    fields = {"x": "TRADE", "X": "PARTIALLY_FILLED", "q": quantity, "p": price, "l": quantity, "L": price, "t": 1}
    data = raw(execution_report(**fields))
    if as_number:  # a JSON number is a Decimal too, never a float
        data = data.replace(f'"l":"{quantity}"'.encode(), f'"l":{quantity}'.encode())
        data = data.replace(f'"L":"{price}"'.encode(), f'"L":{price}'.encode())
    fact = only(translate_spot(data, SPOT))
    text = lambda number: format(number, "f")  # noqa: E731 - the decimal's own digits, never an exponent
    assert (text(fact.event.quantity), text(fact.event.price)) == (quantity, price)
    assert (text(fact.ref.order.quantity), text(fact.ref.order.price)) == (quantity, price)
    futures_fact = only(futures(order_update(x="TRADE", X="FILLED", q=quantity, p=price, l=quantity, L=price, t=2)))
    assert (text(futures_fact.event.quantity), text(futures_fact.event.price)) == (quantity, price)


# ================================================================================== instruments
SPOT_INFO = {
    "timezone": "UTC", "serverTime": 1767600000000, "rateLimits": [], "exchangeFilters": [],
    "symbols": [{
        "symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "baseAssetPrecision": 8, "quoteAsset": "BTC",
        "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": True, "ocoAllowed": True, "isSpotTradingAllowed": True, "isMarginTradingAllowed": True,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.00001000", "maxPrice": "922327.00000000",
             "tickSize": "0.00001000"},
            {"filterType": "LOT_SIZE", "minQty": "0.00010000", "maxQty": "100000.00000000", "stepSize": "0.00010000"},
            {"filterType": "NOTIONAL", "minNotional": "0.00010000", "applyMinToMarket": True},
        ],
        "permissions": [], "permissionSets": [["SPOT", "MARGIN"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
    }, {
        "symbol": "SHIBTRY", "status": "BREAK", "baseAsset": "SHIB", "quoteAsset": "TRY",
        "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.00000000"},
                    {"filterType": "LOT_SIZE", "stepSize": "1.00000000"}],
    }],
}  # fmt: skip


def test_spot_exchange_info():
    assert load_spot_exchange_info(raw(SPOT_INFO)) == [
        ev.InstrumentSpec(asset_id="ETHBTC", symbol="ETHBTC", asset_type=AssetType.SPOT, name="ETH/BTC",
                          base_asset="ETH", quote_asset="BTC", tick_size=D("0.00001"), lot_size=D("0.0001"),
                          metadata={"status": "TRADING"}),
        ev.InstrumentSpec(asset_id="SHIBTRY", symbol="SHIBTRY", asset_type=AssetType.SPOT, name="SHIB/TRY",
                          base_asset="SHIB", quote_asset="TRY", tick_size=None, lot_size=D(1),
                          metadata={"status": "BREAK"}),
    ]  # fmt: skip


def futures_symbol(**fields: Any) -> dict[str, Any]:
    entry = {
        "symbol": "BTCUSDT", "pair": "BTCUSDT", "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": "BTC", "quoteAsset": "USDT", "marginAsset": "USDT",
        "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "settlePlan": 0, "triggerProtect": "0.0500",
        "filters": [{"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
                    {"filterType": "LOT_SIZE", "maxQty": "1000", "minQty": "0.001", "stepSize": "0.001"},
                    {"filterType": "MARKET_LOT_SIZE", "maxQty": "120", "minQty": "0.001", "stepSize": "0.001"}],
        "orderTypes": ["LIMIT", "MARKET", "STOP"], "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }  # fmt: skip
    entry.update(fields)
    return entry


def test_futures_exchange_info():
    info = {"timezone": "UTC", "symbols": [
        futures_symbol(),
        futures_symbol(symbol="BTCUSDT_260327", contractType="CURRENT_QUARTER", deliveryDate=1774598400000),
        futures_symbol(symbol="ETHUSDT_250926", contractType="", deliveryDate=1758873600000, status="SETTLING"),
        futures_symbol(symbol="XYZUSDT", contractType="PERPETUAL_DELIVERING", deliveryDate=1767686400000),
    ]}  # fmt: skip
    common = {"base_asset": "BTC", "quote_asset": "USDT", "contract_size": D(1), "settlement_asset": "USDT",
              "tick_size": D("0.1"), "lot_size": D("0.001"), "initial_margin_rate": D("0.05"),
              "maintenance_margin_rate": D("0.025")}  # fmt: skip
    assert load_futures_exchange_info(raw(info)) == [
        ev.InstrumentSpec(asset_id="BTCUSDT", symbol="BTCUSDT", asset_type=AssetType.PERPETUAL,
                          name="BTC/USDT:USDT", metadata={"contract_type": "PERPETUAL", "status": "TRADING"}, **common),
        ev.InstrumentSpec(asset_id="BTCUSDT_260327", symbol="BTCUSDT_260327", asset_type=AssetType.FUTURE,
                          name="BTC/USDT:USDT-260327", expiry_timestamp=1774598400000 * MS,
                          metadata={"contract_type": "CURRENT_QUARTER", "status": "TRADING"}, **common),
        ev.InstrumentSpec(asset_id="ETHUSDT_250926", symbol="ETHUSDT_250926", asset_type=AssetType.FUTURE,
                          name="BTC/USDT:USDT-250926", expiry_timestamp=1758873600000 * MS,
                          metadata={"status": "SETTLING"}, **common),
        ev.InstrumentSpec(asset_id="XYZUSDT", symbol="XYZUSDT", asset_type=AssetType.PERPETUAL,
                          name="BTC/USDT:USDT", metadata={"contract_type": "PERPETUAL_DELIVERING", "status": "TRADING"},
                          **common),
    ]  # fmt: skip


@pytest.mark.parametrize("load", [load_spot_exchange_info, load_futures_exchange_info])
@pytest.mark.parametrize("data, reason", [
    (b"<html>503</html>", "not a Binance exchangeInfo file: invalid JSON: JSON is malformed"),
    (b"", "not a Binance exchangeInfo file: invalid JSON: Input data was truncated"),
    (b'{"symbols": ["\xc3("]}', "not a Binance exchangeInfo file: invalid JSON: 'utf-8' codec can't decode byte 0xc3"),
    (b'{"code": -1121, "msg": "Invalid symbol."}', "not a Binance exchangeInfo file: no 'symbols' list"),
    (b"[]", "not a Binance exchangeInfo file: no 'symbols' list"),
    (b'{"symbols": [7]}', "symbols[0] is not an object"),
    (b'{"symbols": [{"baseAsset": "BTC"}]}', "symbols[0]: symbol is missing or not a string: None"),
    (b'{"symbols": [{"symbol": "BTCUSDT", "quoteAsset": "USDT", "marginAsset": "USDT"}]}',
     "symbols[0] (BTCUSDT): baseAsset is missing or not a string: None"),
])  # fmt: skip
def test_bad_exchange_info_files(load, data, reason):
    with pytest.raises(ValueError) as raised:
        load(data)
    assert str(raised.value).startswith(reason) and "\n" not in str(raised.value)


def test_bad_filters_and_contracts():
    bad_tick = {"symbols": [futures_symbol(filters=[{"filterType": "PRICE_FILTER", "tickSize": "a dime"}])]}
    with pytest.raises(ValueError, match=r"^symbols\[0\] \(BTCUSDT\): PRICE_FILTER.tickSize is not a decimal"):
        load_futures_exchange_info(raw(bad_tick))
    undated = {"symbols": [futures_symbol(contractType="NEXT_QUARTER", deliveryDate=None)]}
    with pytest.raises(ValueError, match=r"^symbols\[0\] \(BTCUSDT\): a NEXT_QUARTER contract without a deliveryDate$"):
        load_futures_exchange_info(raw(undated))
    negative = {"symbols": [futures_symbol(requiredMarginPercent="-5")]}
    with pytest.raises(ValueError, match=r"requiredMarginPercent must be >= 0, got -5$"):
        load_futures_exchange_info(raw(negative))


def test_formats_are_in_the_table():
    assert get_format("binance") is SPOT_FORMAT and get_format("binance-futures") is FUTURES_FORMAT
    assert (SPOT_FORMAT.account_type, FUTURES_FORMAT.account_type) == (ev.AccountType.SPOT, ev.AccountType.FUTURES)
    assert SPOT_FORMAT.exchange == "binance" and FUTURES_FORMAT.exchange == "binance-futures"
