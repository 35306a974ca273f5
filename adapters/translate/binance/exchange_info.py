"""Binance exchangeInfo files to instruments.

Instruments (`load_spot_exchange_info`, `load_futures_exchange_info`): one InstrumentSpec per entry of
`symbols`, asset_id = symbol = the exchange symbol, tick size from PRICE_FILTER.tickSize and lot size from
LOT_SIZE.stepSize (0 means none), metadata {"status": ...}. Spot: SPOT, name "BASE/QUOTE". USDⓈ-M futures:
contract size 1, settled in marginAsset, margin rates requiredMarginPercent / 100 and maintMarginPercent / 100;
a PERPETUAL contract (any contractType naming PERPETUAL) is PERPETUAL, named "BASE/QUOTE:MARGIN"; a delivery
contract (CURRENT_QUARTER, NEXT_QUARTER, CURRENT_MONTH, NEXT_MONTH, or a settled one, contractType "") is FUTURE
expiring at deliveryDate, named "BASE/QUOTE:MARGIN-YYMMDD". (COIN-M inverse contracts are another format.)
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import msgspec

from adapters.translate.base import Untranslatable, decimal_of, json_problem
from adapters.translate.binance.messages import EXACT, _decode
from kernel import events as ev
from kernel.schema.order_spec import AssetType

# ------------------------------------------------------------------------------ exchangeInfo
PERPETUAL_DELIVERY_MS = 4_102_444_800_000  # 2100-01-01: Binance dates a perpetual's delivery in 2100


def _exchange_info_symbols(data: bytes) -> list[dict[str, Any]]:
    try:
        obj = _decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not a Binance exchangeInfo file: {json_problem(data, e)}") from None
    if type(obj) is not dict or type(obj.get("symbols")) is not list:
        raise ValueError("not a Binance exchangeInfo file: no 'symbols' list")
    return obj["symbols"]


def _info_text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if type(value) is not str or not value:
        raise ValueError(f"{where}: {key} is missing or not a string: {value!r}")
    return value


def _info_decimal(value: object, what: str) -> Decimal | None:
    """A filter's or rate's decimal, canonical (no trailing zeros, no exponent); None for 0 or absent."""
    if value is None:
        return None
    try:
        number = decimal_of(value, what)
    except Untranslatable as e:
        raise ValueError(str(e)) from None
    if number < 0:
        raise ValueError(f"{what} must be >= 0, got {number}")
    if not number:
        return None
    number = number.normalize(EXACT)
    return number.quantize(Decimal(1), context=EXACT) if number.as_tuple().exponent > 0 else number  # type: ignore[operator]


def _filters(entry: dict[str, Any], where: str) -> tuple[Decimal | None, Decimal | None]:
    filters = entry.get("filters") or []
    if type(filters) is not list:
        raise ValueError(f"{where}: filters is not a list")
    tick = lot = None
    for f in filters:
        if type(f) is not dict:
            raise ValueError(f"{where}: a filter is not an object")
        if f.get("filterType") == "PRICE_FILTER":
            tick = _info_decimal(f.get("tickSize"), f"{where}: PRICE_FILTER.tickSize")
        elif f.get("filterType") == "LOT_SIZE":
            lot = _info_decimal(f.get("stepSize"), f"{where}: LOT_SIZE.stepSize")
    return tick, lot


def _entries(data: bytes) -> list[tuple[str, dict[str, Any], str]]:
    out = []
    for n, entry in enumerate(_exchange_info_symbols(data)):
        where = f"symbols[{n}]"
        if type(entry) is not dict:
            raise ValueError(f"{where} is not an object")
        symbol = _info_text(entry, "symbol", where)
        out.append((symbol, entry, f"{where} ({symbol})"))
    return out


def load_spot_exchange_info(data: bytes) -> list[ev.InstrumentSpec]:
    """The instruments of a Binance spot `GET /api/v3/exchangeInfo` answer (see the module text)."""
    specs = []
    for symbol, entry, where in _entries(data):
        base, quote = _info_text(entry, "baseAsset", where), _info_text(entry, "quoteAsset", where)
        tick, lot = _filters(entry, where)
        status = entry.get("status")
        specs.append(ev.InstrumentSpec(
            asset_id=symbol, symbol=symbol, asset_type=AssetType.SPOT, name=f"{base}/{quote}", base_asset=base,
            quote_asset=quote, tick_size=tick, lot_size=lot,
            metadata={"status": status} if type(status) is str else {},
        ))  # fmt: skip
    return specs


def load_futures_exchange_info(data: bytes) -> list[ev.InstrumentSpec]:
    """The instruments of a Binance USDⓈ-M `GET /fapi/v1/exchangeInfo` answer (see the module text)."""
    specs = []
    for symbol, entry, where in _entries(data):
        base, quote = _info_text(entry, "baseAsset", where), _info_text(entry, "quoteAsset", where)
        margin = _info_text(entry, "marginAsset", where)
        contract = entry.get("contractType") or ""
        if type(contract) is not str:
            raise ValueError(f"{where}: contractType is not a string: {contract!r}")
        delivery = entry.get("deliveryDate")
        if delivery is not None and (type(delivery) is not int or delivery < 0):
            raise ValueError(f"{where}: deliveryDate is not integer milliseconds: {delivery!r}")
        name = f"{base}/{quote}:{margin}"
        expiry = None
        if "PERPETUAL" in contract or (not contract and (delivery is None or delivery >= PERPETUAL_DELIVERY_MS)):
            asset_type = AssetType.PERPETUAL
        else:
            if delivery is None or delivery >= PERPETUAL_DELIVERY_MS:
                raise ValueError(f"{where}: a {contract} contract without a deliveryDate")
            asset_type, expiry = AssetType.FUTURE, delivery * 1_000_000
            name += "-" + time.strftime("%y%m%d", time.gmtime(delivery // 1000))
        tick, lot = _filters(entry, where)
        initial = _info_decimal(entry.get("requiredMarginPercent"), f"{where}: requiredMarginPercent")
        maintenance = _info_decimal(entry.get("maintMarginPercent"), f"{where}: maintMarginPercent")
        status = entry.get("status")
        metadata: dict[str, Any] = {"contract_type": contract} if contract else {}
        if type(status) is str:
            metadata["status"] = status
        specs.append(ev.InstrumentSpec(
            asset_id=symbol, symbol=symbol, asset_type=asset_type, name=name, base_asset=base, quote_asset=quote,
            contract_size=Decimal(1), settlement_asset=margin, expiry_timestamp=expiry, tick_size=tick,
            lot_size=lot, initial_margin_rate=_percent(initial), maintenance_margin_rate=_percent(maintenance),
            metadata=metadata,
        ))  # fmt: skip
    return specs


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else _info_decimal(EXACT.divide(value, 100), "rate")
