"""Exchange message translators, one module per format, and the table of formats `ledger ingest` and
`ledger instruments load` know.

Each format says how to cut a file into messages (`frame`), how to turn one message into facts
(`translate`, pure), what an account opened by an ingest of it looks like, and, where the exchange
publishes one, how to read its instrument list (`load_instruments`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from adapters.translate.base import Framer, Translator
from kernel import events as ev

InstrumentLoader = Callable[[bytes], list[ev.InstrumentSpec]]
"""Reads an exchange's instrument file; raises ValueError with a one-line reason when it cannot."""


@dataclass(frozen=True)
class Format:
    name: str
    exchange: str  # the exchange of an account an ingest opens; its instrument catalogue by default
    account_type: ev.AccountType
    frame: Framer
    translate: Translator
    load_instruments: InstrumentLoader | None = None
    # The exchange numbers orders per symbol (Binance): an order is known by symbol and id together.
    order_ids_per_symbol: bool = False


# format name -> (module, attribute); imported on first use, so one format's optional extras never
# weigh on another's
_WHERE = {
    "fix": ("adapters.translate.fix", "FORMAT"),
    "binance": ("adapters.translate.binance", "SPOT_FORMAT"),
    "binance-futures": ("adapters.translate.binance", "FUTURES_FORMAT"),
    "ccxt": ("adapters.translate.ccxt_unified", "FORMAT"),
}
FORMAT_NAMES = tuple(_WHERE)
INSTRUMENT_FORMAT_NAMES = ("binance", "binance-futures", "ccxt")


def get_format(name: str) -> Format:
    module, attribute = _WHERE[name]
    return getattr(import_module(module), attribute)
