"""The Binance USDⓈ-M futures user data stream (`binance-futures`) to ledger facts.

ORDER_TRADE_UPDATE: see `orders`.
Account messages:
  futures ACCOUNT_UPDATE        per balance B with a cash reason m and bc != 0 a BalanceAdjusted (reference
                                `ACCOUNT_UPDATE:<m>:<a>:<T>:<wb>`: the wallet balance after the change tells
                                apart two changes in one millisecond, e.g. the funding of two cross-margin
                                positions, whose messages do not name the symbol), then
                                ExchangeBalancesReported(total = wb,
                                locked = 0: futures reports no locked amount), then, when P lists positions,
                                ExchangePositionsReported(quantity = pa signed, entry_price = ep, None when flat)
  futures ACCOUNT_CONFIG_UPDATE LeverageSet(symbol, leverage) for `ac`; the multi-assets switch `ai` is skipped
Cash reasons: DEPOSIT, ADMIN_DEPOSIT, COIN_SWAP_DEPOSIT -> DEPOSIT; WITHDRAW, ADMIN_WITHDRAW,
COIN_SWAP_WITHDRAW, WITHDRAW_REJECT (the return of a refused withdrawal: positive) -> WITHDRAWAL; FUNDING_FEE ->
FUNDING (bc is the funding amount, signed: the docs' "balance change except PnL and commission");
MARGIN_TRANSFER, ASSET_TRANSFER, AUTO_EXCHANGE, MARGIN_TYPE_CHANGE -> TRANSFER; ADJUSTMENT, INSURANCE_CLEAR,
OPTIONS_PREMIUM_FEE, OPTIONS_SETTLE_PROFIT -> CORRECTION. ORDER moves no cash here: a fill's realized PnL and
commission are what the ledger computes from OrderFilled (Binance's own realized profit `rp` is not recorded).
An unknown reason with a nonzero bc is untranslatable (a cash move is never guessed).
Positions: only one-way mode (ps BOTH) is reported. A hedge-mode entry (ps LONG/SHORT) with a nonzero amount
makes the message untranslatable: ACCOUNT_UPDATE lists only the side that changed, so the net position cannot
be known from it; an empty hedge-mode side (pa = 0) is ignored.

Skipped by design (no ledger fact): MARGIN_CALL (a warning), TRADE_LITE (a lighter copy of the TRADE
ORDER_TRADE_UPDATE, without the fee), listenKeyExpired, STRATEGY_UPDATE, GRID_UPDATE,
CONDITIONAL_ORDER_TRIGGER_REJECT, ALGO_UPDATE (conditional orders before they trigger; the order one places is
reported by ORDER_TRADE_UPDATE).
"""

from __future__ import annotations

from typing import Any

from adapters.translate.base import (
    UNSET,
    UNSTAMPED,
    AccountFact,
    Fact,
    Instruments,
    OrderFact,
    OrderRef,
    Translation,
    Untranslatable,
    decimal_of,
)
from adapters.translate.binance.messages import (
    ZERO,
    _dec,
    _digest,
    _enum,
    _event_or_skip,
    _get,
    _label,
    _ms,
    _opt_text,
    _text,
    _unknown_event,
)
from adapters.translate.binance.orders import (
    FUTURES_EXECUTION_TYPES,
    FUTURES_ORDER_TYPES,
    FUTURES_TIME_IN_FORCE,
    ORDER_STATUSES,
    SIDES,
    _amend,
    _fill,
    _order_id,
    _spec,
)
from adapters.translate.binance.spot import SPOT_EVENTS
from kernel import events as ev
from kernel.schema.order_spec import TimeInForce


