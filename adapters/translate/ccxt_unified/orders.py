"""ccxt orders and trades to order facts.

- An order is a snapshot of the order's state, not an event: `open` and `closed` record `OrderAccepted`
  (keyed by the exchange order id, so every later snapshot of the same order records nothing new),
  `canceled` adds `CancelAccepted`, `expired` adds `OrderExpired`, `rejected` records `OrderRejected`
  (the accept is dated by `timestamp`, the end by `lastUpdateTimestamp` when given).
  A snapshot's `filled` records no fill: it has no trade id, so nothing would tell a second snapshot's
  `filled` from new fills, and the ledger keys fills by trade id. Fills come as trades, alone or in the
  order's `trades` list (translated with the order, after its accept and before its cancel or expiry; a
  listed trade without its own time is dated by the order's `lastTradeTimestamp`).
- An edited order (ccxt `editOrder`; the same order id with a new `amount` or `price`) shows only in a
  later snapshot's terms. A snapshot with `lastUpdateTimestamp` (what orders snapshots in time) and terms
  the ledger can describe also records `AmendAccepted(quantity=amount, price)` at that time, as an
  `if_changed` fact: the ledger records it only when the terms differ from what it holds and the snapshot
  is not older than what it last heard of the order (`Order.decide_if_changed`). Its exec id names the
  update time, so a snapshot read twice records once. It comes right after the accept, before the
  snapshot's fills and end, which happened under the new terms.
- A trade records `OrderFilled` (trade id = ccxt `id`). Its `OrderRef` describes the order from the
  trade's side, type, amount and price when it has a type; the amount is only the trade's, so an order
  first seen through a trade is discovered with the trade's amount as its quantity (let order snapshots
  come first).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.translate.base import (
    UNSET,
    UNSTAMPED,
    Fact,
    Instruments,
    OrderFact,
    OrderRef,
    Translation,
    Untranslatable,
    decimal_of,
)
from adapters.translate.ccxt_unified.readers import (
    _ZERO,
    _bounded,
    _brief,
    _dict,
    _instrument,
    _ms,
    _optional_positive,
    _positive,
    _text,
)
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, TimeInForce

_SIDES = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
_LIQUIDITY = {"taker": ev.Liquidity.TAKER, "maker": ev.Liquidity.MAKER, None: None}


def _side(value: object, field: str) -> OrderSide | None:
    if value is None:
        return None
    side = _SIDES.get(value) if isinstance(value, str) else None
    if side is None:
        raise Untranslatable(f"{field} is not 'buy' or 'sell': {value!r}")
    return side


# ------------------------------------------------------------------------------ the order's description
# ccxt type -> (ledger type, post only). Triggered orders are "limit" or "market" with a trigger price in
# ccxt 4; older parsers, and some exchanges, still name them. A take-profit is a triggered order too.
_TYPES: dict[str, tuple[OrderType, bool]] = {
    "limit": (OrderType.LIMIT, False),
    "market": (OrderType.MARKET, False),
    "limit_maker": (OrderType.LIMIT, True),
    "stop": (OrderType.STOP, False),
    "stop_market": (OrderType.STOP, False),
    "stop_loss": (OrderType.STOP, False),
    "take_profit": (OrderType.STOP, False),
    "take_profit_market": (OrderType.STOP, False),
    "stop_limit": (OrderType.STOP_LIMIT, False),
    "stop_loss_limit": (OrderType.STOP_LIMIT, False),
    "take_profit_limit": (OrderType.STOP_LIMIT, False),
}
_TRIGGERED = {OrderType.LIMIT: OrderType.STOP_LIMIT, OrderType.MARKET: OrderType.STOP}
_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_STOPS = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
# ccxt timeInForce -> (ledger time in force, post only); None is GTC. ccxt gives a GTD order no expiry,
# so a GTD order cannot be described (the ledger's GTD needs its expire_at).
_TIFS: dict[str | None, tuple[TimeInForce, bool]] = {
    None: (TimeInForce.GTC, False),
    "GTC": (TimeInForce.GTC, False),
    "IOC": (TimeInForce.IOC, False),
    "FOK": (TimeInForce.FOK, False),
    "PO": (TimeInForce.GTC, True),
    "DAY": (TimeInForce.DAY, False),
}
_TRIGGER_FIELDS = ("triggerPrice", "stopPrice", "stopLossPrice", "takeProfitPrice")


def _describe(d: dict[str, Any], symbol: str, quantity: Decimal | None, price: Decimal | None,
              stop_price: Decimal | None) -> ev.OrderSpec | None:  # fmt: skip
    """The order as the ledger's `OrderSpec`, or None when the message does not say enough to describe it
    (no side, a type or time in force the ledger has no name for, a missing quantity or price). A value
    that is there but malformed is untranslatable, never silently dropped."""
    side = _side(d.get("side"), "side")
    kind = d.get("type")
    if side is None or quantity is None or not isinstance(kind, str) or kind not in _TYPES:
        return None
    order_type, post_only = _TYPES[kind]
    if stop_price is not None and order_type in _TRIGGERED:
        order_type = _TRIGGERED[order_type]
    tif_name = d.get("timeInForce")
    tif = _TIFS.get(tif_name) if isinstance(tif_name, str | None) else None
    if tif is None:
        return None
    time_in_force, tif_post_only = tif
    post_only = post_only or tif_post_only or d.get("postOnly") is True
    if order_type in _PRICED and price is None or order_type in _STOPS and stop_price is None:
        return None
    if order_type not in _PRICED:
        price = None  # ccxt reports a market order's average as its price; the order had none
        post_only = False
    return ev.OrderSpec(
        symbol=symbol, side=side, order_type=order_type, quantity=quantity, price=price,
        stop_price=stop_price if order_type in _STOPS else None, time_in_force=time_in_force,
        reduce_only=d.get("reduceOnly") is True, post_only=post_only,
    )  # fmt: skip


def _stop_price(d: dict[str, Any]) -> Decimal | None:
    for field in _TRIGGER_FIELDS:
        value = _optional_positive(d.get(field), field)
        if value is not None:
            return value
    return None


# ------------------------------------------------------------------------------ trades
def _fee(t: dict[str, Any], field: str) -> tuple[Decimal, str | None]:
    """The fill's fee: ccxt's `fee`, else its `fees` summed per currency (in one currency only: the ledger
    keeps one fee per fill)."""
    fee = t.get("fee")
    if fee is not None and _dict(fee, f"{field}fee").get("cost") is not None:
        cost = decimal_of(fee["cost"], f"{field}fee.cost")
        currency = fee.get("currency")
    else:
        fees = t.get("fees") or []
        if not isinstance(fees, list):
            raise Untranslatable(f"{field}fees is not a list: {_brief(fees)}")
        totals: dict[object, Decimal] = {}
        for i, item in enumerate(fees):
            item = _dict(item, f"{field}fees[{i}]")
            if item.get("cost") is not None:
                currency = item.get("currency")
                if not isinstance(currency, str | None):
                    raise Untranslatable(f"{field}fees[{i}].currency is not a string: {_brief(currency)}")
                totals[currency] = totals.get(currency, _ZERO) + decimal_of(item["cost"], f"{field}fees[{i}].cost")
        if not totals:
            return _ZERO, None
        if len(totals) > 1:
            names = ", ".join(sorted(str(c) for c in totals))
            raise Untranslatable(f"{field}fees are in several currencies ({names}): the ledger keeps one fee per fill")
        [(currency, cost)] = totals.items()
    fee_asset = currency if isinstance(currency, str) and currency else None
    if cost and fee_asset is None:
        raise Untranslatable(f"{field}fee.currency is missing or not a string for a fee of {cost}: {currency!r}")
    return _bounded(cost, f"{field}fee.cost"), fee_asset


def _fill(t: dict[str, Any], instruments: Instruments, order: tuple[dict[str, Any], OrderRef] | None = None,
          field: str = "") -> OrderFact:  # fmt: skip
    """A ccxt trade as `OrderFilled`. `order` is the order snapshot whose `trades` list holds the trade, and
    its ref: its symbol and id stand in where the trade leaves them out."""
    trade_id = _text(t.get("id"), f"{field}id")
    symbol = t.get("symbol")
    if symbol is None and order is not None:
        symbol = order[0].get("symbol")
    spec = _instrument(symbol, instruments, f"{field}symbol")
    ts_ms = t.get("timestamp")
    if ts_ms is None and order is not None:  # an order's fills listed without their times (binance's
        ts_ms = order[0].get("lastTradeTimestamp") or order[0].get("timestamp")  # FULL order response)
    ts = _ms(ts_ms, f"{field}timestamp")
    quantity = _positive(t.get("amount"), f"{field}amount")
    price = _positive(t.get("price"), f"{field}price")
    fee, fee_asset = _fee(t, field)
    maker = t.get("takerOrMaker")
    if maker not in _LIQUIDITY:
        raise Untranslatable(f"{field}takerOrMaker is not 'taker' or 'maker': {maker!r}")
    order_id = t.get("order")
    if order is not None:
        ref = order[1]
        if order_id is not None and _text(order_id, f"{field}order") != ref.exchange_order_id:
            raise Untranslatable(f"{field}order is {order_id!r}, not the order {ref.exchange_order_id!r} listing it")
    elif order_id is None:
        raise Untranslatable(f"{field}order is missing: a trade must name the order it fills")
    else:
        ref = OrderRef(symbol=spec.symbol, exchange_order_id=_text(order_id, f"{field}order"),
                       order=_describe(t, spec.symbol, quantity, price, None))  # fmt: skip
    event = ev.OrderFilled(
        account_id=UNSET, intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, trade_id=trade_id,
        quantity=quantity, price=price, fee=fee, fee_asset=fee_asset, liquidity=_LIQUIDITY[maker],
    )  # fmt: skip
    return OrderFact(ref=ref, event=event)


def _trade(d: dict[str, Any], instruments: Instruments) -> Translation:
    return Translation(facts=(_fill(d, instruments),))


# ------------------------------------------------------------------------------ orders
def _order_ref(d: dict[str, Any], spec: ev.InstrumentSpec, exchange_order_id: str) -> OrderRef:
    client_order_id = d.get("clientOrderId")
    if client_order_id is not None and not isinstance(client_order_id, str):
        raise Untranslatable(f"clientOrderId is not a string: {client_order_id!r}")
    amount = _optional_positive(d.get("amount"), "amount")
    price = _optional_positive(d.get("price"), "price")
    described = _describe(d, spec.symbol, amount, price, _stop_price(d))
    return OrderRef(symbol=spec.symbol, client_order_id=client_order_id or "", exchange_order_id=exchange_order_id,
                    order=described)  # fmt: skip


_STATUSES = ("open", "closed", "canceled", "expired", "rejected")


def _order(d: dict[str, Any], instruments: Instruments) -> Translation:
    status = d.get("status")
    if status not in _STATUSES:
        if status is None:
            raise Untranslatable("status is missing: an order snapshot must say the order's status")
        raise Untranslatable(f"status {status!r} is not a ccxt order status ({', '.join(_STATUSES)})")
    spec = _instrument(d.get("symbol"), instruments)
    ts = _ms(d.get("timestamp"), "timestamp")
    updated = d.get("lastUpdateTimestamp")
    ts_done = ts if updated is None else _ms(updated, "lastUpdateTimestamp")
    order_id = d.get("id")
    if order_id is None and status == "rejected" and d.get("clientOrderId"):
        exchange_order_id = ""  # refused before the exchange numbered it; the client order id names it
    else:
        exchange_order_id = _text(order_id, "id")
    ref = _order_ref(d, spec, exchange_order_id)
    trades = d.get("trades") or []
    if not isinstance(trades, list):
        raise Untranslatable(f"trades is not a list: {_brief(trades)}")
    fills = tuple(_fill(_dict(t, f"trades[{i}]"), instruments, (d, ref), f"trades[{i}].") for i, t in enumerate(trades))
    common = dict(account_id=UNSET, intent_id=UNSET, ts_recorded=UNSTAMPED)
    if status == "rejected":
        reason = "rejected by the exchange (ccxt status 'rejected')"
        first: Fact = OrderFact(ref, ev.OrderRejected(**common, ts_event=ts_done, reason=reason,
                                                      exchange_order_id=exchange_order_id))  # fmt: skip
        return Translation(facts=(first, *fills))
    facts: list[Fact] = [OrderFact(ref, ev.OrderAccepted(**common, ts_event=ts, exchange_order_id=exchange_order_id))]
    if updated is not None and ref.order is not None:  # no update time: nothing tells it from an older snapshot
        terms = ev.AmendAccepted(**common, ts_event=ts_done, quantity=ref.order.quantity, price=ref.order.price,
                                 exec_id=f"{exchange_order_id}:AMENDED@{updated}")  # fmt: skip
        facts.append(OrderFact(ref, terms, if_changed=True))
    facts += fills
    if status == "canceled":
        facts.append(OrderFact(ref, ev.CancelAccepted(**common, ts_event=ts_done)))
    elif status == "expired":
        facts.append(OrderFact(ref, ev.OrderExpired(**common, ts_event=ts_done)))
    return Translation(facts=tuple(facts))
