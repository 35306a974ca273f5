"""The order lifecycle: one table of allowed (status, event) -> status moves, read like FIX OrdStatus.

Requests (intent changes, the kernel's own submission steps) that are not in the table are refused.
Exchange facts that are not in the table are still recorded -- facts are never dropped -- but leave
the status unchanged and are flagged as an anomaly on the order.

Some targets depend on the order's quantities or history; they are named rules, not statuses:
  BY_FILLS     NEW if nothing is filled, PARTIALLY_FILLED, or FILLED once filled >= quantity
  FILLED_OR_SAME  FILLED once filled >= quantity, else the status stays (a pending cancel stays pending)
  SAME         absorbed: recorded, status unchanged (late or repeated acknowledgements)
  PREVIOUS     back to the status before the pending cancel/replace (a failed cancel or amend)
  CANCEL_REQUESTED  CANCELED if the order never reached the exchange, else PENDING_CANCEL
"""

from __future__ import annotations

from enum import Enum

from kernel.exchange.models import ReconciliationStatus
from kernel.schema.order_spec import StandardOrderStatus as S


class Rule(Enum):
    BY_FILLS = "BY_FILLS"
    FILLED_OR_SAME = "FILLED_OR_SAME"
    SAME = "SAME"
    PREVIOUS = "PREVIOUS"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"


Target = S | Rule

REQUESTS = frozenset({"IntentAmended", "IntentCanceled", "SubmissionStarted", "SubmissionFailed"})
"""Events a strategy or the kernel asks for; refused when their (status, event) pair is not below."""

LIVE = (S.NEW, S.PARTIALLY_FILLED)
PENDING = (S.PENDING_CANCEL, S.PENDING_REPLACE)
TERMINAL = frozenset({S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED})

