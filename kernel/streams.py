"""Stream identity: the in-process key of an order or account stream, and the stored stream id derived
from it (a name-based UUID, so every process derives the same one).
"""

from __future__ import annotations

import hashlib
import uuid
from functools import lru_cache

LEDGER_NAMESPACE = uuid.UUID("6f1c2d8e-3b4a-5c6d-8e7f-a1b2c3d4e5f6")
EXTERNAL_INTENT_PREFIX = "ext:"
STREAM_ID_CACHE_SIZE = 1 << 18  # uuid5 (SHA-1) per event is measurable; live orders repeat


def order_key(account_id: str, intent_id: str) -> str:
    """The in-process key of an order stream (a str: hashing it is cheap, unlike a UUID)."""
    return f"order\x1f{account_id}\x1f{intent_id}"


def account_key(account_id: str) -> str:
    return f"account\x1f{account_id}"


_NAMESPACE_BYTES = LEDGER_NAMESPACE.bytes
_UUID5_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)  # version and variant bits cleared
_UUID5_BITS = (5 << 76) | (0x8000 << 48)  # version 5, RFC 4122 variant


@lru_cache(maxsize=STREAM_ID_CACHE_SIZE)
def stream_uuid(key: str) -> uuid.UUID:
    """The stored stream id: a name-based UUID, so any process derives the same one. Exactly
    `uuid.uuid5(LEDGER_NAMESPACE, key)`, built from the SHA-1 digest as one integer (the stdlib's
    keyword-checking constructor costs more than the hash; an ingest derives two per new order)."""
    digest = hashlib.sha1(_NAMESPACE_BYTES + key.encode()).digest()
    return uuid.UUID(int=int.from_bytes(digest[:16], "big") & _UUID5_MASK | _UUID5_BITS)


def order_stream_id(account_id: str, intent_id: str) -> uuid.UUID:
    return stream_uuid(order_key(account_id, intent_id))


def account_stream_id(account_id: str) -> uuid.UUID:
    return stream_uuid(account_key(account_id))


def external_intent_id(exchange_order_id: str) -> str:
    """The intent id of an order no intent created: derived from the exchange's id, deterministically."""
    return EXTERNAL_INTENT_PREFIX + exchange_order_id
