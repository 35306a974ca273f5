"""ccxt's unified structures (orders, trades, balances, positions) as JSON lines, and ccxt `markets` files.

One line is one JSON value, in one of three forms:

- wrapped: `{"type": "order" | "trade" | "balance" | "positions", "data": ..., "timestamp": ms}`; the
  optional `timestamp` (when the writer fetched the data) dates a balance or positions report that carries
  no time of its own.
- bare: a ccxt dict as `json.dumps` writes what ccxt returns, recognised by its keys:
  - order: has `id`, `status`, `side` and `amount` (a trade never has a status);
  - trade: has `id`, `order`, `side`, `price` and `amount`, and no `status`;
  - balance: has a `total` object;
  - position: has `symbol`, `contracts` and `side`; a non-empty list of positions is a positions report.
  A value matching no rule, or more than one, is untranslatable: wrap it to say what it is.
- raw: `{"exchange": "<ccxt id>", "type": "order" | "trade" | "balance", "raw": {...}, "symbol": "BTC/USDT"}`,
  an exchange's own payload, parsed by that exchange's ccxt parser (the optional `symbol` names the
  market when the payload does not). ccxt is an optional extra, imported on the first raw line only.
  The exchange's markets are built from the instruments `load_markets` made (their `metadata` keeps the
  ccxt market ids). ccxt's parsers return floats; see `_exact` for how the exchange's exact text is kept.

Numbers: ccxt writes them as JSON floats (`0.1`); they are decoded from the JSON text as `Decimal`, so
they are exactly what the line says, never a binary float. Times are ccxt's integer milliseconds; a fact
without its time is untranslatable (the translator never reads the clock).

What each structure records: see `orders` (orders and trades) and `reports` (balances and positions).
`structures` tells a bare line's structure by its keys, `raw` parses raw payloads through ccxt, `markets`
reads markets files, `readers` holds the strict readers they share.

`instruments` is keyed by ccxt's unified symbol (`BTC/USDT`, `BTC/USDT:USDT`); facts name the
instrument's own `symbol` (the same, for instruments `load_markets` made).
"""

from __future__ import annotations

import msgspec

from adapters.translate import Format, base
from adapters.translate.base import Instruments, Translation, Untranslatable, json_problem
from adapters.translate.ccxt_unified.markets import (
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
    TICK_SIZE,
    instruments_by_symbol,
    load_markets,
)
from adapters.translate.ccxt_unified.raw import CCXT_EXTRA_MISSING, _exact, _translate_raw, ccxt_market
from adapters.translate.ccxt_unified.readers import _decoder
from adapters.translate.ccxt_unified.structures import _KINDS, _shape, _translate_kind
from kernel import events as ev

__all__ = [
    "CCXT_EXTRA_MISSING",
    "DECIMAL_PLACES",
    "FORMAT",
    "SIGNIFICANT_DIGITS",
    "TICK_SIZE",
    "_exact",  # the tests pin the merge of ccxt's string and float parses
    "ccxt_market",
    "instruments_by_symbol",
    "load_markets",
    "translate",
]


def translate(raw: bytes, instruments: Instruments) -> Translation:
    """One JSON line (see the module text) to ledger facts."""
    try:
        value = _decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise Untranslatable(json_problem(raw, e)) from None
    if isinstance(value, dict):
        kind = value.get("type")
        if "data" in value and kind in _KINDS:
            return _translate_kind(kind, value["data"], instruments, value.get("timestamp"))
        if "raw" in value and "exchange" in value:
            return _translate_raw(value, instruments)
    return _translate_kind(_shape(value), value, instruments)


FORMAT = Format(name="ccxt", exchange="ccxt", account_type=ev.AccountType.SPOT, frame=base.lines,
                translate=translate, load_instruments=load_markets,
                order_ids_per_symbol=True)  # ccxt passes on what the venue numbers (per symbol on Binance)  # fmt: skip
