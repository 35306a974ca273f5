"""Binance user data streams to ledger facts: spot (`binance`) and USDⓈ-M futures (`binance-futures`), and
their exchangeInfo files to instruments.

Input is one JSON message per line, as the stream sends it (see `messages`). `orders` holds what spot and
futures orders share: the execution types, idempotency keys, how a message names its order, order types.
`spot` and `futures` translate each stream; `exchange_info` reads the instrument files.

Timestamps: an order fact's ts_event is its transaction time T (the futures order's own T), else E; a
balance report's is E; a balance change's is its clear/transaction time T.

Report ids: `<event>:<time>:<crc32 of the listed balances/positions>` (spot: u, the time of the account
update; futures: T), so a redelivered report records once and two different reports in one millisecond both
record.
"""

from __future__ import annotations

from adapters.translate import Format
from adapters.translate.base import lines
from adapters.translate.binance.exchange_info import load_futures_exchange_info, load_spot_exchange_info
from adapters.translate.binance.futures import translate_futures
from adapters.translate.binance.spot import translate_spot
from kernel import events as ev

__all__ = [
    "FUTURES_FORMAT",
    "SPOT_FORMAT",
    "load_futures_exchange_info",
    "load_spot_exchange_info",
    "translate_futures",
    "translate_spot",
]

SPOT_FORMAT = Format(name="binance", exchange="binance", account_type=ev.AccountType.SPOT, frame=lines,
                     translate=translate_spot, load_instruments=load_spot_exchange_info,
                     order_ids_per_symbol=True)  # fmt: skip
FUTURES_FORMAT = Format(name="binance-futures", exchange="binance-futures", account_type=ev.AccountType.FUTURES,
                        frame=lines, translate=translate_futures,
                        load_instruments=load_futures_exchange_info, order_ids_per_symbol=True)  # fmt: skip
