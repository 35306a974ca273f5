"""The simulated markets' exchangeInfo files, as Binance's `GET /api/v3/exchangeInfo` (spot) and
`GET /fapi/v1/exchangeInfo` (USDⓈ-M futures) answer them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.translate.binance_sim.markets import (
    FUTURES_MARKETS,
    FUTURES_SYMBOLS,
    PERPETUAL_DELIVERY_MS,
    QUARTERLY,
    QUARTERLY_DELIVERY_MS,
    SPOT_MARKETS,
    SPOT_SYMBOLS,
    Market,
)
from adapters.translate.binance_sim.stream import START_MS, _encode, _text


# ------------------------------------------------------------------------------ exchangeInfo files
def _filters(m: Market) -> list[dict[str, Any]]:
    return [
        {"filterType": "PRICE_FILTER", "minPrice": _text(m.tick, 8), "maxPrice": "1000000.00000000",
         "tickSize": _text(m.tick, 8)},
        {"filterType": "LOT_SIZE", "minQty": _text(m.step, 8), "maxQty": "9000.00000000", "stepSize": _text(m.step, 8)},
        {"filterType": "MIN_NOTIONAL", "minNotional": "5.00000000", "applyToMarket": True, "avgPriceMins": 5},
    ]  # fmt: skip


def spot_exchange_info(symbols: Iterable[str] = SPOT_SYMBOLS) -> bytes:
    """A spot `GET /api/v3/exchangeInfo` answer listing `symbols` (from `SPOT_MARKETS`)."""
    entries = []
    for symbol in symbols:
        m = SPOT_MARKETS[symbol]
        entries.append({
            "symbol": m.symbol, "status": "TRADING", "baseAsset": m.base, "baseAssetPrecision": 8,
            "quoteAsset": m.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "amendAllowed": True,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "filters": _filters(m),
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
        })  # fmt: skip
    return _encode({"timezone": "UTC", "serverTime": START_MS, "rateLimits": [], "exchangeFilters": [],
                    "symbols": entries})  # fmt: skip


def futures_exchange_info(symbols: Iterable[str] = (*FUTURES_SYMBOLS, QUARTERLY)) -> bytes:
    """A USDⓈ-M `GET /fapi/v1/exchangeInfo` answer listing `symbols` (from `FUTURES_MARKETS`, or `QUARTERLY`:
    the BTCUSDT contract delivered 2026-03-27)."""
    entries = []
    for symbol in symbols:
        quarterly = symbol == QUARTERLY
        m = FUTURES_MARKETS["BTCUSDT" if quarterly else symbol]
        entries.append({
            "symbol": symbol, "pair": m.symbol, "contractType": "CURRENT_QUARTER" if quarterly else "PERPETUAL",
            "deliveryDate": QUARTERLY_DELIVERY_MS if quarterly else PERPETUAL_DELIVERY_MS,
            "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000", "baseAsset": m.base, "quoteAsset": m.quote, "marginAsset": m.quote,
            "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
            "underlyingType": "COIN", "underlyingSubType": ["PoW"], "settlePlan": 0, "triggerProtect": "0.0500",
            "liquidationFee": "0.012500", "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
            "filters": _filters(m), "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                                                   "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        })  # fmt: skip
    return _encode({"timezone": "UTC", "serverTime": START_MS, "futuresType": "U_MARGINED", "rateLimits": [],
                    "exchangeFilters": [], "assets": [], "symbols": entries})  # fmt: skip