# fmt: off
TRANSITIONS: dict[tuple[S, str], Target] = {
    # --- the strategy changes its intent --------------------------------------------------------
    (S.PENDING_NEW,      "IntentAmended"):    Rule.SAME,        # not yet live: the new spec is what gets sent
    (S.NEW,              "IntentAmended"):    S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, "IntentAmended"):    S.PENDING_REPLACE,
    (S.PENDING_REPLACE,  "IntentAmended"):    Rule.SAME,        # a newer amend supersedes the pending one
    (S.PENDING_NEW,      "IntentCanceled"):   Rule.CANCEL_REQUESTED,
    (S.NEW,              "IntentCanceled"):   S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, "IntentCanceled"):   S.PENDING_CANCEL,
    (S.PENDING_REPLACE,  "IntentCanceled"):   S.PENDING_CANCEL,
    # --- the kernel sends it ---------------------------------------------------------------------
    (S.PENDING_NEW,      "SubmissionStarted"): Rule.SAME,       # refused by the order if already sent
    (S.PENDING_NEW,      "SubmissionFailed"):  S.REJECTED,      # never reached the exchange
    # --- the exchange answers ------------------------------------------------------------------
    (S.PENDING_NEW,      "OrderAccepted"):    S.NEW,
    (S.NEW,              "OrderAccepted"):    Rule.SAME,
    (S.PARTIALLY_FILLED, "OrderAccepted"):    Rule.SAME,        # late accept after a fill
    (S.FILLED,           "OrderAccepted"):    Rule.SAME,
    (S.PENDING_CANCEL,   "OrderAccepted"):    Rule.SAME,
    (S.PENDING_REPLACE,  "OrderAccepted"):    Rule.SAME,
    (S.CANCELED,         "OrderAccepted"):    Rule.SAME,
    (S.EXPIRED,          "OrderAccepted"):    Rule.SAME,
    (S.PENDING_NEW,      "OrderRejected"):    S.REJECTED,
    (S.PENDING_CANCEL,   "OrderRejected"):    S.REJECTED,       # refused before the exchange saw the cancel
    (S.NEW,              "OrderRejected"):    S.REJECTED,       # an external order is discovered NEW
    (S.PENDING_NEW,      "AmendAccepted"):    Rule.BY_FILLS,    # implies accepted
    (S.NEW,              "AmendAccepted"):    Rule.BY_FILLS,
    (S.PARTIALLY_FILLED, "AmendAccepted"):    Rule.BY_FILLS,
    (S.PENDING_REPLACE,  "AmendAccepted"):    Rule.BY_FILLS,
    (S.PENDING_NEW,      "AmendRejected"):    Rule.SAME,
    (S.NEW,              "AmendRejected"):    Rule.SAME,
    (S.PARTIALLY_FILLED, "AmendRejected"):    Rule.SAME,
    (S.PENDING_REPLACE,  "AmendRejected"):    Rule.PREVIOUS,
    (S.PENDING_CANCEL,   "AmendAccepted"):    Rule.SAME,        # an earlier amend answered while the
    (S.PENDING_CANCEL,   "AmendRejected"):    Rule.SAME,        # cancel is pending: the cancel decides
    (S.FILLED,           "AmendRejected"):    Rule.SAME,        # too late: it filled meanwhile
    (S.PENDING_NEW,      "CancelAccepted"):   S.CANCELED,
    (S.NEW,              "CancelAccepted"):   S.CANCELED,       # unsolicited: IOC rest, self-trade prevention
    (S.PARTIALLY_FILLED, "CancelAccepted"):   S.CANCELED,
    (S.PENDING_CANCEL,   "CancelAccepted"):   S.CANCELED,
    (S.PENDING_REPLACE,  "CancelAccepted"):   S.CANCELED,
    (S.CANCELED,         "CancelAccepted"):   Rule.SAME,
    (S.NEW,              "CancelRejected"):   Rule.SAME,
    (S.PARTIALLY_FILLED, "CancelRejected"):   Rule.SAME,
    (S.PENDING_CANCEL,   "CancelRejected"):   Rule.PREVIOUS,
    (S.FILLED,           "CancelRejected"):   Rule.SAME,        # too late: it filled meanwhile
    (S.CANCELED,         "CancelRejected"):   Rule.SAME,
    (S.EXPIRED,          "CancelRejected"):   Rule.SAME,
    (S.REJECTED,         "CancelRejected"):   Rule.SAME,        # the cancel of an order the exchange refused
    (S.PENDING_NEW,      "OrderExpired"):     S.EXPIRED,
    (S.NEW,              "OrderExpired"):     S.EXPIRED,
    (S.PARTIALLY_FILLED, "OrderExpired"):     S.EXPIRED,
    (S.PENDING_CANCEL,   "OrderExpired"):     S.EXPIRED,
    (S.PENDING_REPLACE,  "OrderExpired"):     S.EXPIRED,
    (S.PENDING_NEW,      "OrderFilled"):      Rule.BY_FILLS,    # a fill before the accept implies it
    (S.NEW,              "OrderFilled"):      Rule.BY_FILLS,
    (S.PARTIALLY_FILLED, "OrderFilled"):      Rule.BY_FILLS,
    (S.PENDING_CANCEL,   "OrderFilled"):      Rule.FILLED_OR_SAME,
    (S.PENDING_REPLACE,  "OrderFilled"):      Rule.FILLED_OR_SAME,
    (S.CANCELED,         "OrderFilled"):      Rule.FILLED_OR_SAME,  # the exchange matched first; flagged
    (S.EXPIRED,          "OrderFilled"):      Rule.FILLED_OR_SAME,  # likewise; flagged
    (S.FILLED,           "OrderFilled"):      S.FILLED,         # an overfill; flagged
    # --- reports that change nothing the ledger keeps (pending acks, restatements, trade busts) ----
    **{(status, "ExecutionReported"): Rule.SAME for status in S},
}
# fmt: on


def target(status: S, event_name: str) -> Target | None:
    """The table's answer for this pair, or None when the pair is not allowed."""
    return TRANSITIONS.get((status, event_name))


def reconciliation(
    status: S,
    *,
    submitted: bool,
    intent_matches_exchange: bool,
) -> ReconciliationStatus:
    """Where the intent stands against the exchange (the seed's `ReconciliationStatus`)."""
    R = ReconciliationStatus
    if status is S.REJECTED:  # rejected by the exchange, or the submission itself failed
        return R.FAILED
    if status is S.FILLED:
        return R.COMPLETED
    if status in (S.CANCELED, S.EXPIRED):
        return R.CANCELED
    if not submitted:
        return R.PENDING
    if status is S.PENDING_NEW:
        return R.SUBMITTING
    if status in PENDING or not intent_matches_exchange:
        return R.RECONCILING
    return R.ACTIVE
