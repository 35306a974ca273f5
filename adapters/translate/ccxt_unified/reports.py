"""ccxt balances and positions to account reports.

- A balance records `ExchangeBalancesReported` over the currencies in `total` (`used` is locked).
- Positions record `ExchangePositionsReported`, each signed (short < 0), netted per symbol.
  A report's id is its time and a digest of what it says: a redelivered report records once.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from adapters.translate.base import UNSET, UNSTAMPED, AccountFact, Instruments, Translation, Untranslatable, decimal_of
from adapters.translate.ccxt_unified.readers import _ZERO, _bounded, _brief, _dict, _instrument, _ms, _optional_positive
from kernel import events as ev


# ------------------------------------------------------------------------------ account reports
def _report_id(kind: str, ts_ms: int, content: list[tuple[str, ...]]) -> str:
    """Stable across redeliveries of the same report; distinct for a report taken at another time or
    saying something else (two reports of the same millisecond, e.g. two accounts fetched together, must
    both record; so must a report repeating an earlier one's numbers at a later time)."""
    digest = hashlib.sha256(repr(content).encode()).hexdigest()[:16]
    return f"{kind}:{ts_ms}:{digest}"


def _canonical(number: Decimal) -> str:
    return str(number.normalize()) if number else "0"


def _report_ms(own: object, fallback: object, what: str) -> int:
    value = own if own is not None else fallback
    if value is None:
        raise Untranslatable(f"timestamp is missing: a {what} report needs the time it was taken "
                             f'(wrap it as {{"type": "{what}", "timestamp": ms, "data": ...}})')  # fmt: skip
    return _ms(value, "timestamp") // 1_000_000


def _balance(d: dict[str, Any], fallback_ms: object = None) -> Translation:
    totals = _dict(d.get("total"), "total")
    used = d.get("used") or {}
    free = d.get("free") or {}
    if not isinstance(used, dict) or not isinstance(free, dict):
        raise Untranslatable("used and free must be objects of currency -> amount")
    ts_ms = _report_ms(d.get("timestamp"), fallback_ms, "balance")
    balances = []
    for asset in sorted(totals):
        total = totals[asset]
        locked = used.get(asset)
        if total is None:  # ccxt leaves total unknown when the exchange gives free and used only
            if locked is None or free.get(asset) is None:
                raise Untranslatable(f"total[{asset!r}] is missing, and free and used do not give it")
            total = decimal_of(free[asset], f"free[{asset!r}]") + decimal_of(locked, f"used[{asset!r}]")
        balances.append(ev.ReportedBalance(
            asset_id=asset, total=_bounded(decimal_of(total, f"total[{asset!r}]"), f"total[{asset!r}]"),
            locked=_ZERO if locked is None else _bounded(decimal_of(locked, f"used[{asset!r}]"), f"used[{asset!r}]"),
        ))  # fmt: skip
    content = [(b.asset_id, _canonical(b.total), _canonical(b.locked)) for b in balances]
    event = ev.ExchangeBalancesReported(
        account_id=UNSET, ts_event=ts_ms * 1_000_000, ts_recorded=UNSTAMPED, balances=tuple(balances),
        report_id=_report_id("balance", ts_ms, content),
    )  # fmt: skip
    return Translation(facts=(AccountFact(event),))


def _positions(data: object, instruments: Instruments, fallback_ms: object = None) -> Translation:
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Untranslatable(f"positions is not a list or a position: {_brief(data)}")
    net: dict[str, list[Any]] = {}  # symbol -> [quantity, entry price, positions seen]
    times: list[object] = []
    for i, p in enumerate(items):
        p = _dict(p, f"positions[{i}]")
        spec = _instrument(p.get("symbol"), instruments, f"positions[{i}].symbol")
        contracts = p.get("contracts")
        if contracts is None:
            raise Untranslatable(f"positions[{i}].contracts is missing")
        quantity = _bounded(decimal_of(contracts, f"positions[{i}].contracts"), f"positions[{i}].contracts")
        side = p.get("side")
        if side == "short":
            quantity = -abs(quantity)
        elif side == "long":
            quantity = abs(quantity)
        elif side is not None or quantity:
            raise Untranslatable(f"positions[{i}].side is not 'long' or 'short': {side!r}")
        entry = _optional_positive(p.get("entryPrice"), f"positions[{i}].entryPrice")
        times.append(p.get("timestamp"))
        row = net.setdefault(spec.symbol, [_ZERO, None, 0])
        row[0] += quantity
        if quantity:
            row[1], row[2] = entry, row[2] + 1
    if times and all(t is not None for t in times):  # the report's time is its latest position's
        ts_ms = max(_ms(t, f"positions[{i}].timestamp") for i, t in enumerate(times)) // 1_000_000
    else:
        ts_ms = _report_ms(None, fallback_ms, "positions")
    # hedge mode: a long and a short of one symbol net to one position, whose entry price is then unknown
    positions = tuple(
        ev.ReportedPosition(symbol_id=symbol, quantity=quantity, entry_price=entry if seen == 1 else None)
        for symbol, (quantity, entry, seen) in sorted(net.items())
    )  # fmt: skip
    content = [(p.symbol_id, _canonical(p.quantity), str(p.entry_price)) for p in positions]
    event = ev.ExchangePositionsReported(
        account_id=UNSET, ts_event=ts_ms * 1_000_000, ts_recorded=UNSTAMPED, positions=positions,
        report_id=_report_id("positions", ts_ms, content),
    )  # fmt: skip
    return Translation(facts=(AccountFact(event, symbols=tuple(p.symbol_id for p in positions)),))
