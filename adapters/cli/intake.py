"""Taking exchange messages in: `ledger ingest`, `ledger instruments`, `ledger quarantine`,
`ledger reconcile`."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters import event_log
from adapters.cli.app import UsageError, cli, open_ledger, out
from adapters.cli.books import store_is_memory
from adapters.ingest.pipeline import DEFAULT_BASE_CURRENCY, INGEST_BATCH_MESSAGES, Ingest, IngestError, IngestSummary
from adapters.ingest.reconcile import reconcile
from adapters.ingest.tables import IngestTables, open_ingest_tables
from adapters.projector import project
from adapters.translate import FORMAT_NAMES, INSTRUMENT_FORMAT_NAMES, get_format
from kernel.exchange.models import AssetMetadata
from kernel.ledger import Ledger

PROGRESS_MIN_BYTES = 4 << 20  # smaller files finish before a bar would be worth drawing


def _tables(ledger: Ledger) -> contextlib.closing[IngestTables]:
    return contextlib.closing(open_ingest_tables(ledger))


@contextlib.contextmanager
def _opened(names: tuple[str, ...]) -> Iterator[list[tuple[str, IO[bytes], int]]]:
    """Every file opened before anything is recorded (a missing file fails the command up front)."""
    handles: list[tuple[str, IO[bytes], int]] = []
    try:
        for name in names:
            if name == "-":
                handles.append(("-", sys.stdin.buffer, 0))
                continue
            try:
                handle = open(name, "rb")  # noqa: SIM115 - closed below
            except OSError as e:
                raise UsageError(f"{name}: {e.strerror}") from None
            handles.append((name, handle, os.fstat(handle.fileno()).st_size))
        yield handles
    finally:
        for name, handle, _ in handles:
            if name != "-":
                handle.close()


# ------------------------------------------------------------------------------------------- ingest
@cli.command()
@click.option("--format", "fmt", type=click.Choice([*FORMAT_NAMES, "events"]), required=True,
              help="fix: FIX 4.4 drop copy; binance / binance-futures: user data stream JSON lines; ccxt: ccxt "
                   "structures as JSON lines; events: the ledger's own format (`ledger export`).")  # fmt: skip
@click.option("--account", help="The account the messages belong to (opened if new; not for --format events).")
@click.option("--exchange", help="Exchange of a new account and of its instrument catalogue [default: the format's].")
@click.option("--base-currency", default=DEFAULT_BASE_CURRENCY, show_default=True, help="Of a new account.")
@click.option("--batch", "batch_messages", type=click.IntRange(min=1), default=INGEST_BATCH_MESSAGES,
              show_default=True, help="Messages per transaction.")  # fmt: skip
@click.option("--no-project", is_flag=True, help="Do not bring the read tables up to date afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True, dir_okay=False))
@click.pass_obj
def ingest(store_url: str, fmt: str, account: str | None, exchange: str | None, base_currency: str,
           batch_messages: int, no_project: bool, as_json: bool, files: tuple[str, ...]) -> None:  # fmt: skip
    """Record exchange messages (`-` reads standard input). Messages that cannot be recorded are kept in
    quarantine with the reason; re-running the same files records nothing new."""
    if fmt == "events":
        if account or exchange:
            raise UsageError("--account and --exchange do not apply to --format events (events name their accounts)")
        summary = _ingest_events(store_url, files)
    else:
        if not account:
            raise UsageError(f"--format {fmt} needs --account")
        summary = _ingest_messages(store_url, fmt, account, exchange, base_currency, batch_messages, files,
                                   project_after=not no_project, show_progress=not as_json)  # fmt: skip
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    out.print(f"recorded {summary.recorded}, duplicates {summary.duplicates}, skipped {summary.skipped}, "
              f"quarantined {summary.quarantined} ({summary.events} events recorded)")  # fmt: skip
    for reason, n in sorted(summary.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
        out.print(f"  quarantined ×{n}: {reason}", markup=False, highlight=False)
    if summary.quarantined:
        out.print("See them with `ledger quarantine list`; `ledger quarantine retry` records them once fixed "
                  "(e.g. after `ledger instruments load`).")  # fmt: skip


def _ingest_events(store_url: str, files: tuple[str, ...]) -> IngestSummary:
    total = IngestSummary()
    with _opened(files) as handles, open_ledger(store_url) as ledger:
        for name, handle, _ in handles:
            try:
                done = event_log.ingest(ledger, event_log.read_lines(handle, name))
            except event_log.BadLine as e:
                raise UsageError(str(e)) from None
            total.recorded += done.recorded
            total.duplicates += done.duplicates
            total.events += done.recorded
    return total


def _ingest_messages(store_url: str, fmt: str, account: str, exchange: str | None, base_currency: str,
                     batch_messages: int, files: tuple[str, ...], *, project_after: bool,
                     show_progress: bool) -> IngestSummary:  # fmt: skip
    total = IngestSummary()
    with _opened(files) as handles, open_ledger(store_url) as ledger, _tables(ledger) as tables:
        try:
            run = Ingest(ledger, tables, get_format(fmt), account, exchange=exchange, base_currency=base_currency,
                         batch_messages=batch_messages)  # fmt: skip
        except IngestError as e:
            raise UsageError(str(e)) from None
        size = sum(n for _, _, n in handles)
        progress = Progress(TextColumn("ingesting"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True,
                            disable=not show_progress or size < PROGRESS_MIN_BYTES)  # fmt: skip
        with progress:
            task = progress.add_task("files", total=size or None)
            for name, handle, _ in handles:
                total.add(run.ingest_file(name, handle, on_bytes=lambda n: progress.advance(task, n)))
        if project_after and total.events and not store_is_memory(ledger):
            project(ledger, handle_signals=False)  # what `ledger query` reads
    return total


# ------------------------------------------------------------------------------------------- instruments
@cli.group()
def instruments() -> None:
    """The instrument catalogue: base/quote/settlement assets, contract size, tick and lot sizes."""


@instruments.command("load")
@click.option("--format", "fmt", type=click.Choice(INSTRUMENT_FORMAT_NAMES), required=True,
              help="binance / binance-futures: the exchangeInfo JSON; ccxt: a ccxt `markets` JSON.")  # fmt: skip
@click.option("--exchange", help="The catalogue to load into [default: the format's exchange].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False))
@click.pass_obj
def instruments_load(store_url: str, fmt: str, exchange: str | None, as_json: bool, file: str) -> None:
    """Load an exchange's instrument file into the catalogue. Accounts register an instrument from it the
    first time an ingest meets its symbol."""
    form = get_format(fmt)
    assert form.load_instruments is not None
    with _opened((file,)) as handles:
        data = handles[0][1].read()
    try:
        specs = form.load_instruments(data)
    except ValueError as e:
        raise UsageError(f"{file}: {e}") from None
    for spec in specs:  # the catalogue holds only what an account could register
        try:
            AssetMetadata.model_validate({k: getattr(spec, k) for k in AssetMetadata.model_fields})
        except ValueError as e:
            raise UsageError(f"{file}: instrument {spec.symbol!r}: {' '.join(str(e).split())}") from None
    name = exchange or form.exchange
    with open_ledger(store_url) as ledger, _tables(ledger) as tables:
        added, changed, same = tables.put_instruments(name, specs)
    summary = {"exchange": name, "instruments": len(specs), "added": added, "changed": changed, "unchanged": same}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        out.print(f"{name}: {len(specs)} instruments read; {added} added, {changed} changed, {same} unchanged")


@instruments.command("list")
@click.option("--exchange", help="Only this catalogue.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list (decimals as strings).")
@click.pass_obj
def instruments_list(store_url: str, exchange: str | None, as_json: bool) -> None:
    """Show the instrument catalogue."""
    with open_ledger(store_url) as ledger, _tables(ledger) as tables:
        names = [exchange] if exchange else list(tables.exchanges())
        rows = [(name, spec) for name in names for spec in tables.instruments(name).values()]
    if as_json:
        import msgspec

        click.echo(json.dumps([{"exchange": n, **msgspec.to_builtins(s)} for n, s in rows]))
        return
    table = Table()
    for col in ("exchange", "symbol", "type", "base", "quote", "settles in", "contract size", "tick", "lot"):
        table.add_column(col)
    for name, s in rows:
        table.add_row(name, s.symbol, s.asset_type, s.base_asset or "", s.quote_asset or "", s.settlement_asset or "",
                      _s(s.contract_size), _s(s.tick_size), _s(s.lot_size))  # fmt: skip
    out.print(table)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


# ------------------------------------------------------------------------------------------- quarantine
@cli.group()
def quarantine() -> None:
    """Messages kept raw because they could not be recorded, with the reason."""


@quarantine.command("list")
@click.option("--account", help="Only this account's.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), help="Only this format's.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list; `raw` is the message as text where it is "
              "UTF-8, else `raw_hex`.")  # fmt: skip
@click.pass_obj
def quarantine_list(store_url: str, account: str | None, fmt: str | None, as_json: bool) -> None:
    """Show quarantined messages."""
    with open_ledger(store_url) as ledger, _tables(ledger) as tables:
        entries = tables.quarantined(account_id=account, fmt=fmt)
    if as_json:
        click.echo(json.dumps([{"id": e.id, "format": e.format, "account_id": e.account_id, "exchange": e.exchange,
                                "source": e.source,
                                "reason": e.reason, "ts_recorded": e.ts_recorded, **_raw(e.raw)} for e in entries]))
        return
    table = Table(title=f"{len(entries)} quarantined message(s)")
    for col in ("id", "format", "account", "source", "reason", "message"):
        table.add_column(col, overflow="fold")
    for e in entries:
        text = _raw(e.raw).get("raw", "<binary, %d bytes>" % len(e.raw))
        table.add_row(str(e.id), e.format, e.account_id, e.source, e.reason,
                      text[:120] + ("…" if len(text) > 120 else ""))  # fmt: skip
    out.print(table, markup=False, highlight=False)


def _raw(data: bytes) -> dict[str, str]:
    try:
        return {"raw": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw_hex": data.hex()}


@quarantine.command("retry")
@click.option("--account", help="Only this account's.")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), help="Only this format's.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def quarantine_retry(store_url: str, account: str | None, fmt: str | None, as_json: bool) -> None:
    """Ingest quarantined messages again (e.g. after loading instruments); those that now record, or are
    found to be duplicates, leave the quarantine."""
    total, released_total = IngestSummary(), 0
    with open_ledger(store_url) as ledger, _tables(ledger) as tables:
        entries = tables.quarantined(account_id=account, fmt=fmt)
        groups: dict[tuple[str, str, str, str], list[Any]] = {}
        for e in entries:  # retried as they were ingested: same format, account, exchange, base currency
            groups.setdefault((e.format, e.account_id, e.exchange, e.base_currency), []).append(e)
        for (name, account_id, exchange, base_currency), group in sorted(groups.items()):
            try:
                run = Ingest(ledger, tables, get_format(name), account_id, exchange=exchange or None,
                             base_currency=base_currency or DEFAULT_BASE_CURRENCY)  # fmt: skip
            except IngestError as e:
                raise UsageError(str(e)) from None
            summary, released = run.retry(group)
            released_total += tables.release(released)
            total.add(summary)
        if total.events and not store_is_memory(ledger):
            project(ledger, handle_signals=False)
    result = {**total.as_dict(), "released": released_total, "remaining": total.quarantined}
    if as_json:
        click.echo(json.dumps(result))
    else:
        out.print(f"retried {len(entries)}: recorded {total.recorded}, duplicates {total.duplicates}, skipped "
                  f"{total.skipped}; {total.quarantined} still quarantined")  # fmt: skip


# ------------------------------------------------------------------------------------------- reconcile
@cli.command("reconcile")
@click.option("--account", help="Only this account.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of differences (decimals as strings).")
@click.pass_obj
def reconcile_command(store_url: str, account: str | None, as_json: bool) -> None:
    """Every asset or position where the exchange's latest report matches the ledger neither at the
    report's place in the log nor now."""
    with open_ledger(store_url) as ledger:
        if account is not None and ledger.account(account) is None:
            raise UsageError(f"unknown account {account!r}")
        differences = reconcile(ledger, account)
    if as_json:
        click.echo(json.dumps([d.as_json() for d in differences]))
        return
    if not differences:
        out.print("The ledger agrees with the latest exchange reports.")
        return
    table = Table(title=f"{len(differences)} difference(s): ledger − exchange")
    numbers = ("ledger", "exchange", "difference", "ledger now")
    for col in ("account", "kind", "asset / symbol", *numbers, "reported at (ns)"):
        table.add_column(col, justify="right" if col in numbers else "left")
    for d in differences:
        table.add_row(d.account_id, d.kind, d.key, str(d.ledger), str(d.exchange), str(d.difference),
                      str(d.ledger_now), str(d.reported_at))  # fmt: skip
    out.print(table)

