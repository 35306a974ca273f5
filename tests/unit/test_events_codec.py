"""The event codec: every catalogue event round-trips exactly, topics name `Name.vN`, decimals travel as
strings, old versions upcast, unknown topics are refused; and the seed models' exact scalar types."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from kernel import events as ev
from kernel.exchange.models import AssetMetadata, Balance, OrderState
from kernel.schema.order_spec import UINT64_MAX, Float, Uint64

TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def strategy_for(info: mi.Type) -> st.SearchStrategy[Any]:
    """A hypothesis strategy for a field of the catalogue, from msgspec's description of its type, so
    that a new event or field is covered without touching this test."""
    if isinstance(info, mi.StrType):
        return TEXT
    if isinstance(info, mi.IntType):
        return st.integers(0, UINT64_MAX)  # every int in the catalogue is a Uint64 time
    if isinstance(info, mi.BoolType):
        return st.booleans()
    if isinstance(info, mi.DecimalType):
        return st.decimals(allow_nan=False, allow_infinity=False)
    if isinstance(info, mi.EnumType):
        return st.sampled_from(list(info.cls))
    if isinstance(info, mi.UnionType):
        return st.one_of([strategy_for(t) for t in info.types])
    if isinstance(info, mi.NoneType):
        return st.none()
    if isinstance(info, mi.VarTupleType):
        return st.lists(strategy_for(info.item_type), max_size=3).map(tuple)
    if isinstance(info, mi.DictType):
        return st.dictionaries(TEXT, JSON_VALUES, max_size=3)
    if isinstance(info, mi.StructType):
        fields = {f.name: strategy_for(f.type) for f in info.fields}
        return st.fixed_dictionaries(fields).map(lambda kw: info.cls(**kw))
    raise AssertionError(f"no strategy for {info!r}: extend strategy_for")


EVENT_STRATEGIES = {name: strategy_for(mi.type_info(cls)) for name, cls in ev.CATALOGUE.items()}
any_event = st.sampled_from(sorted(EVENT_STRATEGIES)).flatmap(EVENT_STRATEGIES.__getitem__)


def decimal_paths(info: mi.Type, value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, JSON value) of every Decimal field in an encoded struct."""
    if isinstance(info, mi.StructType):
        return [p for f in info.fields for p in decimal_paths(f.type, value[f.encode_name], f"{path}.{f.name}")]
    if isinstance(info, mi.VarTupleType):
        return [p for i, item in enumerate(value) for p in decimal_paths(info.item_type, item, f"{path}[{i}]")]
    if isinstance(info, mi.UnionType) and value is not None:
        return [p for t in info.types if not isinstance(t, mi.NoneType) for p in decimal_paths(t, value, path)]
    return [(path, value)] if isinstance(info, mi.DecimalType) else []


def test_every_catalogue_event_has_a_strategy():
    assert set(EVENT_STRATEGIES) == {ev.event_name(cls) for cls in ev.ORDER_EVENTS + ev.ACCOUNT_EVENTS}


@pytest.mark.parametrize("name", sorted(ev.CATALOGUE))
@given(data=st.data())
def test_round_trip_is_exact(name: str, data: st.DataObject):
    event = data.draw(EVENT_STRATEGIES[name])
    payload = ev.encode(event)
    decoded = ev.decode(ev.topic_of(event), payload)
    assert type(decoded) is type(event) and decoded == event
    assert ev.encode(decoded) == payload, "byte-exact: decimals keep their digits and exponent"


@given(any_event)
def test_topic_names_the_event_and_its_version(event: ev.Event):
    name = ev.event_name(type(event))
    assert ev.topic_of(event) == f"{name}.v{type(event).version}"
    assert json.loads(ev.encode(event))["type"] == name


@given(any_event)
def test_decimals_are_strings_in_the_json(event: ev.Event):
    encoded = json.loads(ev.encode(event))
    for path, value in decimal_paths(mi.type_info(type(event)), encoded):
        assert value is None or isinstance(value, str), path
    for path, value in decimal_paths(mi.type_info(type(event)), ev.to_builtins(event)):
        assert value is None or isinstance(value, str), path


def test_decimal_strings_are_exact_and_keep_their_scale():
    fill = ev.OrderFilled(ts_event=1, ts_recorded=2, account_id="A", intent_id="i", trade_id="t",
                          quantity=Decimal("0.10"), price=Decimal("1E+3"), fee=Decimal("-0.000001"))  # fmt: skip
    encoded = json.loads(ev.encode(fill))
    assert (encoded["quantity"], encoded["price"], encoded["fee"]) == ("0.10", "1E+3", "-0.000001")
    decoded = ev.decode("OrderFilled.v1", ev.encode(fill))
    assert str(decoded.quantity) == "0.10" and decoded.quantity + Decimal("0.2") == Decimal("0.3")


