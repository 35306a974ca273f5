"""The Binance spot user data stream (`binance`) to ledger facts.

executionReport: see `orders`.
Account messages:
  spot outboundAccountPosition  ExchangeBalancesReported(total = f + l, locked = l)
  spot balanceUpdate            BalanceAdjusted(amount = d, DEPOSIT when d > 0 else WITHDRAWAL; a transfer
                                to or from another Binance wallet looks the same and is recorded the same),
                                reference `balanceUpdate:<a>:<T>:<d>` (clear time and delta as sent: two
                                deposits of one asset cleared in one batch both record)

Skipped by design (no ledger fact): listStatus (each order of a list has its own executionReport),
externalLockUpdate (moves free to locked, not the total; the next outboundAccountPosition shows it),
eventStreamTerminated, listenKeyExpired.
"""

from __future__ import annotations

from typing import Any

from adapters.translate.base import (
    UNSET,
    UNSTAMPED,
    AccountFact,
    Instruments,
    OrderFact,
    OrderRef,
    Translation,
    Untranslatable,
)
from adapters.translate.binance.messages import (
    EXACT,
    _dec,
    _digest,
    _enum,
    _event_or_skip,
    _get,
    _int,
    _label,
    _ms,
    _opt_text,
    _text,
    _unknown_event,
)
from adapters.translate.binance.orders import (
    _ENDED,
    ORDER_STATUSES,
    SIDES,
    SPOT_EXECUTION_TYPES,
    SPOT_ORDER_TYPES,
    SPOT_TIME_IN_FORCE,
    _amend,
    _fill,
    _order_id,
    _spec,
)
from kernel import events as ev


# ------------------------------------------------------------------------------ spot
def _spot_execution(m: dict[str, Any], instruments: Instruments) -> Translation:
    symbol = _text(m, "s")
    if symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    x = _text(m, "x")
    if x not in SPOT_EXECUTION_TYPES:
        raise Untranslatable(f"unknown execution type {x!r}")
    status = _text(m, "X")
    if status not in ORDER_STATUSES:
        raise Untranslatable(f"unknown order status {status!r}")
    side = _enum(SIDES, m, "S")
    kind, post_only = _enum(SPOT_ORDER_TYPES, m, "o")
    tif, _ = _enum(SPOT_TIME_IN_FORCE, m, "f")
    quantity, price, stop = _dec(m, "q"), _dec(m, "p"), _dec(m, "P")
    order_id = _order_id(m, required=x != "REJECTED")
    ts = _ms(m, "T") if "T" in m else _ms(m, "E")
    client, original = _opt_text(m, "c"), _opt_text(m, "C")
    ref = OrderRef(
        symbol=symbol, client_order_id=original or client, orig_client_order_id=client if original else "",
        exchange_order_id=order_id, order=_spec(symbol, side, kind, post_only, tif, quantity, price, stop),
    )  # fmt: skip
    if x == "TRADE":
        trade_id = _int(m, "t")
        if trade_id < 0:
            raise Untranslatable(f"{_label('t')} is not a valid trade id: {trade_id}")
        return Translation(facts=(OrderFact(ref, _fill(m, ts, str(trade_id))),))
    execution = m.get("I")
    exec_id = f"{order_id}:{x}:{execution}" if type(execution) is int else f"{order_id}:{x}@{ts // 1_000_000}"
    common = {"account_id": UNSET, "intent_id": UNSET, "ts_event": ts, "ts_recorded": UNSTAMPED, "exec_id": exec_id}
    event: ev.OrderEvent
    if x == "NEW":
        if status == "PENDING_NEW":
            event = ev.ExecutionReported(exec_type=ev.ReportKind.PENDING_NEW, ord_status=status, **common)
        else:
            event = ev.OrderAccepted(exchange_order_id=order_id, **common)
    elif x == "CANCELED":
        event = ev.CancelAccepted(**common)
    elif x == "REJECTED":
        event = ev.OrderRejected(reason=_opt_text(m, "r") or "REJECTED", exchange_order_id=order_id, **common)
    elif x == "EXPIRED":
        event = ev.OrderExpired(**common)
    elif x == "REPLACED":
        event = _amend(m, ts, exec_id, quantity, price)
    else:  # TRADE_PREVENTION
        if status in _ENDED:
            event = ev.OrderExpired(**common)
        else:  # DECREMENT / TRANSFER: the order stays, its quantity cut by what was prevented
            event = _amend(m, ts, exec_id, EXACT.subtract(quantity, _dec(m, "A")), price)
    return Translation(facts=(OrderFact(ref, event),))


