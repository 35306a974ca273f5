"""ccxt markets files (ccxt's market structure) to instruments: tick and lot in either precision mode,
linear and inverse contracts, and a bad file said in one line."""

from __future__ import annotations

import pytest

from adapters.translate import ccxt_unified, get_format
from adapters.translate.ccxt_unified import load_markets
from kernel import events as ev
from kernel.schema.order_spec import AssetType
from tests.unit.translate.ccxt_support import (
    MARKETS,
    SPECS,
    D,
    line,
    market,
)


def test_markets_spot_swap_inverse_future_in_tick_size_mode():
    spot, _, perp, inverse, future = SPECS
    assert spot == ev.InstrumentSpec(
        asset_id="ETH/BTC", symbol="ETH/BTC", asset_type=AssetType.SPOT, name="ETH/BTC", base_asset="ETH",
        quote_asset="BTC", tick_size=D("0.000001"), lot_size=D("0.0001"),
        metadata={"id": "ETHBTC", "baseId": "eth", "quoteId": "btc"},
    )  # fmt: skip
    assert (perp.asset_type, perp.settlement_asset, perp.contract_size, perp.tick_size, perp.lot_size) == (
        AssetType.PERPETUAL, "USDT", D("0.001"), D("0.1"), D("1.0"))  # fmt: skip
    assert perp.metadata == {"id": "BTCUSDT_PERP", "baseId": "btc", "quoteId": "usdt", "settleId": "usdt"}
    assert (inverse.asset_type, inverse.settlement_asset, inverse.contract_size, inverse.tick_size) == (
        AssetType.INVERSE_PERPETUAL, "BTC", D(100), D("0.5"))  # fmt: skip
    assert (future.asset_type, future.expiry_timestamp, future.contract_size) == (
        AssetType.FUTURE, 1774598400000 * 1_000_000, D(1))  # fmt: skip


def test_markets_as_a_list_inverse_future_and_option():
    markets = [
        market("BTC/USD:BTC-260327", "BTCUSD_260327", "future", linear=False, inverse=True, contractSize=100,
               expiry=1774598400000),
        market("BTC/USD:BTC-260327-60000-C", "BTC-27MAR26-60000-C", "option", linear=False, inverse=True,
               contractSize=1, expiry=1774598400000, strike=60000, optionType="call"),
    ]  # fmt: skip
    future, option = load_markets(line(markets))
    assert future.asset_type is AssetType.INVERSE_FUTURE and future.expiry_timestamp == 1774598400000 * 1_000_000
    assert option.asset_type is AssetType.OPTION
    assert option.metadata == {"id": "BTC-27MAR26-60000-C", "baseId": "btc", "quoteId": "usd", "settleId": "btc",
                               "optionType": "call", "strike": "60000"}  # fmt: skip


def test_markets_linearity_from_the_settlement_currency_when_not_given():
    swap = market("ETH/USD:ETH", "ETHUSD", "swap", contractSize=10)  # linear and inverse are null
    [spec] = load_markets(line([swap]))
    assert spec.asset_type is AssetType.INVERSE_PERPETUAL


def test_markets_in_decimal_places_mode_whole_numbers_count_places():
    markets = {"BTC/USD": market("BTC/USD", "btcusd", "spot", precision={"amount": 8, "price": 2, "cost": 8}),
               "ETH/USD": market("ETH/USD", "ethusd", "spot", precision={"amount": 4, "price": 0})}  # fmt: skip
    btc, eth = load_markets(line(markets))
    assert (btc.tick_size, btc.lot_size) == (D("0.01"), D("1E-8"))
    assert (eth.tick_size, eth.lot_size) == (D(1), D("0.0001"))


def test_markets_a_whole_tick_among_fractional_ones_is_a_tick():
    markets = [market("BTC/USDT:USDT", "BTCUSDT", "swap", linear=True, precision={"amount": 0.001, "price": 1}),
               market("ETH/USDT", "ETHUSDT", "spot", precision={"amount": 0.0001, "price": 0.01})]  # fmt: skip
    btc, _ = load_markets(line(markets))
    assert (btc.tick_size, btc.lot_size) == (D(1), D("0.001"))


def test_markets_file_may_say_its_precision_mode():
    only_whole = [market("BTC/USDT:USDT", "BTCUSDT", "swap", linear=True, precision={"amount": 1, "price": 10})]
    [guessed] = load_markets(line(only_whole))
    assert guessed.tick_size == D("1E-10")  # read as 10 decimal places...
    [told] = load_markets(line({"precisionMode": 4, "markets": only_whole}))
    assert (told.tick_size, told.lot_size) == (D(10), D(1))  # ...unless the file says TICK_SIZE
    [by_name] = load_markets(line({"precisionMode": "DECIMAL_PLACES", "markets": only_whole}))
    assert by_name.tick_size == D("1E-10")
    [digits] = load_markets(line({"precisionMode": 3, "markets": only_whole}))
    assert (digits.tick_size, digits.lot_size) == (None, None)


@pytest.mark.parametrize(("data", "reason"), [
    (b"{not json", "not a ccxt markets file: invalid JSON"),
    (b'{"BTC/USDT": "\xff"}', "not a ccxt markets file: invalid JSON: 'utf-8' codec can't decode byte 0xff"),
    (b'"BTC/USDT"', "not a ccxt markets file: expected an object of symbol -> market, or a list of markets"),
    (b"[]", "not a ccxt markets file: it lists no market"),
    (line({"BTC/USDT": [MARKETS["BTC/USDT"]]}), "market 'BTC/USDT' is not an object"),
    (line({"BTC/USDT": MARKETS["ETH/BTC"]}), "market 'BTC/USDT' names another symbol: 'ETH/BTC'"),
    (line([{**MARKETS["ETH/BTC"], "id": None}]), "market 'ETH/BTC' has no id"),
    (line([{**MARKETS["ETH/BTC"], "symbol": None}]), "a market has no symbol"),
    (line([{**MARKETS["ETH/BTC"], "type": "index"}]), "market 'ETH/BTC' type 'index' is not spot, margin, swap"),
    (line([{**MARKETS["ETH/BTC"], "precision": {"amount": "a lot", "price": 0.01}}]),
     "market 'ETH/BTC' precision.amount is not a number: 'a lot'"),
    (line([{**MARKETS["ETH/BTC"], "precision": {"amount": 0.01, "price": 0}}]),
     "market 'ETH/BTC' precision.price must be a tick > 0, got 0"),
    (line([MARKETS["ETH/BTC"], MARKETS["ETH/BTC"]]), "market 'ETH/BTC' is listed twice"),
    (line([{**MARKETS["BTC/USDT:USDT"], "expiry": "soon"}]), "market 'BTC/USDT:USDT' expiry is not integer ms"),
    (line({"precisionMode": 7, "markets": [MARKETS["ETH/BTC"]]}), "precisionMode 7 is not TICK_SIZE (4)"),
])  # fmt: skip
def test_a_bad_markets_file_says_why_in_one_line(data, reason):
    with pytest.raises(ValueError) as error:
        load_markets(data)
    message = str(error.value)
    assert message.startswith(reason.replace(" ms", " milliseconds")) and "\n" not in message


def test_the_format_is_registered():
    fmt = get_format("ccxt")
    assert fmt is ccxt_unified.FORMAT
    assert (fmt.name, fmt.exchange, fmt.account_type, fmt.load_instruments) == (
        "ccxt", "ccxt", ev.AccountType.SPOT, load_markets)  # fmt: skip
