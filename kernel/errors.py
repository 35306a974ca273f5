"""Errors a caller can cause. Each says, in one line, which field is wrong and why."""


class LedgerError(Exception):
    """Base of the ledger's own errors."""


class RequestRefused(LedgerError, ValueError):
    """A request broke a rule; nothing was recorded. `field` names the offending input."""

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ConflictingFact(LedgerError, ValueError):
    """An exchange message reuses an idempotency key (trade id, exec id) with different content.

    Recording it would double-count or overwrite a fact, so nothing is recorded; the message belongs in
    quarantine with this reason.
    """


class StoreConfigError(LedgerError, ValueError):
    """The store URL or its settings are unusable."""
