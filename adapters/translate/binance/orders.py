"""What spot and USDⓈ-M futures orders share: the order a message describes, its fill and amend.

Spot `executionReport` (and the futures `ORDER_TRADE_UPDATE` "o" object), by execution type `x`:

  NEW               OrderAccepted; with order status X=PENDING_NEW (the pending leg of an order list) an
                    ExecutionReported(PENDING_NEW) instead: the order is in the engine but not working yet
  TRADE             OrderFilled(trade_id=t, quantity=l, price=L, fee=n, fee_asset=N, liquidity=m: MAKER/TAKER)
  CALCULATED        (futures) a liquidation or ADL execution: an OrderFilled like TRADE. An exchange-made order
                    (c `autoclose-...`, `adl_autoclose`, `settlement_autoclose-...`) has no intent: the ingest
                    records it as discovered from `OrderRef.order`. Without a trade id (t <= 0) its trade id is
                    `<i>:CALCULATED:<T>`
  CANCELED          CancelAccepted
  REJECTED          (spot) OrderRejected(reason=r)
  EXPIRED           OrderExpired (X is EXPIRED or EXPIRED_IN_MATCH; the expiry reason `eR`/`er` is not kept)
  TRADE_PREVENTION  (spot) self-trade prevention. When it ends the order (X=EXPIRED_IN_MATCH or EXPIRED), an
                    OrderExpired whose exec id names TRADE_PREVENTION (the catalogue's OrderExpired has no
                    reason field; the exec id is where the reason is kept). When the order stays open (STP mode
                    DECREMENT/TRANSFER), the exchange has cut its quantity: AmendAccepted(quantity = q - A,
                    the cumulative prevented quantity), so the ledger's remaining quantity agrees
  REPLACED          (spot, order amend keep-priority) AmendAccepted(quantity=q, price=p)
  AMENDMENT         (futures, order modify) AmendAccepted(quantity=q, price=p)

Idempotency keys. Binance has no FIX ExecID. A fill's key is its trade id `t` (unique per symbol; the
ledger keys fills per order). Every other answer carries `exec_id = "<i>:<x>:<I>"`: order id, execution type
and the spot Execution Id `I` (documented as "Ignore" before 2025-01, "Execution Id" since; it was always the
engine's execution id, the same on every connection and every redelivery). Without `I` (futures, older
captures) it is `"<i>:<x>@<T>"` with T the order's transaction time (engine time, the same on every
connection; unlike E, the time the push was generated). Two answers of one order with the same execution type
in the same millisecond would share a key; Binance does not produce them (one NEW, one CANCELED per order;
an amend takes longer than a millisecond).

How a message names its order (`OrderRef`): `client_order_id` is the id the order was placed under as far as
the message tells, `orig_client_order_id` the other one it carries. On spot a cancel's message carries the
cancel request's own id in `c` and the order's in `C` (likewise an amend: the new id in `c`, the one before in
`C`), so the ref is `(C, c)` when C is set and `(c, "")` otherwise; futures messages name the order by `c`
alone. `exchange_order_id` is `i` (Binance order ids are unique per symbol, not per account). `order` is the
order as the message describes it, for an order no intent created; None when the message cannot describe a
valid order (a quote-quantity MARKET order with q = 0, a trailing stop without a trigger price yet, a
close-all order): such a fact is recorded only against an intent the ingest finds by id.

Order types: spot LIMIT, MARKET, STOP_LOSS -> STOP, STOP_LOSS_LIMIT -> STOP_LIMIT, TAKE_PROFIT -> STOP,
TAKE_PROFIT_LIMIT -> STOP_LIMIT, LIMIT_MAKER -> LIMIT post-only (take-profit orders trigger on the other side
of the market; the ledger's order types do not say which side a stop triggers on). Futures (the original type
`ot` when given, else `o`): LIMIT, MARKET, STOP -> STOP_LIMIT (a futures STOP has a limit price),
STOP_MARKET -> STOP, TAKE_PROFIT -> STOP_LIMIT, TAKE_PROFIT_MARKET -> STOP, TRAILING_STOP_MARKET -> STOP
triggered at its activation price `AP` (the trailing distance is not kept), LIQUIDATION -> MARKET. Time in
force GTC, IOC, FOK; futures also GTX -> GTC post-only and GTD (expiring at `gtd`). `R` is reduce-only.
A price or stop price of 0 means "none". Futures hedge-mode orders (ps LONG/SHORT) are translated; the ledger
nets them into one position per symbol.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.translate.base import UNSET, UNSTAMPED, Untranslatable
from adapters.translate.binance.messages import ZERO, _dec, _int, _label, _opt_text, _positive
from kernel import events as ev
from kernel.schema.order_spec import OrderSide, OrderType, TimeInForce

SIDES = {"BUY": OrderSide.BUY, "SELL": OrderSide.SELL}
# Binance order type -> (ledger order type, post-only)
SPOT_ORDER_TYPES = {
    "LIMIT": (OrderType.LIMIT, False),
    "MARKET": (OrderType.MARKET, False),
    "STOP_LOSS": (OrderType.STOP, False),
    "STOP_LOSS_LIMIT": (OrderType.STOP_LIMIT, False),
    "TAKE_PROFIT": (OrderType.STOP, False),
    "TAKE_PROFIT_LIMIT": (OrderType.STOP_LIMIT, False),
    "LIMIT_MAKER": (OrderType.LIMIT, True),
}
FUTURES_ORDER_TYPES = {
    "LIMIT": (OrderType.LIMIT, False),
    "MARKET": (OrderType.MARKET, False),
    "STOP": (OrderType.STOP_LIMIT, False),
    "STOP_MARKET": (OrderType.STOP, False),
    "TAKE_PROFIT": (OrderType.STOP_LIMIT, False),
    "TAKE_PROFIT_MARKET": (OrderType.STOP, False),
    "TRAILING_STOP_MARKET": (OrderType.STOP, False),
    "LIQUIDATION": (OrderType.MARKET, False),
}
# Binance time in force -> (ledger time in force, post-only)
SPOT_TIME_IN_FORCE = {"GTC": (TimeInForce.GTC, False), "IOC": (TimeInForce.IOC, False),
                      "FOK": (TimeInForce.FOK, False)}  # fmt: skip
FUTURES_TIME_IN_FORCE = {**SPOT_TIME_IN_FORCE, "GTX": (TimeInForce.GTC, True), "GTD": (TimeInForce.GTD, False)}
SPOT_EXECUTION_TYPES = frozenset({"NEW", "CANCELED", "REPLACED", "REJECTED", "TRADE", "EXPIRED", "TRADE_PREVENTION"})
FUTURES_EXECUTION_TYPES = frozenset({"NEW", "CANCELED", "CALCULATED", "EXPIRED", "TRADE", "AMENDMENT"})
ORDER_STATUSES = frozenset({"NEW", "PENDING_NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL",
                            "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"})  # fmt: skip
_ENDED = frozenset({"EXPIRED", "EXPIRED_IN_MATCH", "FILLED", "CANCELED", "REJECTED"})

_PRICED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
_STOPS = (OrderType.STOP, OrderType.STOP_LIMIT)


def _spec(symbol: str, side: OrderSide, kind: OrderType, post_only: bool, tif: TimeInForce, quantity: Decimal,
          price: Decimal, stop: Decimal, reduce_only: bool = False, expire_at: int | None = None,
          ) -> ev.OrderSpec | None:  # fmt: skip
    """The order as the message describes it, or None when that is not a valid order (the same rules as
    `StandardOrder`): a price or stop price of 0 means none."""
    if quantity <= 0:
        return None
    if kind in _PRICED:
        if price <= 0:
            return None
    else:
        price = None  # type: ignore[assignment]
    if kind in _STOPS:
        if stop <= 0:
            return None
    else:
        stop = None  # type: ignore[assignment]
    if tif is TimeInForce.GTD and expire_at is None:
        return None
    if post_only and kind is OrderType.MARKET:
        return None
    return ev.OrderSpec(symbol=symbol, side=side, order_type=kind, quantity=quantity, price=price,
                        stop_price=stop, time_in_force=tif, reduce_only=reduce_only, post_only=post_only,
                        expire_at=expire_at if tif is TimeInForce.GTD else None)  # fmt: skip


def _order_id(obj: dict[str, Any], *, required: bool = True) -> str:
    order_id = _int(obj, "i")
    if order_id < 0:
        if required:
            raise Untranslatable(f"{_label('i')} is not a valid order id: {order_id}")
        return ""
    return str(order_id)


def _fill(o: dict[str, Any], ts: int, trade_id: str) -> ev.OrderFilled:
    fee = _dec(o, "n") if "n" in o else ZERO
    fee_asset = _opt_text(o, "N") or None
    if fee and fee_asset is None:
        raise Untranslatable(f"{_label('n')} is {fee} but {_label('N')} is not given")
    maker = o.get("m")
    liquidity = None if type(maker) is not bool else ev.Liquidity.MAKER if maker else ev.Liquidity.TAKER
    return ev.OrderFilled(account_id=UNSET, intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED, trade_id=trade_id,
                          quantity=_positive(o, "l"), price=_positive(o, "L"), fee=fee, fee_asset=fee_asset,
                          liquidity=liquidity)  # fmt: skip


def _amend(o: dict[str, Any], ts: int, exec_id: str, quantity: Decimal, price: Decimal) -> ev.AmendAccepted:
    if quantity <= 0:
        raise Untranslatable(f"an amended quantity must be > 0, got {quantity}")
    return ev.AmendAccepted(account_id=UNSET, intent_id=UNSET, ts_event=ts, ts_recorded=UNSTAMPED,
                            quantity=quantity, price=price if price > 0 else None, exec_id=exec_id)  # fmt: skip
