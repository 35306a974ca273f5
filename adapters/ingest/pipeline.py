"""Recording exchange messages: frame a file into messages, translate each (a pure function of the
message and the instruments), find the intent each order fact belongs to, and record in large batches.
Whatever cannot be recorded is kept raw in quarantine with its reason; nothing is dropped.

Each message ends as exactly one of: recorded (at least one new event), duplicate (every fact was
already recorded: re-running a file records nothing), skipped (a session message, by design) or
quarantined. A batch is one transaction: if the store fails, nothing of that batch is written.

Which order a message is about: see `links`. Orders the ledger's own kernel sent (client order id =
intent id) link to their intents; a drop copy of orders sent by anything else becomes external orders,
one stream per exchange order. A message records all its facts or none (a savepoint in the batch), and
what fails is written to quarantine before the batch commits, so that nothing is lost even from a
stream that cannot be read twice.
"""

from __future__ import annotations

import gc
import io
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import msgspec

from adapters.ingest.links import OrderLinks
from adapters.ingest.parallel import TranslationResult, TranslatorProcess, one_line, translate_one
from adapters.ingest.source import Rejoined, in_chunks, not_text
from adapters.ingest.tables import IngestTables, Quarantined, message_digest
from adapters.translate import Format
from adapters.translate.base import AccountFact, OrderFact, Translation, Untranslatable
from kernel import events as ev
from kernel.errors import ConflictingFact, RequestRefused
from kernel.ledger import Batch, Ledger

INGEST_BATCH_MESSAGES = 5_000  # messages per transaction
WORKER_MIN_BYTES = 16 << 20  # from this file size, translation runs in a second process (`parallel`)
SNIFF_BYTES = 8_192  # how much of a file is looked at to tell text from binary
QUARANTINE_FILE_MAX_BYTES = 64 << 20  # of a file quarantined whole (binary, not text), what is kept
DEFAULT_BASE_CURRENCY = "USDT"


class IngestError(ValueError):
    """The ingest cannot start as asked (e.g. the account belongs to another exchange)."""


