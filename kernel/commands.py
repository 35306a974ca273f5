"""The ledger's commands: one plain method per fact in the catalogue, shared by `Ledger` (each call is
its own transaction) and `Batch` (many calls, one transaction).

Every method validates its input at the edge -- a bad number, a missing field -- and raises
`RequestRefused` naming the field; it then lets the aggregate decide what to record. It returns the
events recorded: an empty tuple means the fact was already recorded (a duplicate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import msgspec

from kernel import events as ev
from kernel.account import Account
from kernel.checks import check_order_spec, decimal_field, from_pydantic, ns_field, order_spec, text_field
from kernel.errors import RequestRefused
from kernel.exchange.models import AssetMetadata, OrderIntent
from kernel.lifecycle import REQUESTS
from kernel.order import Order
from kernel.schema.order_spec import StandardOrder
from kernel.streams import external_intent_id


class _Decider(Protocol):
    """What a decision runs against: the working state of a batch."""

    def _order(self, account_id: str, intent_id: str, *, expect_new: bool = False) -> Order: ...
    def _account(self, account_id: str) -> Account: ...
    def _record(self, decide: Decision) -> tuple[ev.Event, ...]: ...
    def _now(self) -> int: ...
    def _saw_stamp(self, ts_recorded: int) -> None: ...


Decision = Callable[[_Decider], list[ev.Event]]
"""Given working state, the events to record (re-run on fresh state after a conflict)."""


class Commands:
    """The public command surface. Subclasses provide loading, the clock and recording."""

    # ------------------------------------------------------------------ account stream
    def open_account(
        self: _Decider, account_id: str, *, exchange: str, account_type: ev.AccountType | str,
        base_currency: str, ts_event: int,
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        try:
            kind = ev.AccountType(account_type)
        except ValueError:
            raise RequestRefused("account_type", f"must be one of {', '.join(ev.AccountType)}") from None
        e = ev.AccountOpened(
            account_id=text_field("account_id", account_id), exchange=text_field("exchange", exchange),
            account_type=kind, base_currency=text_field("base_currency", base_currency),
            ts_event=ns_field("ts_event", ts_event), ts_recorded=self._now(),
        )  # fmt: skip
        return self._record(lambda d: d._account(account_id).decide(e))

    def register_asset(
        self: _Decider, account_id: str, asset: AssetMetadata | Mapping[str, Any], *, ts_event: int,
        base_asset: str | None = None, quote_asset: str | None = None,
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        meta: AssetMetadata = from_pydantic(AssetMetadata, asset, "asset.")
        spec = ev.InstrumentSpec(
            **{k: v for k, v in meta.model_dump().items()}, base_asset=base_asset, quote_asset=quote_asset
        )
        e = ev.AssetRegistered(account_id=account_id, asset=spec, ts_event=ns_field("ts_event", ts_event),
                               ts_recorded=self._now())  # fmt: skip
        return self._record(lambda d: d._account(account_id).decide(e))

    def adjust_balance(
        self: _Decider, account_id: str, *, asset_id: str, amount: Any, reason: ev.AdjustmentReason | str,
        ts_event: int, reference: str = "",
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        try:
            why = ev.AdjustmentReason(reason)
        except ValueError:
            raise RequestRefused("reason", f"must be one of {', '.join(ev.AdjustmentReason)}") from None
        e = ev.BalanceAdjusted(
            account_id=account_id, asset_id=text_field("asset_id", asset_id),
            amount=decimal_field("amount", amount), reason=why, reference=reference,
            ts_event=ns_field("ts_event", ts_event), ts_recorded=self._now(),
        )  # fmt: skip
        return self._record(lambda d: d._account(account_id).decide(e))

    def record_mark_price(self: _Decider, account_id: str, *, symbol_id: str, price: Any, ts_event: int):
        e = ev.MarkPriceRecorded(
            account_id=account_id, symbol_id=text_field("symbol_id", symbol_id),
            price=decimal_field("price", price, positive=True),
            ts_event=ns_field("ts_event", ts_event), ts_recorded=self._now(),
        )  # fmt: skip
        return self._record(lambda d: d._account(account_id).decide(e))

    def set_leverage(self: _Decider, account_id: str, *, symbol_id: str, leverage: Any, ts_event: int,
                     reference: str = ""):  # fmt: skip
        """A leverage setting; a `reference` seen before (an exchange report delivered again) records nothing."""
        e = ev.LeverageSet(
            account_id=account_id, symbol_id=text_field("symbol_id", symbol_id), reference=reference,
            leverage=decimal_field("leverage", leverage, positive=True),
            ts_event=ns_field("ts_event", ts_event), ts_recorded=self._now(),
        )  # fmt: skip
        return self._record(lambda d: d._account(account_id).decide(e))

    def report_exchange_balances(
        self: _Decider, account_id: str, *, balances: Iterable[Mapping[str, Any]], ts_event: int,
        report_id: str = "",
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        """What the exchange says the balances are; a `report_id` seen before records nothing."""
        reported = tuple(
            ev.ReportedBalance(
                asset_id=text_field(f"balances[{i}].asset_id", b.get("asset_id")),
                total=decimal_field(f"balances[{i}].total", b.get("total")),
                locked=decimal_field(f"balances[{i}].locked", b.get("locked", 0), non_negative=True),
            )
            for i, b in enumerate(balances)
        )
        e = ev.ExchangeBalancesReported(account_id=account_id, balances=reported, report_id=report_id,
                                        ts_event=ns_field("ts_event", ts_event), ts_recorded=self._now())
        return self._record(lambda d: d._account(account_id).decide(e))

    def report_exchange_positions(
        self: _Decider, account_id: str, *, positions: Iterable[Mapping[str, Any]], ts_event: int,
        report_id: str = "",
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        """What the exchange says the positions are (signed quantities); symbols must be registered."""
        reported = tuple(
            ev.ReportedPosition(
                symbol_id=text_field(f"positions[{i}].symbol_id", p.get("symbol_id")),
                quantity=decimal_field(f"positions[{i}].quantity", p.get("quantity")),
                entry_price=None if p.get("entry_price") is None
                else decimal_field(f"positions[{i}].entry_price", p["entry_price"], non_negative=True),
            )
            for i, p in enumerate(positions)
        )  # fmt: skip
        e = ev.ExchangePositionsReported(account_id=account_id, positions=reported, report_id=report_id,
                                         ts_event=ns_field("ts_event", ts_event), ts_recorded=self._now())
        return self._record(lambda d: d._account(account_id).decide(e))

    # ------------------------------------------------------------------ intents (requests)
    def place_intent(self: _Decider, account_id: str, intent: OrderIntent | Mapping[str, Any]):
        checked: OrderIntent = from_pydantic(OrderIntent, intent)
        text_field("intent_id", checked.intent_id)
        spec = order_spec(checked.order)
        e = ev.IntentPlaced(
            account_id=account_id, intent_id=checked.intent_id, order=spec, group_id=checked.group_id,
            metadata=checked.metadata, ts_event=checked.created_at, ts_recorded=self._now(),
        )  # fmt: skip

        def decide(d: _Decider) -> list[ev.Event]:
            d._account(account_id).instrument(spec.symbol)
            order = d._order(account_id, checked.intent_id, expect_new=True)
            if order.exists:
                raise RequestRefused("intent_id", f"intent {checked.intent_id!r} already exists")
            return [e]

        return self._record(decide)

    def amend_intent(self: _Decider, account_id: str, intent_id: str, *, order: StandardOrder | Mapping,
                     ts_event: int):  # fmt: skip
        spec = order_spec(from_pydantic(StandardOrder, order, "order."))
        return _request(self, ev.IntentAmended, account_id, intent_id, ts_event, order=spec)

    def cancel_intent(self: _Decider, account_id: str, intent_id: str, *, ts_event: int, reason: str = ""):
        return _request(self, ev.IntentCanceled, account_id, intent_id, ts_event, reason=reason)

    def start_submission(self: _Decider, account_id: str, intent_id: str, *, client_order_id: str,
                         ts_event: int):  # fmt: skip
        text_field("client_order_id", client_order_id)
        return _request(self, ev.SubmissionStarted, account_id, intent_id, ts_event,
                        client_order_id=client_order_id)  # fmt: skip

    def fail_submission(self: _Decider, account_id: str, intent_id: str, *, error: str, ts_event: int):
        return _request(self, ev.SubmissionFailed, account_id, intent_id, ts_event, error=error)

    # ------------------------------------------------------------------ exchange facts
    def record_accepted(self: _Decider, account_id: str, intent_id: str, *, exchange_order_id: str,
                        ts_event: int, exec_id: str = ""):  # fmt: skip
        text_field("exchange_order_id", exchange_order_id)
        return _fact(self, ev.OrderAccepted, account_id, intent_id, ts_event,
                     exchange_order_id=exchange_order_id, exec_id=exec_id)  # fmt: skip

    def record_rejected(self: _Decider, account_id: str, intent_id: str, *, reason: str, ts_event: int,
                        exchange_order_id: str = "", exec_id: str = ""):  # fmt: skip
        return _fact(self, ev.OrderRejected, account_id, intent_id, ts_event, reason=reason,
                     exchange_order_id=exchange_order_id, exec_id=exec_id)  # fmt: skip

    def record_amend_accepted(self: _Decider, account_id: str, intent_id: str, *, quantity: Any,
                              ts_event: int, price: Any = None, exec_id: str = ""):  # fmt: skip
        return _fact(self, ev.AmendAccepted, account_id, intent_id, ts_event,
                     quantity=decimal_field("quantity", quantity, positive=True),
                     price=None if price is None else decimal_field("price", price, positive=True),
                     exec_id=exec_id)  # fmt: skip

    def record_amend_rejected(self: _Decider, account_id: str, intent_id: str, *, reason: str,
                              ts_event: int, exec_id: str = ""):  # fmt: skip
        return _fact(self, ev.AmendRejected, account_id, intent_id, ts_event, reason=reason, exec_id=exec_id)

    def record_cancel_accepted(self: _Decider, account_id: str, intent_id: str, *, ts_event: int,
                               exec_id: str = ""):  # fmt: skip
        return _fact(self, ev.CancelAccepted, account_id, intent_id, ts_event, exec_id=exec_id)

    def record_cancel_rejected(self: _Decider, account_id: str, intent_id: str, *, reason: str,
                               ts_event: int, exec_id: str = ""):  # fmt: skip
        return _fact(self, ev.CancelRejected, account_id, intent_id, ts_event, reason=reason, exec_id=exec_id)

    def record_expired(self: _Decider, account_id: str, intent_id: str, *, ts_event: int, exec_id: str = ""):
        return _fact(self, ev.OrderExpired, account_id, intent_id, ts_event, exec_id=exec_id)

    def record_fill(
        self: _Decider, account_id: str, intent_id: str | None, *, trade_id: str, quantity: Any, price: Any,
        ts_event: int, fee: Any = 0, fee_asset: str | None = None, liquidity: ev.Liquidity | str | None = None,
        exchange_order_id: str = "", order: StandardOrder | Mapping[str, Any] | None = None,
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        """A fill. `intent_id=None` (or an intent the ledger never saw) with `exchange_order_id` and the
        order's spec records `ExternalOrderDiscovered` first: a fill is a fact and is never dropped."""
        text_field("trade_id", trade_id)
        try:
            liq = None if liquidity is None else ev.Liquidity(liquidity)
        except ValueError:
            raise RequestRefused("liquidity", f"must be one of {', '.join(ev.Liquidity)}") from None
        fields = dict(
            trade_id=trade_id, quantity=decimal_field("quantity", quantity, positive=True),
            price=decimal_field("price", price, positive=True), fee=decimal_field("fee", fee),
            fee_asset=fee_asset, liquidity=liq,
        )  # fmt: skip
        if fields["fee"] and not fee_asset:
            raise RequestRefused("fee_asset", "required when a fee is charged")
        if intent_id is None:
            if not exchange_order_id:
                raise RequestRefused("exchange_order_id", "required for a fill of an order no intent created")
            intent_id = external_intent_id(exchange_order_id)
        spec = None if order is None else order_spec(from_pydantic(StandardOrder, order, "order."))
        ts = ns_field("ts_event", ts_event)
        now = self._now()
        fill = ev.OrderFilled(account_id=account_id, intent_id=intent_id, ts_event=ts, ts_recorded=now, **fields)

        unknown = "give exchange_order_id and order to record it as an external order"
        return self._record(lambda d: _fact_or_discovery(d, fill, exchange_order_id, spec, unknown=unknown))

    def record_exchange_fact(
        self: _Decider, event: ev.OrderEvent, *, exchange_order_id: str = "", order: ev.OrderSpec | None = None,
        expect_new: bool = False, if_changed: bool = False, **names: str,
    ) -> tuple[ev.Event, ...]:  # fmt: skip
        """An exchange fact already in the ledger's form (a translator's output), checked like the command
        that would make it and stamped now. When its order stream does not exist and the message described
        the order (`exchange_order_id` and `order`), `ExternalOrderDiscovered` is recorded first: what an
        exchange reports is never dropped. `expect_new`: the caller knows the stream is empty (no read).
        `if_changed`: an `AmendAccepted` read off an order snapshot (`Order.decide_if_changed`).
        `names` (account_id, intent_id) are set on the event with its stamp (one copy, not two)."""
        numbers = _FACT_NUMBERS.get(type(event))
        if numbers is None:
            raise TypeError(f"{type(event).__name__} is not an exchange fact")
        if if_changed and not isinstance(event, ev.AmendAccepted):
            raise TypeError(f"if_changed is for an AmendAccepted, not {type(event).__name__}")
        for name, positive in numbers:
            value = getattr(event, name)
            if value is not None:
                decimal_field(name, value, positive=positive)
        if order is not None:  # checked like a placed order's; the spec is already in its stored form
            check_order_spec(order)
        ns_field("ts_event", event.ts_event)
        e = msgspec.structs.replace(event, ts_recorded=self._now(), **names)
        return self._record(lambda d: _fact_or_discovery(
            d, e, exchange_order_id, order, expect_new=expect_new, if_changed=if_changed,
            unknown="the message does not describe the order"))

    # ------------------------------------------------------------------ an event as it stands
    def record_event(self: _Decider, event: ev.Event) -> tuple[ev.Event, ...]:
        """Record an event already in the ledger's own format (e.g. another store's export), keeping its
        timestamps. It is decided like the command that made it: facts already recorded are recognised
        and not recorded again, requests that break a rule here are refused. Later stamps of this Ledger
        never go below the event's `ts_recorded`."""
        self._saw_stamp(event.ts_recorded)
        if isinstance(event, ev.AccountEvent):
            return self._record(lambda d: d._account(event.account_id).decide(event))
        assert isinstance(event, ev.OrderEvent), type(event)
        account_id, intent_id = event.account_id, event.intent_id

        def decide(d: _Decider) -> list[ev.Event]:
            order = d._order(account_id, intent_id)
            if isinstance(event, ev.IntentPlaced | ev.ExternalOrderDiscovered):
                if order.exists:
                    raise RequestRefused("intent_id", f"intent {intent_id!r} already exists")
                d._account(account_id).instrument(event.order.symbol)
                return [event]
            if type(event).__name__ in REQUESTS:
                return order.decide_request(event)  # type: ignore[return-value]
            d._account(account_id).require_open()
            return order.decide_fact(event)  # type: ignore[return-value]

        return self._record(decide)


