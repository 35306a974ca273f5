"""Fixtures of the integration tests (the stores themselves are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from .helpers import open_spot_account


@pytest.fixture
def ledger(store_url, open_ledger):
    """A ledger on each store (`store_url`) with a spot account open; a module may define its own."""
    ledger = open_ledger(store_url)
    open_spot_account(ledger)
    return ledger
