"""Reconciliation: where the ledger's books and the exchange's latest report disagree.

Exchange reports (`ExchangeBalancesReported`, `ExchangePositionsReported`) are recorded as facts, in log
order with the fills. Only the latest report of each asset or position counts. Its figure is compared
with the ledger's at the report's place in the log (what the ledger believed when the exchange said so)
and with the ledger's now; a difference is listed when the exchange's figure matches neither. So a fill
the log holds after the report although the exchange had counted it (the two channels raced, or the
fill waited in quarantine) is not a difference, and a fill after the report that the exchange had not
counted yet is not one either.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    ledger: Decimal  # at the report's place in the log
    exchange: Decimal
    reported_at: int  # the report's ts_event, ns
    position: int  # the report's place in the log (notification id)
    ledger_now: Decimal | None = None  # at the head of the log

    @property
    def difference(self) -> Decimal:
        """Ledger minus exchange."""
        return self.ledger - self.exchange

    def as_json(self) -> dict[str, object]:
        return {"account_id": self.account_id, "kind": self.kind, "key": self.key, "ledger": str(self.ledger),
                "exchange": str(self.exchange), "difference": str(self.difference),
                "ledger_now": None if self.ledger_now is None else str(self.ledger_now),
                "reported_at": self.reported_at, "position": self.position}  # fmt: skip


def reconcile(ledger: Ledger, account_id: str | None = None) -> list[Difference]:
    """Every asset or position whose latest exchange report differs from the ledger (then and now), sorted
    by account, kind and key; an empty list when they agree (or nothing was reported)."""
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
    differences = []
    for (account, kind, key), d in sorted(latest.items()):
        book = (books.balance_books if kind == "balance" else books.position_books).get((account, key))
        now = ZERO if book is None else book.total if kind == "balance" else book.quantity  # type: ignore[union-attr]
        if d.exchange not in (d.ledger, now):
            differences.append(replace(d, ledger_now=now))
    return differences
