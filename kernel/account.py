"""The account aggregate: one stream per account. It knows what the ledger must check requests
against (is the account open, which instruments it trades) and which cash movements it has seen."""

from __future__ import annotations

from decimal import Decimal

from kernel import events as ev
from kernel.errors import ConflictingFact, RequestRefused


class Account:
    __slots__ = ("account_id", "version", "opened", "instruments", "adjustments", "reports")

    def __init__(self, account_id: str):
        self.account_id = account_id
        self.version = 0
        self.opened: ev.AccountOpened | None = None
        self.instruments: dict[str, ev.InstrumentSpec] = {}  # by symbol
        self.adjustments: dict[str, tuple[str, Decimal, str]] = {}  # reference -> (asset, amount, reason)
        self.reports: set[tuple[str, str]] = set()  # (event name, report id / reference) of exchange reports seen

    @property
    def exists(self) -> bool:
        return self.opened is not None

    def apply(self, e: ev.AccountEvent) -> None:
        self.version += 1
        if isinstance(e, ev.AccountOpened):
            self.opened = e
        elif isinstance(e, ev.AssetRegistered):
            self.instruments[e.asset.symbol] = e.asset
        elif isinstance(e, ev.BalanceAdjusted) and e.reference:
            self.adjustments[e.reference] = (e.asset_id, e.amount, e.reason)
        elif isinstance(e, ev.ExchangeBalancesReported | ev.ExchangePositionsReported) and e.report_id:
            self.reports.add((type(e).__name__, e.report_id))
        elif isinstance(e, ev.LeverageSet) and e.reference:
            self.reports.add(("LeverageSet", e.reference))

    def require_open(self) -> None:
        if not self.exists:
            raise RequestRefused("account_id", f"unknown account {self.account_id!r}; open it first")

    def instrument(self, symbol: str, field: str = "order.symbol") -> ev.InstrumentSpec:
        self.require_open()
        spec = self.instruments.get(symbol)
        if spec is None:
            raise RequestRefused(field, f"unknown symbol {symbol!r} on account {self.account_id!r}")
        return spec

    def decide(self, e: ev.AccountEvent) -> list[ev.AccountEvent]:
        if isinstance(e, ev.AccountOpened):
            if self.opened is None:
                return [e]
            same = (self.opened.exchange, self.opened.account_type, self.opened.base_currency) == (
                e.exchange, e.account_type, e.base_currency)  # fmt: skip
            if same:
                return []
            raise RequestRefused("account_id", f"account {self.account_id!r} is already open with other settings")
        self.require_open()
        if isinstance(e, ev.AssetRegistered):
            return [] if self.instruments.get(e.asset.symbol) == e.asset else [e]
        if isinstance(e, ev.MarkPriceRecorded | ev.LeverageSet):
            self.instrument(e.symbol_id, "symbol_id")  # never guessed: a symbol must be registered first
        if isinstance(e, ev.ExchangePositionsReported):
            for i, p in enumerate(e.positions):
                self.instrument(p.symbol_id, f"positions[{i}].symbol_id")
        if isinstance(e, ev.ExchangeBalancesReported | ev.ExchangePositionsReported) and e.report_id:
            if (type(e).__name__, e.report_id) in self.reports:
                return []  # the same report delivered again
        if isinstance(e, ev.LeverageSet) and e.reference and ("LeverageSet", e.reference) in self.reports:
            return []
        if isinstance(e, ev.BalanceAdjusted) and e.reference:
            seen = self.adjustments.get(e.reference)
            if seen is not None:
                if seen != (e.asset_id, e.amount, e.reason):
                    raise ConflictingFact(
                        f"reference: {e.reference!r} was recorded as {seen[2]} {seen[1]} {seen[0]}, now "
                        f"reported as {e.reason} {e.amount} {e.asset_id}"
                    )
                return []
        return [e]
