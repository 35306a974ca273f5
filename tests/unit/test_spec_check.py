"""`check_order_spec` decides exactly as validating through `StandardOrder` and the input bounds does:
its fast path (`plainly_valid`) only ever accepts what the full path accepts."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel import events as ev
from kernel.checks import StandardOrder, check_order_bounds, check_order_spec, from_pydantic
from kernel.errors import RequestRefused
from kernel.schema.order_spec import UINT64_MAX, OrderSide, OrderType, TimeInForce
from kernel.spec_check import plainly_valid

numbers = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("1"), Decimal("0.5"), Decimal("1E+24"), Decimal("1E-25"),
                     Decimal("1.000000000000000000000000"), Decimal("123456789012345678901234"), Decimal("100.00")]),
    st.integers(-3, 3), st.sampled_from(["1", "x", 1.5, True]),
)  # fmt: skip
specs = st.builds(
    ev.OrderSpec,
    symbol=st.sampled_from(["BTCUSDT", "", " ", 5]),
    side=st.sampled_from([*OrderSide, "BUY", "up"]),
    order_type=st.sampled_from([*OrderType, "LIMIT"]),
    quantity=numbers, price=numbers, stop_price=numbers,
    time_in_force=st.sampled_from([*TimeInForce, "GTC"]),
    reduce_only=st.sampled_from([False, True, 1]),
    post_only=st.sampled_from([False, True, 0]),
    expire_at=st.sampled_from([None, 0, 1, UINT64_MAX, UINT64_MAX + 1, -1, True, 1.0]),
)  # fmt: skip
near = st.one_of(st.none(), st.decimals(min_value=Decimal("-1"), max_value=Decimal("1E+25"), allow_nan=False,
                                         allow_infinity=False, places=None),
                 st.sampled_from([Decimal("1E+23"), Decimal("9.99E+23"), Decimal("1E-24"), Decimal("1.0E-24")]))  # fmt: skip
plain = st.builds(  # the exact types a translator builds, every rule in play
    ev.OrderSpec, symbol=st.just("ETHUSDT"), side=st.sampled_from(OrderSide), order_type=st.sampled_from(OrderType),
    quantity=near, price=near, stop_price=near, time_in_force=st.sampled_from(TimeInForce), reduce_only=st.booleans(),
    post_only=st.booleans(), expire_at=st.sampled_from([None, 0, 5, UINT64_MAX, UINT64_MAX + 1]),
)  # fmt: skip


def full_path(spec: ev.OrderSpec) -> str:
    try:
        check_order_bounds(from_pydantic(StandardOrder, msgspec.to_builtins(spec), "order."))
    except RequestRefused as e:
        return str(e)
    return ""


def checked(spec: ev.OrderSpec) -> str:
    try:
        check_order_spec(spec)
    except RequestRefused as e:
        return str(e)
    return ""


@given(st.one_of(specs, plain))
def test_the_fast_path_accepts_only_what_the_full_path_accepts(spec: ev.OrderSpec) -> None:
    expected = full_path(spec)
    if plainly_valid(spec):
        assert expected == ""
    assert checked(spec) == expected


@pytest.mark.parametrize("order_type, price, stop, tif, expire", [
    (OrderType.LIMIT, Decimal("100.5"), None, TimeInForce.GTC, None),
    (OrderType.MARKET, None, None, TimeInForce.IOC, None),
    (OrderType.STOP, None, Decimal("90"), TimeInForce.DAY, None),
    (OrderType.STOP_LIMIT, Decimal("91"), Decimal("90"), TimeInForce.GTD, 1_700_000_000_000_000_000),
])  # fmt: skip
def test_ordinary_specs_take_the_fast_path(order_type, price, stop, tif, expire) -> None:
    spec = ev.OrderSpec(symbol="BTCUSDT", side=OrderSide.SELL, order_type=order_type, quantity=Decimal("0.25"),
                        price=price, stop_price=stop, time_in_force=tif, expire_at=expire)  # fmt: skip
    assert plainly_valid(spec) and full_path(spec) == ""