@dataclass
class IngestSummary:
    recorded: int = 0  # messages that recorded at least one event
    duplicates: int = 0  # messages whose every fact was already recorded
    skipped: int = 0  # session and other messages that carry no fact, by design
    quarantined: int = 0  # messages kept raw with a reason
    events: int = 0  # events recorded
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reasons (first line), counted

    def count(self, outcome: str, *, events: int = 0, reason: str = "") -> None:
        """One message's outcome: recorded | duplicate | skipped | quarantined (with its reason)."""
        self.events += events
        if outcome == "recorded":
            self.recorded += 1
        elif outcome == "duplicate":
            self.duplicates += 1
        elif outcome == "skipped":
            self.skipped += 1
        elif outcome == "quarantined":
            self.quarantined += 1
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def add(self, other: IngestSummary) -> None:
        for name in ("recorded", "duplicates", "skipped", "quarantined", "events"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    def as_dict(self) -> dict[str, int]:
        return {"recorded": self.recorded, "duplicates": self.duplicates, "skipped": self.skipped,
                "quarantined": self.quarantined, "events": self.events}  # fmt: skip


@dataclass(slots=True)
class _Message:
    raw: bytes
    translation: Translation | None = None
    reason: str = ""  # set: it goes (or stays) in quarantine
    outcome: str = ""  # recorded | duplicate | skipped | quarantined
    events: int = 0  # events it recorded


class Ingest:
    """Ingests messages of one format into one account (opened on first use, if it does not exist)."""

    def __init__(self, ledger: Ledger, tables: IngestTables, fmt: Format, account_id: str, *,
                 exchange: str | None = None, base_currency: str = DEFAULT_BASE_CURRENCY,
                 batch_messages: int = INGEST_BATCH_MESSAGES):  # fmt: skip
        if not account_id.strip():
            raise IngestError("--account must name an account")
        self.ledger, self.tables, self.format, self.account_id = ledger, tables, fmt, account_id
        account = ledger.account(account_id)
        if account is not None:
            assert account.opened is not None
            if exchange and exchange != account.opened.exchange:
                raise IngestError(f"account {account_id!r} is on exchange {account.opened.exchange!r}, not {exchange!r}")
            self.exchange = account.opened.exchange
        else:
            self.exchange = exchange or fmt.exchange
        self.account_open = account is not None
        self.base_currency = base_currency
        self.batch_messages = max(1, batch_messages)
        self.catalogue = tables.instruments(self.exchange)
        self.registered: dict[str, ev.InstrumentSpec] = dict(account.instruments) if account else {}
        self.instruments = {**self.catalogue, **self.registered}  # what translators may name
        self.links = OrderLinks(ledger, tables, account_id, order_ids_per_symbol=fmt.order_ids_per_symbol)
        # Messages of this account and format waiting in quarantine: met again and recorded, they leave it.
        self.waiting = tables.digests(account_id=account_id, fmt=fmt.name)

    # ------------------------------------------------------------------ entry points
    def ingest_file(self, source: str, stream: IO[bytes], *,
                    on_bytes: Callable[[int], None] | None = None) -> IngestSummary:  # fmt: skip
        """Frame `stream` and ingest every message; an empty or binary file is quarantined whole."""
        summary = IngestSummary()
        head = stream.read(SNIFF_BYTES)
        problem = not_text(head, complete=len(head) < SNIFF_BYTES)
        if problem:  # kept whole up to a bound: a mistaken multi-GB file must not exhaust memory or a row
            raw = head + stream.read(QUARANTINE_FILE_MAX_BYTES - len(head))
            total = len(raw) + sum(len(block) for block in iter(lambda: stream.read(1 << 20), b""))
            if total > len(raw):
                problem += f" ({total} bytes; the first {len(raw)} kept)"
            self._quarantine(source, [_Message(raw, reason=problem)])
            summary.count("quarantined", reason=problem)
            return summary
        counted = Rejoined(head, stream, on_bytes)
        chunks = in_chunks(self.format.frame(io.BufferedReader(counted)), self.batch_messages)
        with _frozen_between_batches() as settle:
            if not _worth_a_worker(stream):
                for raws in chunks:
                    self.ingest_messages(source, raws, summary)
                    settle()
                return summary
            with TranslatorProcess(self.format.name, self.instruments) as worker:
                for raws, results in worker.translated(chunks):
                    self.ingest_messages(source, raws, summary, translated=results)
                    settle()
        return summary

    def ingest_messages(self, source: str, raws: Iterable[bytes], summary: IngestSummary | None = None, *,
                        translated: list[TranslationResult] | None = None) -> IngestSummary:  # fmt: skip
        """Translate (unless `translated` already holds the results) and record these messages in one
        transaction; what fails goes to quarantine."""
        summary = IngestSummary() if summary is None else summary
        if translated is None:
            messages = [self._translate(raw) for raw in raws]
        else:
            messages = [self._message(raw, result) for raw, result in zip(raws, translated, strict=True)]
        self._record(messages, before_commit=lambda: self._quarantine(source, messages))
        for m in messages:
            summary.count(m.outcome, events=m.events, reason=m.reason)
        if self.waiting:  # after the commit: only what is recorded leaves the quarantine
            digests = (message_digest(self.format.name, self.account_id, m.raw) for m in messages if not m.reason)
            self.tables.release([self.waiting.pop(d) for d in digests if d in self.waiting])
        return summary

    def retry(self, entries: list[Quarantined]) -> tuple[IngestSummary, list[int]]:
        """Ingest quarantined messages again; returns the summary and the ids of the entries that no longer
        need keeping (recorded, duplicate or skipped). Those still failing keep their entry, with the
        latest reason."""
        summary = IngestSummary()
        problems = [not_text(e.raw, complete=True) for e in entries]
        messages = [_Message(e.raw, reason=problem) if problem else self._translate(e.raw)
                    for e, problem in zip(entries, problems, strict=True)]  # fmt: skip
        self._record(messages)
        released = []
        for entry, m in zip(entries, messages, strict=True):
            if m.reason:
                summary.count("quarantined", reason=m.reason)
                if m.reason != entry.reason:
                    self.tables.update_reason(entry.id, m.reason)
                continue
            released.append(entry.id)
            summary.count(m.outcome, events=m.events)
        return summary, released

    # ------------------------------------------------------------------ steps
    def _translate(self, raw: bytes) -> _Message:
        return self._message(raw, translate_one(self.format, raw, self.instruments))

    def _message(self, raw: bytes, result: TranslationResult) -> _Message:
        if isinstance(result, str):
            return _Message(raw, reason=result)
        if result.skipped:
            return _Message(raw, result, outcome="skipped")
        if not result.facts:
            return _Message(raw, reason=f"the {self.format.name} translator found no fact in this message")
        return _Message(raw, result)

    def _record(self, messages: list[_Message], before_commit: Callable[[], None] | None = None) -> None:
        """Decide every translated message in one batch; `before_commit` runs once they are all decided."""
        todo = [m for m in messages if m.translation is not None and not m.reason and m.outcome != "skipped"]
        if not todo:
            if before_commit is not None:
                before_commit()
            return
        self.links.prepare(f.ref for m in todo for f in m.translation.facts if isinstance(f, OrderFact))  # type: ignore[union-attr]
        try:
            with self.ledger.batch() as batch:
                for m in todo:
                    self._record_message(batch, m)
                self.links.save()
                if before_commit is not None:
                    before_commit()
        except BaseException:
            self._forget()
            raise

    def _record_message(self, batch: Batch, m: _Message) -> None:
        """All of the message's facts, or none of them (and then the reason why)."""
        assert m.translation is not None
        mark, was_open, added = batch.savepoint(), self.account_open, []
        try:
            # What can be checked without deciding is checked first (an unknown symbol, an order that
            # cannot be found nor discovered); then the facts are decided, all or none.
            plans = [self._plan(f) for f in m.translation.facts]
            recorded = 0 if self.account_open else self._open_account(batch, m.translation.facts[0].event.ts_event)
            for fact, intent_id, discover in plans:
                recorded += self._record_fact(batch, fact, intent_id, discover, added)
        except (RequestRefused, ConflictingFact, Untranslatable) as e:
            batch.rollback_to(mark)
            self.account_open = was_open
            for symbol in added:
                del self.registered[symbol]
            m.reason = one_line(str(e))
            return
        for fact, intent_id, _ in plans:
            if isinstance(fact, OrderFact):
                self.links.learn(fact.ref, intent_id)
        m.outcome = "recorded" if recorded else "duplicate"
        m.events = recorded

    def _forget(self) -> None:
        """After a failed batch, what this ingest believed may not have been recorded: read it again."""
        account = self.ledger.account(self.account_id)
        self.account_open = account is not None
        self.registered = dict(account.instruments) if account else {}
        self.links.forget()

    def _open_account(self, batch: Batch, ts_event: int) -> int:
        done = batch.open_account(self.account_id, exchange=self.exchange, account_type=self.format.account_type,
                                  base_currency=self.base_currency, ts_event=ts_event)  # fmt: skip
        self.account_open = True
        return len(done)

    def _plan(self, fact: AccountFact | OrderFact) -> tuple[AccountFact | OrderFact, str, bool]:
        """(fact, intent id, discover): where an order fact goes, and whether it makes its order known."""
        for symbol in fact.symbols if isinstance(fact, AccountFact) else (fact.ref.symbol,):
            if symbol and symbol not in self.registered and symbol not in self.catalogue:
                raise Untranslatable(f"unknown symbol {symbol!r}: not registered on account {self.account_id!r} "
                                     f"and not in the {self.exchange!r} instrument catalogue (ledger instruments "
                                     "load)")  # fmt: skip
        if isinstance(fact, AccountFact):
            return fact, "", False
        ref = fact.ref
        intent_id, known = self.links.resolve(ref)
        if known:
            return fact, intent_id, False
        if ref.order is None:
            raise Untranslatable(f"no order {ref.exchange_order_id!r} on account {self.account_id!r} yet, and the "
                                 "message does not describe the order (it may arrive later: quarantine retry)")  # fmt: skip
        return fact, intent_id, True

    def _record_fact(self, batch: Batch, fact: AccountFact | OrderFact, intent_id: str, discover: bool,
                     added: list[str]) -> int:  # fmt: skip
        """Records one fact (and the instruments it names, first); returns the number of events."""
        ts = fact.event.ts_event
        if isinstance(fact, AccountFact):
            registered = sum(self._ensure_instrument(batch, symbol, ts, added) for symbol in fact.symbols)
            event = msgspec.structs.replace(fact.event, account_id=self.account_id)
            return registered + len(_record_account_fact(batch, event))
        ref = fact.ref
        registered = self._ensure_instrument(batch, ref.symbol, ts, added) if ref.symbol else 0
        done = batch.record_exchange_fact(
            fact.event, exchange_order_id=ref.exchange_order_id if discover else "",
            order=ref.order if discover else None, expect_new=discover, if_changed=fact.if_changed,
            account_id=self.account_id, intent_id=intent_id,
        )  # fmt: skip
        return registered + len(done)

    def _ensure_instrument(self, batch: Batch, symbol: str, ts_event: int, added: list[str]) -> int:
        """Registers the catalogue's instrument on the account the first time it is named; events recorded."""
        if symbol in self.registered:
            return 0
        spec = self.catalogue[symbol]  # `_plan` checked it is there
        done = batch.record_event(ev.AssetRegistered(account_id=self.account_id, asset=spec, ts_event=ts_event,
                                                     ts_recorded=batch._now()))  # fmt: skip
        self.registered[symbol] = spec
        added.append(symbol)
        return len(done)

    def _quarantine(self, source: str, messages: list[_Message]) -> None:
        """Keep the messages that failed (their outcome becomes "quarantined")."""
        failed = [m for m in messages if m.reason]
        if not failed:
            return
        self.tables.quarantine(Quarantined(format=self.format.name, account_id=self.account_id, source=source,
                                           reason=m.reason, raw=m.raw, exchange=self.exchange,
                                           base_currency=self.base_currency) for m in failed)  # fmt: skip
        for m in failed:
            m.outcome = "quarantined"


def _record_account_fact(batch: Batch, e: ev.AccountEvent) -> tuple[ev.Event, ...]:
    """Account facts go through the commands that validate them (numbers within bounds, known symbols)."""
    if isinstance(e, ev.ExchangeBalancesReported):
        return batch.report_exchange_balances(e.account_id, balances=[_plain(x) for x in e.balances],
                                              ts_event=e.ts_event, report_id=e.report_id)  # fmt: skip
    if isinstance(e, ev.ExchangePositionsReported):
        return batch.report_exchange_positions(e.account_id, positions=[_plain(p) for p in e.positions],
                                               ts_event=e.ts_event, report_id=e.report_id)  # fmt: skip
    if isinstance(e, ev.BalanceAdjusted):
        return batch.adjust_balance(e.account_id, asset_id=e.asset_id, amount=e.amount, reason=e.reason,
                                    ts_event=e.ts_event, reference=e.reference)  # fmt: skip
    if isinstance(e, ev.MarkPriceRecorded):
        return batch.record_mark_price(e.account_id, symbol_id=e.symbol_id, price=e.price, ts_event=e.ts_event)
    if isinstance(e, ev.LeverageSet):
        return batch.set_leverage(e.account_id, symbol_id=e.symbol_id, leverage=e.leverage, ts_event=e.ts_event,
                                  reference=e.reference)  # fmt: skip
    return batch.record_event(msgspec.structs.replace(e, ts_recorded=batch._now()))


def _plain(struct: msgspec.Struct) -> dict[str, Any]:
    return {name: getattr(struct, name) for name in struct.__struct_fields__}


@contextmanager
def _frozen_between_batches() -> Iterator[Callable[[], None]]:
    """After each batch, what is alive (above all the ledger's cached aggregates) moves out of the cyclic
    GC's sight (`gc.freeze`): else every full collection walks the whole cache, and with hundreds of
    thousands of aggregates that was a quarter of a large ingest's time. Unfrozen at the end, so nothing
    stays uncollectable; left alone if someone else in this process freezes."""
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _worth_a_worker(stream: IO[bytes]) -> bool:
    """A second process translates while this one records, for a file large enough to repay starting it."""
    if (os.cpu_count() or 1) < 2:
        return False
    try:
        return os.fstat(stream.fileno()).st_size >= WORKER_MIN_BYTES
    except (AttributeError, OSError, io.UnsupportedOperation):  # a pipe, an in-memory stream
        return False
