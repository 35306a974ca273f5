"""Histories for the replay tests: the demo day, a multi-day history on a settable clock, and a recorder
whose notification ids have gaps (as PostgreSQL's can)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from adapters.demo import DemoDay
from kernel.ledger import Ledger

NS = 1_000_000_000
MS = 1_000_000


def ns(iso: str) -> int:
    """ns since the epoch of an ISO 8601 time with its zone."""
    moment = datetime.fromisoformat(iso)
    assert moment.tzinfo is not None, iso
    return int(moment.timestamp()) * NS + moment.microsecond * 1_000


def record_demo(ledger_or_url: Ledger | str = "memory://", *, seed: int = 7, orders: int = 40) -> Ledger:
    day = DemoDay(seed=seed, orders=orders)
    ledger = ledger_or_url if isinstance(ledger_or_url, Ledger) else Ledger.open(ledger_or_url, clock=day.clock)
    ledger.clock = day.clock
    for _ in day.run(lambda step: getattr(ledger, step.method)(*step.args, **step.kwargs)):
        pass
    return ledger


class Clock:
    """A ledger clock the test sets."""

    def __init__(self, ns_: int = 0):
        self.ns = ns_

    def __call__(self) -> int:
        return self.ns


def record_days(ledger: Ledger, clock: Clock, moments: list[int]) -> None:
    """An account, a spot instrument and a deposit at the first moment; then at each moment a deposit,
    or an order placed, submitted, accepted and filled (four events stamped with the same time)."""
    clock.ns = moments[0]
    ledger.open_account("acc", exchange="x", account_type="SPOT", base_currency="USDT", ts_event=moments[0])
    ledger.register_asset("acc", dict(asset_id="BTCUSDT", symbol="BTCUSDT", asset_type="SPOT", name="BTC/USDT"),
                          ts_event=moments[0], base_asset="BTC", quote_asset="USDT")  # fmt: skip
    for n, moment in enumerate(moments):
        clock.ns = moment
        if n % 3 == 0:
            ledger.adjust_balance("acc", asset_id="USDT", amount=f"{1000 + n}", reason="DEPOSIT", ts_event=moment,
                                  reference=f"dep-{n}")  # fmt: skip
            continue
        intent_id = f"o-{n}"
        order = dict(symbol="BTCUSDT", side="BUY" if n % 2 else "SELL", order_type="LIMIT", quantity="0.1",
                     price=f"{100 + n}")  # fmt: skip
        ledger.place_intent("acc", dict(intent_id=intent_id, order=order, created_at=moment, updated_at=moment))
        ledger.start_submission("acc", intent_id, client_order_id=f"c-{n}", ts_event=moment)
        ledger.record_accepted("acc", intent_id, exchange_order_id=f"x-{n}", ts_event=moment)
        ledger.record_fill("acc", intent_id, trade_id=f"t-{n}", quantity="0.1", price=f"{100 + n}", fee="0.01",
                           fee_asset="USDT", ts_event=moment)  # fmt: skip


def recorded_history(moments: list[int]) -> tuple[Ledger, list]:
    """A memory ledger with events recorded at `moments`, and its log as (position, event) pairs."""
    clock = Clock()
    ledger = Ledger.open("memory://", clock=clock)
    record_days(ledger, clock, moments)
    return ledger, list(ledger.read())


def linear_position(log: list[tuple[int, Any]], ts_ns: int) -> int:
    """The last id whose event has ts_recorded <= ts_ns, by scanning."""
    return max((i for i, e in log if e.ts_recorded <= ts_ns), default=0)


class GappyRecorder:
    """Wraps an application recorder so that notification id i appears as `gap * i`: ids with holes."""

    def __init__(self, inner: Any, gap: int = 3):
        self.inner, self.gap = inner, gap
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def max_notification_id(self) -> int | None:
        top = self.inner.max_notification_id()
        return None if top is None else top * self.gap

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None, topics=(), *,
                             inclusive_of_start: bool = True):  # fmt: skip
        self.calls += 1
        g = self.gap
        if start is None:
            first = 1
        else:
            first = -(-start // g) if inclusive_of_start else start // g + 1  # the first inner id in range
        last = None if stop is None else stop // g
        if last is not None and last < first:
            return []
        page = self.inner.select_notifications(first, limit, stop=last, topics=topics, inclusive_of_start=True)
        return [dataclasses.replace(n, id=n.id * g) for n in page]