# ------------------------------------------------------------------------------ USDⓈ-M futures
def _futures_order(m: dict[str, Any], instruments: Instruments) -> Translation:
    o = _get(m, "o")
    if type(o) is not dict:
        raise Untranslatable(f"o (order) is not an object: {o!r}")
    symbol = _text(o, "s")
    if symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    x = _text(o, "x")
    if x not in FUTURES_EXECUTION_TYPES:
        raise Untranslatable(f"unknown execution type {x!r}")
    status = _text(o, "X")
    if status not in ORDER_STATUSES:
        raise Untranslatable(f"unknown order status {status!r}")
    side = _enum(SIDES, o, "S")
    type_key = "ot" if o.get("ot") else "o"
    kind, _ = _enum(FUTURES_ORDER_TYPES, o, type_key)
    tif, post_only = _enum(FUTURES_TIME_IN_FORCE, o, "f")
    quantity, price = _dec(o, "q"), _dec(o, "p")
    trailing = o[type_key] == "TRAILING_STOP_MARKET"
    stop = (_dec(o, "AP") if "AP" in o else ZERO) if trailing else _dec(o, "sp") if "sp" in o else ZERO
    gtd = o.get("gtd")
    expire_at = _ms(o, "gtd") if tif is TimeInForce.GTD and gtd else None
    reduce_only = o.get("R") is True
    order_id = _order_id(o)
    ts = _ms(o, "T") if "T" in o else _ms(m, "T") if "T" in m else _ms(m, "E")
    spec = _spec(symbol, side, kind, post_only, tif, quantity, price, stop, reduce_only, expire_at)
    ref = OrderRef(symbol=symbol, client_order_id=_opt_text(o, "c"), exchange_order_id=order_id, order=spec)
    if x == "TRADE" or x == "CALCULATED":
        trade = o.get("t")
        if type(trade) is int and (trade > 0 or (trade == 0 and x == "TRADE")):
            trade_id = str(trade)
        elif x == "CALCULATED":
            trade_id = f"{order_id}:{x}:{ts // 1_000_000}"
        else:
            raise Untranslatable(f"{_label('t')} is not a valid trade id: {trade!r}")
        return Translation(facts=(OrderFact(ref, _fill(o, ts, trade_id)),))
    exec_id = f"{order_id}:{x}@{ts // 1_000_000}"
    common = {"account_id": UNSET, "intent_id": UNSET, "ts_event": ts, "ts_recorded": UNSTAMPED, "exec_id": exec_id}
    event: ev.OrderEvent
    if x == "NEW":
        event = ev.OrderAccepted(exchange_order_id=order_id, **common)
    elif x == "CANCELED":
        event = ev.CancelAccepted(**common)
    elif x == "EXPIRED":
        event = ev.OrderExpired(**common)
    else:  # AMENDMENT
        event = _amend(o, ts, exec_id, quantity, price)
    return Translation(facts=(OrderFact(ref, event),))


CASH_REASONS = {
    "DEPOSIT": ev.AdjustmentReason.DEPOSIT,
    "ADMIN_DEPOSIT": ev.AdjustmentReason.DEPOSIT,
    "COIN_SWAP_DEPOSIT": ev.AdjustmentReason.DEPOSIT,
    "WITHDRAW": ev.AdjustmentReason.WITHDRAWAL,
    "ADMIN_WITHDRAW": ev.AdjustmentReason.WITHDRAWAL,
    "COIN_SWAP_WITHDRAW": ev.AdjustmentReason.WITHDRAWAL,
    "WITHDRAW_REJECT": ev.AdjustmentReason.WITHDRAWAL,
    "FUNDING_FEE": ev.AdjustmentReason.FUNDING,
    "MARGIN_TRANSFER": ev.AdjustmentReason.TRANSFER,
    "ASSET_TRANSFER": ev.AdjustmentReason.TRANSFER,
    "AUTO_EXCHANGE": ev.AdjustmentReason.TRANSFER,
    "MARGIN_TYPE_CHANGE": ev.AdjustmentReason.TRANSFER,
    "ADJUSTMENT": ev.AdjustmentReason.CORRECTION,
    "INSURANCE_CLEAR": ev.AdjustmentReason.CORRECTION,
    "OPTIONS_PREMIUM_FEE": ev.AdjustmentReason.CORRECTION,
    "OPTIONS_SETTLE_PROFIT": ev.AdjustmentReason.CORRECTION,
}
"""ACCOUNT_UPDATE reasons whose balance change `bc` is a cash move the ledger records as such."""
NO_CASH_REASONS = frozenset({"ORDER"})
"""Reasons whose balance changes the ledger computes itself (from the fills)."""


