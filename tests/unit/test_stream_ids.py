"""Stream ids are uuid5 of the stream key in the ledger's namespace: stored history depends on them."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from kernel.streams import LEDGER_NAMESPACE, order_key, stream_uuid


@given(st.text())
def test_stream_uuid_is_uuid5_of_the_key(key: str) -> None:
    assert stream_uuid(key) == uuid.uuid5(LEDGER_NAMESPACE, key)
    assert stream_uuid(key).version == 5


def test_known_ids_do_not_move() -> None:
    assert stream_uuid(order_key("acc", "S1")) == uuid.UUID("50dbab4c-f5a5-5093-b9ca-f7e82d92e6be")
