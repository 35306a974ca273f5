"""Reconciliation: where the ledger's books and the exchange's latest report disagree.

Exchange reports (`ExchangeBalancesReported`, `ExchangePositionsReported`) are recorded as facts, in log
order with the fills. Each reported figure is compared with the ledger's own figure *at that report's
place in the log*: what the ledger believed when the exchange said so. A fill the exchange counted in its
report but that the log holds after the report (the two channels raced) shows as a difference until the
next report. Only the latest report of each asset or position counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kernel import events as ev
from kernel.ledger import Ledger
from projections import Books
from projections.replay import fold_notification

EVICT_EVERY_EVENTS = 50_000  # closed orders leave the books this often (memory bounded by open orders)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Difference:
    account_id: str
    kind: str  # "balance" (total of an asset) or "position" (signed quantity of a symbol)
    key: str  # the asset or the symbol
    ledger: Decimal
    exchange: Decimal
    reported_at: int  # the report's ts_event, ns
    position: int  # the report's place in the log (notification id)

    @property
    def difference(self) -> Decimal:
        """Ledger minus exchange."""
        return self.ledger - self.exchange

    def as_json(self) -> dict[str, object]:
        return {"account_id": self.account_id, "kind": self.kind, "key": self.key, "ledger": str(self.ledger),
                "exchange": str(self.exchange), "difference": str(self.difference),
                "reported_at": self.reported_at, "position": self.position}  # fmt: skip


def reconcile(ledger: Ledger, account_id: str | None = None) -> list[Difference]:
    """Every asset or position whose latest exchange report differs from the ledger, sorted by account,
    kind and key; an empty list when they agree (or nothing was reported)."""
    books = Books()
    latest: dict[tuple[str, str, str], Difference] = {}
    for count, notification in enumerate(ledger.read_stored(), 1):
        event = fold_notification(ledger, books, notification)
        if account_id is not None and getattr(event, "account_id", None) != account_id:
            reported = []
        elif isinstance(event, ev.ExchangeBalancesReported):
            reported = [("balance", b.asset_id, b.total, books.balance_books.get((event.account_id, b.asset_id)))
                        for b in event.balances]  # fmt: skip
        elif isinstance(event, ev.ExchangePositionsReported):
            reported = [("position", p.symbol_id, p.quantity, books.position_books.get((event.account_id, p.symbol_id)))
                        for p in event.positions]  # fmt: skip
        else:
            reported = []
        for kind, key, theirs, book in reported:
            mine = ZERO if book is None else book.total if kind == "balance" else book.quantity  # type: ignore[union-attr]
            latest[(event.account_id, kind, key)] = Difference(event.account_id, kind, key, mine, theirs,  # type: ignore[attr-defined]
                                                               event.ts_event, notification.id)  # fmt: skip
        if count % EVICT_EVERY_EVENTS == 0:
            books.evict_closed()
    return [d for _, d in sorted(latest.items()) if d.ledger != d.exchange]
