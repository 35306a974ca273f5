"""The event catalogue: every fact the ledger records, one frozen msgspec Struct per fact.

Names are facts in the past tense. Each event's `type` tag is its stable name: it is what the store
keeps (topic `Name.vN`), so moving or renaming a module never orphans history. A class's `version`
goes up when its fields change; `UPCASTERS[(name, from_version)]` turns a stored payload of the old
shape into the next one, so old events keep decoding.

Every event carries `ts_event` (when it happened at the source) and `ts_recorded` (when the ledger
recorded it), both integer nanoseconds since the Unix epoch, UTC. Quantities, prices and amounts are
`Decimal` and travel as decimal strings.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Union

import msgspec

from kernel.schema.order_spec import (
    AssetType,
    OrderSide,
    OrderType,
    StandardOrder,
    TimeInForce,
)

# ---------------------------------------------------------------------------
# Value objects carried inside events
# ---------------------------------------------------------------------------


class OrderSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """The stored form of a validated `StandardOrder` (same field names)."""

    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False
    expire_at: int | None = None

    @classmethod
    def from_standard(cls, order: StandardOrder) -> OrderSpec:
        return msgspec.convert(order.model_dump(), cls)

    def to_standard(self) -> StandardOrder:
        return StandardOrder.model_validate(msgspec.to_builtins(self, builtin_types=(Decimal,)))


class AccountType(StrEnum):
    SPOT = "SPOT"
    MARGIN = "MARGIN"
    FUTURES = "FUTURES"


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class ReportKind(StrEnum):
    """What an `ExecutionReported` is: the execution types that change nothing the ledger keeps."""

    PENDING_NEW = "PENDING_NEW"
    PENDING_CANCEL = "PENDING_CANCEL"
    PENDING_REPLACE = "PENDING_REPLACE"
    DONE_FOR_DAY = "DONE_FOR_DAY"
    STOPPED = "STOPPED"
    SUSPENDED = "SUSPENDED"
    RESTATED = "RESTATED"
    CALCULATED = "CALCULATED"
    ORDER_STATUS = "ORDER_STATUS"
    TRADE_CORRECT = "TRADE_CORRECT"  # flags the order: a recorded fill is never rewritten
    TRADE_CANCEL = "TRADE_CANCEL"  # likewise (a trade bust)


class AdjustmentReason(StrEnum):
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    TRANSFER = "TRANSFER"
    FUNDING = "FUNDING"
    INTEREST = "INTEREST"
    REBATE = "REBATE"
    CORRECTION = "CORRECTION"


class InstrumentSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """The stored form of the seed's `AssetMetadata`, plus the base and quote a pair trades."""

    asset_id: str
    symbol: str
    asset_type: AssetType
    name: str
    base_asset: str | None = None
    quote_asset: str | None = None
    contract_size: Decimal | None = None
    settlement_asset: str | None = None
    expiry_timestamp: int | None = None
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    initial_margin_rate: Decimal | None = None
    maintenance_margin_rate: Decimal | None = None
    metadata: dict[str, Any] = {}


class ReportedBalance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    asset_id: str
    total: Decimal
    locked: Decimal = Decimal(0)


