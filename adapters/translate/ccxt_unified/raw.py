"""Raw payloads: an exchange's own order, trade or balance, parsed by that exchange's ccxt parser into a
unified structure, then translated as one.

`{"exchange": "<ccxt id>", "type": "order" | "trade" | "balance", "raw": {...}, "symbol": "BTC/USDT"}`: the
optional `symbol` names the market when the payload does not. ccxt is an optional extra, imported on the
first raw line only. The exchange's markets are built from the instruments `load_markets` made (their
`metadata` keeps the ccxt market ids). ccxt's parsers return floats; see `_exact` for how the exchange's exact
text is kept.
"""

from __future__ import annotations

import threading
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.translate.base import Instruments, Translation, Untranslatable
from adapters.translate.ccxt_unified.readers import _brief
from adapters.translate.ccxt_unified.structures import _translate_kind
from kernel import events as ev
from kernel.schema.order_spec import AssetType

_RAW_KINDS = ("order", "trade", "balance")
CCXT_EXTRA_MISSING = "raw ccxt payloads need the ccxt extra: pip install 'exchange-ledger[ccxt]'"


# ------------------------------------------------------------------------------ raw payloads (ccxt extra)
class _Parser:
    """One ccxt exchange object per exchange id, its markets built from the instruments in use."""

    def __init__(self, exchange: Any):
        self.exchange = exchange
        self.instruments: Instruments | None = None
        self.count = -1
        self.lock = threading.Lock()


_parsers: dict[str, _Parser] = {}
_parsers_lock = threading.Lock()


def _ccxt() -> Any:
    try:
        import ccxt  # an optional extra, imported for raw payloads only
    except ImportError:
        raise Untranslatable(CCXT_EXTRA_MISSING) from None
    return ccxt


def _parser(exchange_id: object) -> _Parser:
    ccxt = _ccxt()
    if not isinstance(exchange_id, str) or exchange_id not in ccxt.exchanges:
        raise Untranslatable(f"unknown ccxt exchange {exchange_id!r}")
    with _parsers_lock:
        parser = _parsers.get(exchange_id)
        if parser is None:
            parser = _parsers[exchange_id] = _Parser(getattr(ccxt, exchange_id)())
    return parser


_MARKET_TYPES = {
    AssetType.SPOT: ("spot", None), AssetType.MARGIN: ("spot", None), AssetType.CURRENCY: ("spot", None),
    AssetType.PERPETUAL: ("swap", True), AssetType.INVERSE_PERPETUAL: ("swap", False),
    AssetType.FUTURE: ("future", True), AssetType.INVERSE_FUTURE: ("future", False), AssetType.OPTION: ("option", True),
}  # fmt: skip


def ccxt_market(symbol: str, spec: ev.InstrumentSpec) -> dict[str, Any] | None:
    """The ccxt market an instrument `load_markets` made stands for (None for another's instrument)."""
    metadata = spec.metadata
    market_id = metadata.get("id")
    if not isinstance(market_id, str):
        return None
    kind, linear = _MARKET_TYPES[spec.asset_type]
    if kind == "option":
        linear = spec.settlement_asset is None or spec.settlement_asset == spec.quote_asset
    contract = kind != "spot"
    market = {
        "id": market_id, "symbol": symbol, "base": spec.base_asset, "quote": spec.quote_asset,
        "settle": spec.settlement_asset, "type": kind, "spot": kind == "spot",
        "margin": spec.asset_type is AssetType.MARGIN, "swap": kind == "swap", "future": kind == "future",
        "option": kind == "option", "contract": contract,
        "linear": linear if contract else None, "inverse": (not linear) if contract else None,
        "contractSize": float(spec.contract_size) if spec.contract_size is not None else None,
        "expiry": spec.expiry_timestamp // 1_000_000 if spec.expiry_timestamp is not None else None, "active": True,
    }  # fmt: skip
    for key in ("baseId", "quoteId", "settleId", "optionType"):
        if key in metadata:
            market[key] = metadata[key]
    if "strike" in metadata:
        market["strike"] = float(metadata["strike"])
    return market


