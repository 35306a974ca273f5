"""Which order an exchange message is about.

A message names its order by client order id (the intent id, or the client order id the kernel submitted
the intent under: `SubmissionStarted.client_order_id`), by the original client order id of the order a
cancel or replace changes, and by the exchange's order id. In that light, in this order:

1. an exchange order id already linked to an order (its first message named the intent);
2. a client order id, or the original one, linked to an intent (one the intent was submitted under, or a
   replace's new client order id), or naming an intent that exists;
3. else the external order of that exchange order id, `ext:<id>` (`ext:<symbol>:<id>` where the exchange
   numbers orders per symbol, as Binance does), discovered from the message if the ledger has not seen it.

Links to the ledger's own intents are learnt as messages record, and from the log's submissions before
every batch (the account's `SubmissionStarted` events since the last look: `ledger_link_scans` keeps how
far it read), and kept in the store (table `ledger_order_links`), so a later ingest finds an intent by
the client order id it was sent under, a replace's new client order id or the exchange's order id. A
message that arrives before its order's submission is recorded cannot know its intent: it becomes an
external order. Links to external orders are never kept: their stream follows from the exchange's
order id, and a client order id an exchange lets its user reuse must not join two orders.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.ingest.tables import IngestTables
from adapters.translate.base import OrderRef, Untranslatable
from kernel import events as ev
from kernel.ledger import Ledger
from kernel.streams import EXTERNAL_INTENT_PREFIX, external_intent_id, order_key

SUBMISSION_TOPICS = ev.topics_of(ev.SubmissionStarted)


class OrderLinks:
    def __init__(self, ledger: Ledger, tables: IngestTables, account_id: str, *, order_ids_per_symbol: bool):
        self.ledger, self.tables, self.account_id = ledger, tables, account_id
        self.order_ids_per_symbol = order_ids_per_symbol
        self.links: dict[str, str] = {}  # "c:<client order id>" / "x:<exchange order id key>" -> intent id
        self.unsaved: dict[str, str] = {}  # links to intents learnt since the last `save`
        self.existing: set[str] = set()  # order streams known to exist (asked in bulk by `prepare`)
        self.scanned: int | None = None  # the log's submissions were read up to this id (None: not asked yet)

    def order_id(self, ref: OrderRef) -> str:
        """The exchange's order id as a key: with the symbol, where the exchange numbers orders per symbol."""
        if self.order_ids_per_symbol and ref.symbol and ref.exchange_order_id:
            return f"{ref.symbol}:{ref.exchange_order_id}"
        return ref.exchange_order_id

    def follow_submissions(self) -> None:
        """Learn (and keep) `c:<client order id>` for every intent of the account submitted under a client
        order id other than its intent id since the last look, reading only the log's submissions."""
        start = self.tables.link_scan(self.account_id) if self.scanned is None else self.scanned
        head = self.ledger.head()
        if head <= start:
            self.scanned = start
            return
        found: dict[str, str] = {}
        for _, e in self.ledger.read(after=start, until=head, topics=SUBMISSION_TOPICS):
            if e.account_id == self.account_id and e.client_order_id and e.client_order_id != e.intent_id:
                found.setdefault("c:" + e.client_order_id, e.intent_id)  # the first submission under it
        self.tables.put_order_links(self.account_id, found, scanned=head)
        for link, intent_id in found.items():
            self.links.setdefault(link, intent_id)
        self.scanned = head

    def prepare(self, refs: Iterable[OrderRef]) -> None:
        """Before resolving a batch: learn from the log's new submissions, load the kept links and ask the
        store which streams exist, all at once."""
        self.follow_submissions()
        keys, streams = set(), set()
        for ref in refs:
            oid = self.order_id(ref)
            if oid:
                if "x:" + oid in self.links:
                    continue  # `resolve` answers from this link alone (and links are only ever added)
                keys.add("x:" + oid)
                streams.add(order_key(self.account_id, external_intent_id(oid)))
            for cid in (ref.client_order_id, ref.orig_client_order_id):
                if cid and "c:" + cid not in self.links:
                    keys.add("c:" + cid)
                    streams.add(order_key(self.account_id, cid))
        if keys:
            self.links.update(self.tables.order_links(self.account_id, keys))
        self.existing = self.ledger.existing_streams(streams) if streams else set()

    def resolve(self, ref: OrderRef) -> tuple[str, bool]:
        """(intent id, whether its stream is known to exist)."""
        oid = self.order_id(ref)
        if oid:
            linked = self.links.get("x:" + oid)
            if linked is not None:
                return linked, True
        for cid in (ref.client_order_id, ref.orig_client_order_id):
            if not cid:
                continue
            linked = self.links.get("c:" + cid)
            if linked is not None:
                return linked, True
            if order_key(self.account_id, cid) in self.existing:
                return cid, True
        if oid:
            external = external_intent_id(oid)
            return external, order_key(self.account_id, external) in self.existing
        ids = " / ".join(i for i in (ref.client_order_id, ref.orig_client_order_id) if i) or "(none)"
        raise Untranslatable(f"no order with client order id {ids} on account {self.account_id!r}, and the "
                             "message gives no exchange order id")  # fmt: skip

    def learn(self, ref: OrderRef, intent_id: str) -> None:
        """`ref` named `intent_id` in a message that recorded."""
        oid = self.order_id(ref)
        if oid:
            self.links["x:" + oid] = intent_id
        if intent_id.startswith(EXTERNAL_INTENT_PREFIX):
            return  # follows from the exchange order id; a client order id may be reused for another order
        for cid in (ref.client_order_id, ref.orig_client_order_id):
            if cid and cid != intent_id:
                self.links["c:" + cid] = self.unsaved["c:" + cid] = intent_id
        if oid:
            self.unsaved["x:" + oid] = intent_id

    def save(self) -> None:
        """Keep the links learnt. (They are true of the messages whether or not the batch then commits.)"""
        if self.unsaved:
            self.tables.put_order_links(self.account_id, self.unsaved)
            self.unsaved = {}

    def forget(self) -> None:
        """After a failed batch: what was learnt from it may not have been recorded."""
        self.links.clear()
        self.unsaved.clear()
        self.existing = set()