class ReportedPosition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A position as the exchange reports it: signed quantity (short < 0), its entry price if given."""

    symbol_id: str
    quantity: Decimal
    entry_price: Decimal | None = None


# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True, gc=False):
    """Base of every fact. `ts_event` and `ts_recorded` are ns since the Unix epoch, UTC. Events hold no
    reference cycles (values only), so the cyclic garbage collector need not track them (`gc=False`): a
    replay holds a page of them at a time."""

    version: ClassVar[int] = 1
    ts_event: int
    ts_recorded: int


class OrderEvent(Event, frozen=True, kw_only=True):
    """A fact on one order stream: one stream per (account_id, intent_id)."""

    account_id: str
    intent_id: str


class AccountEvent(Event, frozen=True, kw_only=True):
    account_id: str


# --- intent changes (requests from the strategy; refused when they break a rule) ---------------


class IntentPlaced(OrderEvent, frozen=True, kw_only=True, tag="IntentPlaced"):
    order: OrderSpec
    group_id: str | None = None
    metadata: dict[str, Any] = {}


class IntentAmended(OrderEvent, frozen=True, kw_only=True, tag="IntentAmended"):
    order: OrderSpec


class IntentCanceled(OrderEvent, frozen=True, kw_only=True, tag="IntentCanceled"):
    reason: str = ""


# --- the exchange kernel's own actions ------------------------------------------------------------


class SubmissionStarted(OrderEvent, frozen=True, kw_only=True, tag="SubmissionStarted"):
    client_order_id: str


class SubmissionFailed(OrderEvent, frozen=True, kw_only=True, tag="SubmissionFailed"):
    error: str


# --- exchange facts (never refused; contradictions are flagged) ---------------------------------


class OrderAccepted(OrderEvent, frozen=True, kw_only=True, tag="OrderAccepted"):
    exchange_order_id: str
    exec_id: str = ""


class OrderRejected(OrderEvent, frozen=True, kw_only=True, tag="OrderRejected"):
    reason: str
    exchange_order_id: str = ""
    exec_id: str = ""


class AmendAccepted(OrderEvent, frozen=True, kw_only=True, tag="AmendAccepted"):
    quantity: Decimal
    price: Decimal | None = None
    exec_id: str = ""


class AmendRejected(OrderEvent, frozen=True, kw_only=True, tag="AmendRejected"):
    reason: str
    exec_id: str = ""


class CancelAccepted(OrderEvent, frozen=True, kw_only=True, tag="CancelAccepted"):
    exec_id: str = ""


class CancelRejected(OrderEvent, frozen=True, kw_only=True, tag="CancelRejected"):
    reason: str
    exec_id: str = ""


class OrderExpired(OrderEvent, frozen=True, kw_only=True, tag="OrderExpired"):
    exec_id: str = ""


class OrderFilled(OrderEvent, frozen=True, kw_only=True, tag="OrderFilled"):
    trade_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal = Decimal(0)
    fee_asset: str | None = None
    liquidity: Liquidity | None = None


class ExecutionReported(OrderEvent, frozen=True, kw_only=True, tag="ExecutionReported"):
    """An execution report that changes no quantity or status the ledger keeps, kept because it is a fact:
    a pending acknowledgement, a restatement, an order-status answer, or a trade correction or cancel
    (those flag the order: the ledger never rewrites a recorded fill). `ref_exec_id` is the execution a
    correction or cancel refers to."""

    exec_type: ReportKind
    exec_id: str = ""
    ord_status: str = ""
    ref_exec_id: str = ""
    text: str = ""


class ExternalOrderDiscovered(OrderEvent, frozen=True, kw_only=True, tag="ExternalOrderDiscovered"):
    """An order the exchange reports and no intent created; its intent id derives from the exchange's."""

    exchange_order_id: str
    order: OrderSpec


# --- account stream ------------------------------------------------------------------------------


class AccountOpened(AccountEvent, frozen=True, kw_only=True, tag="AccountOpened"):
    exchange: str
    account_type: AccountType
    base_currency: str


class AssetRegistered(AccountEvent, frozen=True, kw_only=True, tag="AssetRegistered"):
    asset: InstrumentSpec


class BalanceAdjusted(AccountEvent, frozen=True, kw_only=True, tag="BalanceAdjusted"):
    asset_id: str
    amount: Decimal
    reason: AdjustmentReason
    reference: str = ""


class MarkPriceRecorded(AccountEvent, frozen=True, kw_only=True, tag="MarkPriceRecorded"):
    symbol_id: str
    price: Decimal


class LeverageSet(AccountEvent, frozen=True, kw_only=True, tag="LeverageSet"):
    """`reference` (v2) makes an exchange's report of a leverage change record once, like a cash move's."""

    version: ClassVar[int] = 2
    symbol_id: str
    leverage: Decimal
    reference: str = ""


class ExchangeBalancesReported(AccountEvent, frozen=True, kw_only=True, tag="ExchangeBalancesReported"):
    """What the exchange says the balances are (for reconciliation); only the assets it lists.
    `report_id` makes a redelivered report record once (v2 added it)."""

    version: ClassVar[int] = 2
    balances: tuple[ReportedBalance, ...]
    report_id: str = ""