def _futures_account(m: dict[str, Any], instruments: Instruments) -> Translation:
    a = _get(m, "a")
    if type(a) is not dict:
        raise Untranslatable(f"a (update data) is not an object: {a!r}")
    why = _opt_text(a, "m")
    transaction_time = _get(m, "T")
    ts, ts_report = _ms(m, "T"), _ms(m, "E")
    facts: list[Fact] = []
    reported: list[ev.ReportedBalance] = []
    for entry in _list(a, "B"):
        asset, wallet = _text(entry, "a"), _dec(entry, "wb")
        change = _dec(entry, "bc") if "bc" in entry else ZERO
        reported.append(ev.ReportedBalance(asset_id=asset, total=wallet))
        if not change or why in NO_CASH_REASONS:
            continue
        reason = CASH_REASONS.get(why)
        if reason is None:
            raise Untranslatable(f"unknown ACCOUNT_UPDATE reason {why!r} with a balance change of {change} {asset}")
        facts.append(AccountFact(ev.BalanceAdjusted(
            account_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, asset_id=asset, amount=change, reason=reason,
            reference=f"ACCOUNT_UPDATE:{why}:{asset}:{transaction_time}:{entry['wb']}",
        )))  # fmt: skip
    positions: list[ev.ReportedPosition] = []
    for entry in _list(a, "P"):
        symbol, amount, side = _text(entry, "s"), _dec(entry, "pa"), _opt_text(entry, "ps") or "BOTH"
        if side != "BOTH":
            if side not in ("LONG", "SHORT"):
                raise Untranslatable(f"unknown position side {side!r}")
            if amount:
                raise Untranslatable(f"hedge mode position side {side} is not supported ({symbol} {amount})")
            continue
        if symbol not in instruments:
            raise Untranslatable(f"unknown symbol {symbol!r}")
        entry_price = _dec(entry, "ep") if amount else None
        if entry_price is not None and entry_price < 0:
            raise Untranslatable(f"ep (entry price) must be >= 0, got {entry_price}")
        positions.append(ev.ReportedPosition(symbol_id=symbol, quantity=amount, entry_price=entry_price or None))
    if reported:
        facts.append(AccountFact(ev.ExchangeBalancesReported(
            account_id=UNSET, ts_event=ts_report, ts_recorded=UNSTAMPED, balances=tuple(reported),
            report_id=f"ACCOUNT_UPDATE:{transaction_time}:{_digest(reported)}",
        )))  # fmt: skip
    if positions:
        facts.append(AccountFact(ev.ExchangePositionsReported(
            account_id=UNSET, ts_event=ts_report, ts_recorded=UNSTAMPED, positions=tuple(positions),
            report_id=f"ACCOUNT_UPDATE:{transaction_time}:{_digest(positions)}",
        ), symbols=tuple(p.symbol_id for p in positions)))  # fmt: skip
    if not facts:
        return Translation(skipped=f"ACCOUNT_UPDATE ({why or 'no reason'}) lists no balance and no one-way position")
    return Translation(facts=tuple(facts))


def _list(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj.get(key) or []
    if type(value) is not list or any(type(item) is not dict for item in value):
        raise Untranslatable(f"{_label(key)} is not a list of objects")
    return value


def _futures_config(m: dict[str, Any], instruments: Instruments) -> Translation:
    config = m.get("ac")
    if config is None:
        return Translation(skipped="ACCOUNT_CONFIG_UPDATE of the multi-assets mode; no ledger fact")
    if type(config) is not dict:
        raise Untranslatable(f"ac (account configuration) is not an object: {config!r}")
    symbol = _text(config, "s")
    if symbol not in instruments:
        raise Untranslatable(f"unknown symbol {symbol!r}")
    leverage = decimal_of(_get(config, "l"), "l (leverage)")
    if leverage <= 0:
        raise Untranslatable(f"l (leverage) must be > 0, got {leverage}")
    ts = _ms(m, "T") if "T" in m else _ms(m, "E")
    event = ev.LeverageSet(account_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, symbol_id=symbol, leverage=leverage,
                           reference=f"ACCOUNT_CONFIG_UPDATE:{symbol}:{ts}:{leverage}")  # fmt: skip
    return Translation(facts=(AccountFact(event, symbols=(symbol,)),))


FUTURES_SKIPPED = {
    "MARGIN_CALL": "margin call: a warning; no ledger fact",
    "TRADE_LITE": "a lighter copy of the TRADE ORDER_TRADE_UPDATE (no fee); the full one is recorded",
    "listenKeyExpired": "the listen key expired; no ledger fact",
    "STRATEGY_UPDATE": "strategy status; its orders are reported by ORDER_TRADE_UPDATE",
    "GRID_UPDATE": "grid strategy status; its orders are reported by ORDER_TRADE_UPDATE",
    "CONDITIONAL_ORDER_TRIGGER_REJECT": "a conditional order's trigger was rejected; no order was placed",
    "ALGO_UPDATE": "a conditional (algo) order's status; the order it places is reported by ORDER_TRADE_UPDATE",
}


def translate_futures(raw: bytes, instruments: Instruments) -> Translation:
    """One Binance USDⓈ-M futures user data stream message to facts (see the module text)."""
    m = _event_or_skip(raw)
    if isinstance(m, Translation):
        return m
    kind = m["e"]
    if kind == "ORDER_TRADE_UPDATE":
        return _futures_order(m, instruments)
    if kind == "ACCOUNT_UPDATE":
        return _futures_account(m, instruments)
    if kind == "ACCOUNT_CONFIG_UPDATE":
        return _futures_config(m, instruments)
    if kind in FUTURES_SKIPPED:
        return Translation(skipped=FUTURES_SKIPPED[kind])
    raise _unknown_event(kind, SPOT_EVENTS, "binance spot")