def _set_markets(parser: _Parser, instruments: Instruments) -> None:
    """(Re)build the exchange's markets when other instruments are passed. The same mapping object with the
    same length counts as unchanged."""
    if parser.instruments is instruments and parser.count == len(instruments):
        return
    exchange = parser.exchange
    markets = [exchange.safe_market_structure(m) for symbol, spec in instruments.items()
               if (m := ccxt_market(symbol, spec)) is not None]  # fmt: skip
    exchange.set_markets(markets)
    parser.instruments, parser.count = instruments, len(instruments)


def _exact(text: object, number: object) -> object:
    """Merge a parse in ccxt's string mode (`exchange.number = str`) with one in its default float mode.

    ccxt's parsers read an exchange's numbers as strings and hand them to `exchange.number` at the end, so
    in string mode a number is the exchange's own text, exactly. String mode is not what ccxt tests,
    though: a parser doing arithmetic on a parsed number would give nonsense (`"2" * 3`). So a string is
    taken only where it agrees with the float parse (`float(text) == number`); anywhere else the float is
    taken through its shortest repr (0.1 -> "0.1"), as the kernel's `Float` takes floats. `info` (the raw
    payload) is dropped."""
    if isinstance(number, float):
        if isinstance(text, str):
            try:
                if float(text) == number:
                    return Decimal(text)
            except (ValueError, InvalidOperation):
                pass
        return Decimal(repr(number))
    if isinstance(number, dict):
        other = text if isinstance(text, dict) else {}
        return {k: _exact(other.get(k), v) for k, v in number.items() if k != "info"}
    if isinstance(number, list):
        others = text if isinstance(text, list) and len(text) == len(number) else [None] * len(number)
        return [_exact(t, n) for t, n in zip(others, number, strict=True)]
    return number


def _parse(exchange: Any, kind: str, raw: Any, market: Any) -> Any:
    if kind == "order":
        return exchange.parse_order(raw, market)
    if kind == "trade":
        return exchange.parse_trade(raw, market)
    try:
        return exchange.parse_balance(raw)
    except Exception as e:  # ccxt's NotSupported; binance parses its balances with parse_balance_custom
        custom = getattr(exchange, "parse_balance_custom", None)
        if custom is None or type(e).__name__ != "NotSupported":
            raise
        return custom(raw, "spot")  # the ccxt format's accounts are spot accounts


def _as_text(value: Any) -> Any:
    """The raw payload as ccxt expects it from `json.loads`, except that a JSON float is its own text
    (`"0.10"`), which ccxt's parsers read as they read numbers sent as strings."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def _one_line(e: Exception) -> str:
    return " ".join(f"{type(e).__name__}: {e}".split())[:200]


def _translate_raw(line: dict[str, Any], instruments: Instruments) -> Translation:
    kind = line.get("type")
    if kind not in _RAW_KINDS:
        raise Untranslatable(f"type {kind!r} is not a raw kind ccxt parses ({', '.join(_RAW_KINDS)})")
    raw = line["raw"]
    if not isinstance(raw, dict | list):
        raise Untranslatable(f"raw is not a JSON object: {_brief(raw)}")
    raw = _as_text(raw)  # ccxt reads an exchange's numbers as text; a JSON number's text is kept exactly
    parser = _parser(line["exchange"])
    exchange = parser.exchange
    with parser.lock:
        _set_markets(parser, instruments)
        market = None
        symbol = line.get("symbol")
        if symbol is not None:
            if not isinstance(symbol, str) or symbol not in exchange.markets:
                raise Untranslatable(f"unknown symbol {symbol!r}")
            market = exchange.markets[symbol]
        try:
            exchange.number = str
            text = _parse(exchange, kind, raw, market)
        except Exception:  # the string mode is a refinement; the float parse below decides
            text = None
        finally:
            exchange.number = float
        try:
            number = _parse(exchange, kind, raw, market)
        except Exception as e:
            raise Untranslatable(f"ccxt {exchange.id} could not parse the {kind}: {_one_line(e)}") from None
    unified = _exact(text, number)
    return _translate_kind(kind, unified, instruments, line.get("timestamp"))