def test_encoding_is_canonical_field_order():
    e = ev.CancelAccepted(ts_event=1, ts_recorded=2, account_id="A", intent_id="i")
    assert ev.encode(e) == b'{"type":"CancelAccepted","ts_event":1,"ts_recorded":2,"account_id":"A",' \
                           b'"intent_id":"i","exec_id":""}'  # fmt: skip


# ------------------------------------------------------------------------------ versions
def test_an_old_version_is_upcast(monkeypatch: pytest.MonkeyPatch):
    """OrderFilled v0 called the quantity `qty` and had no fee: an upcaster makes it a v1 payload."""

    def v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["quantity"] = data.pop("qty")
        data.setdefault("fee", "0")
        return data

    monkeypatch.setitem(ev.UPCASTERS, ("OrderFilled", 0), v0_to_v1)
    old = b'{"type":"OrderFilled","ts_event":5,"ts_recorded":6,"account_id":"A","intent_id":"i",' \
          b'"trade_id":"t1","qty":"0.1","price":"100"}'  # fmt: skip
    decoded = ev.decode("OrderFilled.v0", old)
    assert decoded == ev.OrderFilled(ts_event=5, ts_recorded=6, account_id="A", intent_id="i", trade_id="t1",
                                     quantity=Decimal("0.1"), price=Decimal(100))  # fmt: skip
    assert isinstance(decoded.quantity, Decimal)


def test_upcasting_walks_every_version_in_turn(monkeypatch: pytest.MonkeyPatch):
    """Pretend IntentCanceled is at v3: a stored v1 goes through v1->v2 and v2->v3."""
    cls = ev.IntentCanceled
    monkeypatch.setattr(cls, "version", 3)
    monkeypatch.setitem(ev._TOPICS, cls, "IntentCanceled.v3")
    monkeypatch.setattr(ev, "_CLASS_OF_TOPIC", {t: c for c, t in ev._TOPICS.items()})
    steps: list[str] = []

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        steps.append("v1->v2")
        return {**{k: v for k, v in data.items() if k != "why"}, "reason_text": data["why"]}

    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        steps.append("v2->v3")
        return {**{k: v for k, v in data.items() if k != "reason_text"}, "reason": data["reason_text"].upper()}

    monkeypatch.setitem(ev.UPCASTERS, ("IntentCanceled", 1), v1_to_v2)
    monkeypatch.setitem(ev.UPCASTERS, ("IntentCanceled", 2), v2_to_v3)
    stored = b'{"type":"IntentCanceled","ts_event":1,"ts_recorded":2,"account_id":"A","intent_id":"i",' \
             b'"why":"risk"}'
    decoded = ev.decode("IntentCanceled.v1", stored)
    assert steps == ["v1->v2", "v2->v3"]
    assert decoded == cls(ts_event=1, ts_recorded=2, account_id="A", intent_id="i", reason="RISK")
    current = cls(ts_event=1, ts_recorded=2, account_id="A", intent_id="i", reason="x")
    assert ev.topic_of(current) == "IntentCanceled.v3"
    assert ev.decode("IntentCanceled.v3", ev.encode(current)) == current and steps == ["v1->v2", "v2->v3"]


def test_a_missing_upcaster_is_an_unknown_event(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ev.UnknownEventError, match="no upcaster from OrderFilled v0"):
        ev.decode("OrderFilled.v0", b'{"type":"OrderFilled"}')


@pytest.mark.parametrize(
    "topic", ["Nope.v1", "OrderFilled", "OrderFilled.vx", "OrderFilled.v2", "orderfilled.v1", "", ".v1",
              "kernel.events:OrderFilled"],
)  # fmt: skip
def test_unknown_topic_is_refused(topic: str):
    with pytest.raises(ev.UnknownEventError):
        ev.decode(topic, b'{"type":"OrderFilled"}')


def test_a_payload_that_does_not_fit_the_catalogue_is_refused():
    with pytest.raises(msgspec.ValidationError):
        ev.decode("CancelAccepted.v1", b'{"type":"CancelAccepted","ts_event":1,"ts_recorded":2,"account_id":"A",'
                                       b'"intent_id":"i","surprise":1}')  # fmt: skip


# ------------------------------------------------------------------------------ seed scalar types
class Numbers(BaseModel):
    value: Float
    maybe: Float | None = None
    at: Uint64 = 0


NOT_FINITE_NUMBERS = ["NaN", "nan", "sNaN", "Infinity", "-inf", float("nan"), float("inf"), float("-inf"),
                      Decimal("NaN"), Decimal("Infinity"), True, "abc", [1], None]  # fmt: skip