def _spot_account_position(m: dict[str, Any]) -> Translation:
    entries = _get(m, "B")
    if type(entries) is not list:
        raise Untranslatable(f"{_label('B')} is not a list")
    balances = []
    for entry in entries:
        if type(entry) is not dict:
            raise Untranslatable(f"{_label('B')} holds a {type(entry).__name__}, not an object")
        free, locked = _dec(entry, "f", "f (free)"), _dec(entry, "l", "l (locked)")
        if locked < 0:
            raise Untranslatable(f"l (locked) must be >= 0, got {locked}")
        balances.append(ev.ReportedBalance(asset_id=_text(entry, "a"), total=EXACT.add(free, locked), locked=locked))
    when = m["u"] if "u" in m else _get(m, "E")
    report_id = f"outboundAccountPosition:{when}:{_digest(balances)}"
    event = ev.ExchangeBalancesReported(account_id=UNSET, ts_event=_ms(m, "E"), ts_recorded=UNSTAMPED,
                                        balances=tuple(balances), report_id=report_id)  # fmt: skip
    return Translation(facts=(AccountFact(event),))


def _spot_balance_update(m: dict[str, Any]) -> Translation:
    asset, delta = _text(m, "a"), _dec(m, "d")
    if not asset:
        raise Untranslatable(f"{_label('a')} is empty")
    clear_time = _get(m, "T")
    ts = _ms(m, "T")
    if delta == 0:
        return Translation(skipped="balanceUpdate with a zero delta")
    reason = ev.AdjustmentReason.DEPOSIT if delta > 0 else ev.AdjustmentReason.WITHDRAWAL
    event = ev.BalanceAdjusted(account_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, asset_id=asset, amount=delta,
                               reason=reason, reference=f"balanceUpdate:{asset}:{clear_time}:{m['d']}")  # fmt: skip
    return Translation(facts=(AccountFact(event),))


SPOT_SKIPPED = {
    "listStatus": "order list status: each order of the list has its own executionReport",
    "externalLockUpdate": "external lock moves free to locked, not the total; outboundAccountPosition reports it",
    "eventStreamTerminated": "the subscription ended; no ledger fact",
    "listenKeyExpired": "the listen key expired; no ledger fact",
}
FUTURES_EVENTS = frozenset({"ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ACCOUNT_CONFIG_UPDATE", "MARGIN_CALL",
                            "TRADE_LITE", "STRATEGY_UPDATE", "GRID_UPDATE", "CONDITIONAL_ORDER_TRIGGER_REJECT",
                            "ALGO_UPDATE"})  # fmt: skip
SPOT_EVENTS = frozenset({"executionReport", "outboundAccountPosition", "balanceUpdate", *SPOT_SKIPPED})


def translate_spot(raw: bytes, instruments: Instruments) -> Translation:
    """One Binance spot user data stream message to facts (see the module text)."""
    m = _event_or_skip(raw)
    if isinstance(m, Translation):
        return m
    kind = m["e"]
    if kind == "executionReport":
        return _spot_execution(m, instruments)
    if kind == "outboundAccountPosition":
        return _spot_account_position(m)
    if kind == "balanceUpdate":
        return _spot_balance_update(m)
    if kind in SPOT_SKIPPED:
        return Translation(skipped=SPOT_SKIPPED[kind])
    raise _unknown_event(kind, FUTURES_EVENTS, "binance-futures")
