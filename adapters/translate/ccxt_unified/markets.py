"""ccxt `markets` files (`exchange.markets`, `fetch_markets()`) to instruments; see `load_markets`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from adapters.translate.base import json_problem
from adapters.translate.ccxt_unified.readers import _brief, _decoder
from kernel import events as ev
from kernel.schema.order_spec import AssetType

# ------------------------------------------------------------------------------ markets files
TICK_SIZE = 4  # ccxt's precisionMode constants
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
_MODES = {"TICK_SIZE": TICK_SIZE, "DECIMAL_PLACES": DECIMAL_PLACES, "SIGNIFICANT_DIGITS": SIGNIFICANT_DIGITS,
          TICK_SIZE: TICK_SIZE, DECIMAL_PLACES: DECIMAL_PLACES, SIGNIFICANT_DIGITS: SIGNIFICANT_DIGITS}  # fmt: skip


def _market_number(value: object, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(f"{where} is not a number: {_brief(value)}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{where} is not a number: {_brief(value)}") from None
    if not number.is_finite():
        raise ValueError(f"{where} is not a finite number: {value!r}")
    return number


def _precision_mode(markets: list[dict[str, Any]], given: object) -> int:
    """The file's `precisionMode` when it carries one; else TICK_SIZE when any market's precision is not
    a whole number (a tick like 0.01), DECIMAL_PLACES when all are (counts of places like 2). Decided per
    file, not per value: a whole tick (1, 10) among fractional ones is a tick, not a count."""
    if given is not None:
        mode = _MODES.get(given) if isinstance(given, int | str) and not isinstance(given, bool) else None
        if mode is None:
            raise ValueError(
                f"precisionMode {given!r} is not TICK_SIZE (4), DECIMAL_PLACES (2) or SIGNIFICANT_DIGITS (3)"
            )
        return mode
    for m in markets:
        precision = m.get("precision") or {}
        for key in ("amount", "price"):
            value = _market_number(precision.get(key) if isinstance(precision, dict) else None,
                                   f"market {m.get('symbol')!r} precision.{key}")  # fmt: skip
            if value is not None and value != value.to_integral_value():
                return TICK_SIZE
    return DECIMAL_PLACES


def _step(value: Decimal | None, mode: int, where: str) -> Decimal | None:
    if value is None or mode == SIGNIFICANT_DIGITS:  # significant digits give no fixed step
        return None
    if mode == DECIMAL_PLACES:
        if value != value.to_integral_value():
            raise ValueError(f"{where} is {value}, not a whole number of decimal places")
        return Decimal(1).scaleb(-int(value))
    if value <= 0:
        raise ValueError(f"{where} must be a tick > 0, got {value}")
    return value


def _asset_type(m: dict[str, Any], where: str) -> AssetType:
    kind = m.get("type")
    if kind == "spot":
        return AssetType.SPOT
    if kind == "margin":
        return AssetType.MARGIN
    if kind not in ("swap", "future", "option"):
        raise ValueError(f"{where} type {kind!r} is not spot, margin, swap, future or option")
    if kind == "option":
        return AssetType.OPTION
    linear, inverse = m.get("linear"), m.get("inverse")
    if linear is None and inverse is None:  # older files: the settlement currency tells
        settle = m.get("settle")
        linear = settle is not None and settle == m.get("quote")
        inverse = settle is not None and settle == m.get("base")
    if linear is True:
        return AssetType.PERPETUAL if kind == "swap" else AssetType.FUTURE
    if inverse is True:
        return AssetType.INVERSE_PERPETUAL if kind == "swap" else AssetType.INVERSE_FUTURE
    raise ValueError(f"{where} is a {kind} neither linear nor inverse")


def _instrument_of(m: dict[str, Any], mode: int) -> ev.InstrumentSpec:
    symbol = m.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise ValueError(f"a market has no symbol: {_brief(m)}")
    where = f"market {symbol!r}"
    market_id = m.get("id")
    if not isinstance(market_id, str) or not market_id:
        raise ValueError(f"{where} has no id")
    asset_type = _asset_type(m, where)
    precision = m.get("precision") or {}
    if not isinstance(precision, dict):
        raise ValueError(f"{where} precision is not an object")
    expiry = m.get("expiry")
    if expiry is not None and (isinstance(expiry, bool) or not isinstance(expiry, int) or expiry < 0):
        raise ValueError(f"{where} expiry is not integer milliseconds: {expiry!r}")
    contract_size = _market_number(m.get("contractSize"), f"{where} contractSize")
    if contract_size is not None and contract_size <= 0:
        raise ValueError(f"{where} contractSize must be > 0, got {contract_size}")
    strings = {}
    for key in ("base", "quote", "settle"):
        value = m.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where} {key} is not a string: {_brief(value)}")
        strings[key] = value or None
    metadata: dict[str, Any] = {"id": market_id}
    for key in ("baseId", "quoteId", "settleId", "optionType"):
        if isinstance(m.get(key), str):
            metadata[key] = m[key]
    if asset_type is AssetType.OPTION and m.get("strike") is not None:
        metadata["strike"] = str(_market_number(m["strike"], f"{where} strike"))
    return ev.InstrumentSpec(
        asset_id=symbol, symbol=symbol, asset_type=asset_type, name=symbol, base_asset=strings["base"],
        quote_asset=strings["quote"], settlement_asset=strings["settle"],
        contract_size=contract_size if asset_type not in (AssetType.SPOT, AssetType.MARGIN) else None,
        expiry_timestamp=expiry * 1_000_000 if expiry is not None else None,
        tick_size=_step(_market_number(precision.get("price"), f"{where} precision.price"), mode,
                        f"{where} precision.price"),
        lot_size=_step(_market_number(precision.get("amount"), f"{where} precision.amount"), mode,
                       f"{where} precision.amount"),
        metadata=metadata,
    )  # fmt: skip


def load_markets(data: bytes) -> list[ev.InstrumentSpec]:
    """A ccxt `markets` file as instruments, one per market, in the file's order: `exchange.markets` as JSON
    (symbol -> market), a list of markets (`fetch_markets()`), or `{"precisionMode": 4, "markets": ...}`
    to say how `precision` counts (see `_precision_mode` for the rule when it does not).

    spot -> SPOT, margin -> MARGIN; swap -> PERPETUAL (linear) or INVERSE_PERPETUAL; future -> FUTURE or
    INVERSE_FUTURE (expiry ms -> ns); option -> OPTION. `precision.price` is the tick, `precision.amount`
    the lot. The ccxt market id (and base/quote/settle ids) go in `metadata`, so raw payloads, which name
    markets by id, can be parsed against these instruments. A file that cannot be read raises ValueError."""
    try:
        value = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not a ccxt markets file: {json_problem(data, e)}") from None
    mode_given = None
    if isinstance(value, dict) and isinstance(value.get("markets"), dict | list) and "symbol" not in value["markets"]:
        mode_given, value = value.get("precisionMode"), value["markets"]
    if isinstance(value, dict):
        markets = list(value.values())
        for key, m in value.items():
            if not isinstance(m, dict):
                raise ValueError(f"market {key!r} is not an object")
            if m.get("symbol") != key:
                raise ValueError(f"market {key!r} names another symbol: {m.get('symbol')!r}")
    elif isinstance(value, list):
        markets = value
        for i, m in enumerate(markets):
            if not isinstance(m, dict):
                raise ValueError(f"markets[{i}] is not an object")
    else:
        raise ValueError("not a ccxt markets file: expected an object of symbol -> market, or a list of markets")
    if not markets:
        raise ValueError("not a ccxt markets file: it lists no market")
    mode = _precision_mode(markets, mode_given)
    specs = [_instrument_of(m, mode) for m in markets]
    seen: set[str] = set()
    for spec in specs:
        if spec.symbol in seen:
            raise ValueError(f"market {spec.symbol!r} is listed twice")
        seen.add(spec.symbol)
    return specs


def instruments_by_symbol(specs: list[ev.InstrumentSpec]) -> Mapping[str, ev.InstrumentSpec]:
    """The `instruments` mapping translate takes, for instruments `load_markets` made."""
    return {spec.symbol: spec for spec in specs}