@pytest.mark.parametrize("bad", NOT_FINITE_NUMBERS)
def test_float_refuses_non_finite_and_non_numbers(bad: object):
    with pytest.raises(ValidationError):
        Numbers(value=bad)


@pytest.mark.parametrize("bad", ["NaN", float("inf")])
def test_float_refuses_non_finite_in_optional_fields(bad: object):
    with pytest.raises(ValidationError):
        Numbers(value=1, maybe=bad)


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [(0.1, "0.1"), ("0.1", "0.1"), (Decimal("0.10"), "0.10"), (1, "1"), (" 2.50 ", "2.50"), (1e-7, "1E-7"),
     ("123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789")],
)  # fmt: skip
def test_float_is_an_exact_decimal(given_value: object, expected: str):
    number = Numbers(value=given_value).value
    assert isinstance(number, Decimal) and str(number) == expected


def test_float_sums_exactly_and_travels_as_a_string():
    a, b = Numbers(value=0.1).value, Numbers(value=0.2).value
    assert a + b == Decimal("0.3")
    dumped = Numbers(value="0.30").model_dump_json()
    assert json.loads(dumped)["value"] == "0.30"
    assert Numbers.model_validate_json(dumped).value == Decimal("0.30")


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_float_round_trips_any_finite_decimal_through_json(number: Decimal):
    again = Numbers.model_validate_json(Numbers(value=number).model_dump_json()).value
    assert again == number and str(again) == str(number)


def test_seed_models_use_exact_decimals():
    balance = Balance(asset_id="USDT", total="1.1", available="1.0", locked="0.1", updated_at=0)
    assert balance.total == balance.available + balance.locked
    assert isinstance(balance.borrowed, Decimal) and balance.borrowed == 0  # the seed's `0.0` default
    with pytest.raises(ValidationError):
        Balance(asset_id="USDT", total="NaN", available="0", locked="0", updated_at=0)
    meta = AssetMetadata(asset_id="X", symbol="X", asset_type="PERPETUAL", name="x", contract_size=0.001)
    assert meta.contract_size == Decimal("0.001")


@pytest.mark.parametrize("ok", [0, 1, UINT64_MAX, "42"])
def test_uint64_accepts_0_to_2_pow_64_minus_1(ok: object):
    assert Numbers(value=1, at=ok).at == int(ok)
    state = OrderState(intent_id="i", exchange_order_id="", status="NEW", reconciliation_status="ACTIVE",
                       last_sync_at=ok)  # fmt: skip
    assert state.last_sync_at == int(ok)


@pytest.mark.parametrize("bad", [-1, UINT64_MAX + 1, 2**70, 1.5, "x", "-1"])
def test_uint64_refuses_out_of_range_and_fractions(bad: object):
    with pytest.raises(ValidationError):
        Numbers(value=1, at=bad)
    with pytest.raises(ValidationError):
        AssetMetadata(asset_id="X", symbol="X", asset_type="FUTURE", name="x", expiry_timestamp=bad)


@pytest.mark.parametrize("bad", [True, False, 1.0, 1.7e18])
def test_uint64_refuses_booleans_and_floats(bad: object):
    """A float timestamp has lost its nanoseconds (floats near 1.7e18 are 256 ns apart); a boolean is no time."""
    with pytest.raises(ValidationError):
        Numbers(value=1, at=bad)


def test_uint64_times_survive_the_event_codec():
    e = ev.CancelAccepted(ts_event=UINT64_MAX, ts_recorded=0, account_id="A", intent_id="i")
    assert ev.decode(ev.topic_of(e), ev.encode(e)).ts_event == UINT64_MAX


def test_a_topic_that_disagrees_with_its_payload_is_refused():
    e = ev.IntentCanceled(account_id="a", intent_id="i", reason="r", ts_event=1, ts_recorded=2)
    with pytest.raises(ev.UnknownEventError, match="holds a IntentCanceled payload"):
        ev.decode("OrderExpired.v1", ev.encode(e))


def test_topics_of_names_every_version_a_stored_event_may_carry():
    assert ev.topics_of(ev.SubmissionStarted) == ("SubmissionStarted.v1",)
    assert ev.topics_of(ev.LeverageSet) == ("LeverageSet.v1", "LeverageSet.v2")  # v1 is upcast when read
    for name, cls in ev.CATALOGUE.items():
        *older, current = ev.topics_of(cls)
        assert current == f"{name}.v{cls.version}"
        assert all((name, version) in ev.UPCASTERS for version in range(1, len(older) + 1)), name