# Each exchange fact's numbers, and whether they must be > 0, checked as the commands check them.
_FACT_NUMBERS: dict[type[ev.OrderEvent], tuple[tuple[str, bool], ...]] = {
    cls: tuple((name, name != "fee") for name in ("quantity", "price", "fee") if name in cls.__struct_fields__)
    for cls in ev.ORDER_EVENTS if cls.__name__ not in REQUESTS
    and cls not in (ev.IntentPlaced, ev.ExternalOrderDiscovered)
}  # fmt: skip


def _fact_or_discovery(d: _Decider, e: ev.OrderEvent, exchange_order_id: str, order: ev.OrderSpec | None, *,
                       unknown: str, expect_new: bool = False,
                       if_changed: bool = False) -> list[ev.Event]:  # fmt: skip
    """An exchange fact for its order; when the order's stream does not exist and the fact came with the
    exchange's order id and the order's spec, `ExternalOrderDiscovered` first (a fact is never dropped)."""
    account_id, intent_id = e.account_id, e.intent_id
    target = d._order(account_id, intent_id, expect_new=expect_new)
    decide = Order.decide_if_changed if if_changed else Order.decide_fact  # a snapshot's terms, or a fact
    if target.exists:
        return decide(target, e)  # type: ignore[arg-type,return-value]
    if order is None or not exchange_order_id:
        raise RequestRefused("intent_id", f"unknown intent {intent_id!r}: {unknown}")
    d._account(account_id).instrument(order.symbol)
    found = ev.ExternalOrderDiscovered(
        account_id=account_id, intent_id=intent_id, exchange_order_id=exchange_order_id, order=order,
        ts_event=e.ts_event, ts_recorded=e.ts_recorded,
    )  # fmt: skip
    probe = Order(account_id, intent_id)
    probe.apply(found)
    return [found, *decide(probe, e)]  # type: ignore[arg-type]


def _request(ledger: _Decider, cls: type[ev.OrderEvent], account_id: str, intent_id: str, ts_event: int,
             **fields: Any) -> tuple[ev.Event, ...]:  # fmt: skip
    e = cls(account_id=account_id, intent_id=intent_id, ts_event=ns_field("ts_event", ts_event),
            ts_recorded=ledger._now(), **fields)  # fmt: skip
    return ledger._record(lambda d: d._order(account_id, intent_id).decide_request(e))  # type: ignore[arg-type,return-value]


def _fact(ledger: _Decider, cls: type[ev.OrderEvent], account_id: str, intent_id: str, ts_event: int,
          **fields: Any) -> tuple[ev.Event, ...]:  # fmt: skip
    e = cls(account_id=account_id, intent_id=intent_id, ts_event=ns_field("ts_event", ts_event),
            ts_recorded=ledger._now(), **fields)  # fmt: skip

    def decide(d: _Decider) -> list[ev.Event]:
        d._account(account_id).require_open()
        return d._order(account_id, intent_id).decide_fact(e)  # type: ignore[return-value]

    return ledger._record(decide)