class ExchangePositionsReported(AccountEvent, frozen=True, kw_only=True, tag="ExchangePositionsReported"):
    """What the exchange says the positions are (for reconciliation); only the symbols it lists."""

    positions: tuple[ReportedPosition, ...]
    report_id: str = ""


ORDER_EVENTS: tuple[type[OrderEvent], ...] = (
    IntentPlaced,
    IntentAmended,
    IntentCanceled,
    SubmissionStarted,
    SubmissionFailed,
    OrderAccepted,
    OrderRejected,
    AmendAccepted,
    AmendRejected,
    CancelAccepted,
    CancelRejected,
    OrderExpired,
    OrderFilled,
    ExecutionReported,
    ExternalOrderDiscovered,
)
ACCOUNT_EVENTS: tuple[type[AccountEvent], ...] = (
    AccountOpened,
    AssetRegistered,
    BalanceAdjusted,
    MarkPriceRecorded,
    LeverageSet,
    ExchangeBalancesReported,
    ExchangePositionsReported,
)
CATALOGUE: dict[str, type[Event]] = {
    cls.__struct_config__.tag: cls for cls in ORDER_EVENTS + ACCOUNT_EVENTS  # type: ignore[misc]
}
AnyEvent = Union[tuple(CATALOGUE.values())]  # noqa: UP007 - a runtime union for msgspec


def event_name(cls: type[Event]) -> str:
    return cls.__struct_config__.tag  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# Codec: one encoder, one decoder for the whole catalogue; versions and upcasting
# ---------------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("ExchangeBalancesReported", 1): lambda data: {**data, "report_id": ""},  # v1 had no report id
    ("LeverageSet", 1): lambda data: {**data, "reference": ""},  # v1 had no reference
}
"""(event name, stored version) -> function turning that payload into the next version's shape."""

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoder = msgspec.json.Decoder(AnyEvent)
_TOPICS: dict[type[Event], str] = {cls: f"{name}.v{cls.version}" for name, cls in CATALOGUE.items()}
_CLASS_OF_TOPIC = {topic: cls for cls, topic in _TOPICS.items()}


class UnknownEventError(ValueError):
    """A stored payload names an event type or version this code cannot read."""


def topic_of(event: Event) -> str:
    """The stored topic `Name.vN`: a stable name and the version of the payload's shape."""
    return _TOPICS[type(event)]


def topics_of(cls: type[Event]) -> tuple[str, ...]:
    """Every topic a stored event of this class may carry, `Name.v1` to its current version (older ones are
    upcast when read): what a reader filtering the log by topic asks for."""
    name = _TOPICS[cls].rpartition(".v")[0]
    return tuple(f"{name}.v{version}" for version in range(1, cls.version + 1))


def encode(event: Event) -> bytes:
    """Canonical JSON bytes: fields in declaration order, decimals as strings."""
    return _encoder.encode(event)


def decode(topic: str, payload: bytes) -> Event:
    """Decode a stored payload, upcasting an old version to the current shape."""
    expected = _CLASS_OF_TOPIC.get(topic)
    if expected is not None:
        event = _decoder.decode(payload)
        if type(event) is not expected:  # the row's topic and its payload disagree: refuse, never guess
            raise UnknownEventError(f"topic {topic!r} holds a {type(event).__name__} payload")
        return event
    name, _, version_text = topic.rpartition(".v")
    cls = CATALOGUE.get(name)
    if cls is None or not version_text.isdigit():
        raise UnknownEventError(f"unknown event topic {topic!r}")
    version = int(version_text)
    if version > cls.version:
        raise UnknownEventError(f"{topic!r} is newer than this code (knows v{cls.version})")
    data: dict[str, Any] = msgspec.json.decode(payload)
    while version < cls.version:
        upcast = UPCASTERS.get((name, version))
        if upcast is None:
            raise UnknownEventError(f"no upcaster from {name} v{version} to v{version + 1}")
        data = upcast(data)
        version += 1
    return msgspec.convert(data, AnyEvent, strict=False)


def to_builtins(event: Event) -> dict[str, Any]:
    """A JSON-ready dict (decimals as strings), e.g. for `--json` output."""
    return msgspec.to_builtins(event)
