"""Reading the books: `ledger replay` and `ledger query`, and the closing books `ledger demo` prints.

JSON output uses the seed models' field names, decimals as strings.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click
from rich.table import Table

from adapters.cli.app import UsageError, cli, open_ledger, out
from adapters.projector import project
from adapters.read_tables import FORMAT, ReadTables, ReadTablesError, open_read_tables
from adapters.timeparse import parse_day, parse_time_ns
from kernel.ledger import Ledger
from kernel.lifecycle import TERMINAL
from kernel.streams import account_stream_id
from projections import Books, state_hash
from projections.replay import (
    SNAPSHOT_EVERY,
    Replayed,
    TradingCalendar,
    ensure_snapshots,
    order_at,
    position_at,
    replay,
    replay_day,
    state_at,
)

QUERIES = ("orders", "positions", "balances", "account")


def books_document(replayed: Replayed, account: str | None) -> dict[str, Any]:
    """The `replay --json` object: position, state_hash (of the whole books), orders, positions, accounts."""
    books = replayed.books
    accounts = [a for a in books.account_states() if account in (None, a.account_id)]
    return {
        "position": replayed.position,
        "state_hash": state_hash(books),
        "orders": [v.model_dump(mode="json") for v in books.order_views(account)],
        "positions": [p.model_dump(mode="json") for p in books.positions(account)],
        "accounts": [a.model_dump(mode="json") for a in accounts],
    }


def print_books(books: Books, position: int, account: str | None = None) -> None:
    """Positions, balances and PnL per account, then the state hash."""
    for state in books.account_states():
        if account not in (None, state.account_id):
            continue
        out.print(f"[bold]{state.account_id}[/] on {state.exchange}")
        if state.positions:
            table = Table(title="Open positions", title_justify="left")
            for col in ("symbol", "side", "quantity", "entry", "mark", "unrealized", "realized", "liq. est."):
                table.add_column(col, justify="left" if col in ("symbol", "side") else "right")
            for p in state.positions:
                a = p.asset
                table.add_row(p.symbol_id, p.side or "", _n(a.quantity), _n(a.entry_price), _n(a.mark_price),
                              _n(a.unrealized_pnl), _n(a.realized_pnl), _n(a.liquidation_price))  # fmt: skip
            out.print(table)
        table = Table(title="Balances", title_justify="left")
        for col in ("asset", "total", "locked", "available"):
            table.add_column(col, justify="left" if col == "asset" else "right")
        for b in state.balances:
            table.add_row(b.asset_id, _n(b.total), _n(b.locked), _n(b.available))
        out.print(table)
        figures = [("realized PnL", state.total_realized_pnl), ("unrealized PnL", state.total_unrealized_pnl),
                   ("equity", state.total_equity), ("margin used", state.total_margin_used),
                   ("available margin", state.total_available_margin), ("margin level", state.margin_level)]
        out.print("  ".join(f"{name} {_n(value)}" for name, value in figures if value is not None))
    statuses = Counter(str(v.state.status) for v in books.order_views(account))
    out.print("orders: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())))
    out.print(f"position {position}  state_hash [bold]{state_hash(books)}[/]", soft_wrap=True)


def _n(value: Any) -> str:
    return "" if value is None else str(value)


def _at(ledger: Ledger, *, day: str | None, until: str | None, position: int | None, until_option: str = "--until",
        **day_opts: Any) -> Replayed:  # fmt: skip
    chosen = [name for name, v in (("--day", day), (until_option, until), ("--position", position)) if v is not None]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)}: give at most one")
    try:
        if day is not None:
            closing = replay_day(ledger, parse_day(day), evict=False, **day_opts)
            return Replayed(closing.books, closing.closing_position)
    except ValueError as e:
        raise day_usage_error(e, chosen[0]) from None
    if until is not None:
        position = _position_at(ledger, until, until_option)
    if position is not None:
        return state_at(ledger, position=position, evict=False)
    return replay(ledger, evict=False)  # every order listed: see `projections` (Memory)


def day_usage_error(error: ValueError, option: str = "--day") -> UsageError:
    """A trading day's ValueError as the CLI says it: the calendar names --cutoff or --tz itself; anything
    else is about the day given with `option`."""
    message = str(error)
    if message.startswith(("cutoff:", "tz:")):
        return UsageError(f"--{message}")
    return UsageError(f"{option} {message}")


def _position_at(ledger: Ledger, time: str, option: str) -> int:
    """The log position as of TIME (the last event recorded at or before it)."""
    try:
        return position_at(ledger, parse_time_ns(time))
    except ValueError as e:
        raise UsageError(f"{option} {e}") from None


def _tables_at(ledger: Ledger, position: int) -> ReadTables | None:
    """The read tables if they hold the books as of `position` (built, this format, projected that far);
    else None, and the books are folded instead (`state_at`): the answer is the same, only slower."""
    if store_is_memory(ledger):
        return None
    tables = open_read_tables(ledger)
    try:
        if tables.stored_format() == FORMAT and tables.covers(position):
            return tables
    except ReadTablesError:  # not built yet
        pass
    tables.close()
    return None


@cli.command("replay")
@click.option("--day", metavar="YYYY-MM-DD", help="The books at the close of that trading day.")
@click.option("--until", metavar="TIME", help="The books as of TIME (ISO 8601 or integer ns; UTC if no zone).")
@click.option("--position", type=click.IntRange(min=0), help="The books as of this log position.")
@click.option("--cutoff", default="00:00", show_default=True, metavar="HH:MM", help="Trading-day cut-off.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of the cut-off.")
@click.option("--account", help="Only this account's orders, positions and account state.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (decimals as strings).")
@click.pass_obj
def replay_command(store_url: str, day: str | None, until: str | None, position: int | None, cutoff: str,
                   tz: str, account: str | None, as_json: bool) -> None:  # fmt: skip
    """Fold the log into the books, from the start or as of a day, time or position."""
    with open_ledger(store_url) as ledger:
        replayed = _at(ledger, day=day, until=until, position=position, cutoff=cutoff, tz=tz)
    _check_account(replayed.books.account_ids(), account)
    if as_json:
        click.echo(json.dumps(books_document(replayed, account)))
    else:
        print_books(replayed.books, replayed.position, account)


@cli.command()
@click.argument("what", type=click.Choice(QUERIES))
@click.option("--account", help="Only this account.")
@click.option("--symbol", help="Only this symbol (orders, positions).")
@click.option("--order", "intent_id", metavar="INTENT_ID", help="Only this order (orders, with --account); as of a "
              "time it is folded from its own stream, by index.")  # fmt: skip
@click.option("--open", "open_only", is_flag=True, help="Only open orders / open positions.")
@click.option("--as-of", "as_of", metavar="TIME", help="As of TIME (ISO 8601 or integer ns) instead of now.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list (decimals as strings).")
@click.pass_obj
def query(store_url: str, what: str, account: str | None, symbol: str | None, intent_id: str | None,
          open_only: bool, as_of: str | None, as_json: bool) -> None:  # fmt: skip
    """Orders, positions, balances or account state: now from the read tables (`ledger project` keeps
    them current), or as of a time: from the read tables' history where it reaches, else folded from the log."""
    if intent_id is not None and (what != "orders" or account is None):
        raise UsageError("--order: for orders, with --account (an order is named by its account and intent id)")
    with open_ledger(store_url) as ledger:
        if as_of is not None and intent_id is not None:
            position = _position_at(ledger, as_of, "--as-of")
            assert account is not None
            rows = _order_rows_at(ledger, account, intent_id, position, symbol, open_only)
        elif as_of is not None:
            position = _position_at(ledger, as_of, "--as-of")
            tables = _tables_at(ledger, position) if what != "orders" else None  # orders have no history
            rows = None
            if tables is not None:
                with tables:
                    try:
                        known = tables.account_ids_at(position)
                        rows = _rows_from_tables(tables, what, account, symbol, open_only, position)
                    except ReadTablesError:  # reset or rebuilt meanwhile: fold instead
                        pass
                if rows is not None:
                    _check_account(known, account)
            if rows is None:
                books = state_at(ledger, position=position, evict=False).books
                _check_account(books.account_ids(), account)
                rows = _rows_from_books(books, what, account, symbol, open_only)
        else:
            try:
                with _tables(ledger) as tables:
                    _check_account([a.account_id for a in tables.accounts()], account)
                    rows = _rows_from_tables(tables, what, account, symbol, open_only, intent_id=intent_id)
                    behind = ledger.head() - tables.position()
            except ReadTablesError as e:
                raise UsageError(str(e)) from None
            if behind > 0:
                click.echo(f"note: the read tables are {behind} event(s) behind the log; run `ledger project`",
                           err=True)  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows))
        return
    _print_rows(what, rows)


@cli.command("project")
@click.option("--follow", is_flag=True, help="Keep the read tables current until interrupted (Ctrl-C).")
@click.option("--batch-size", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Events per transaction.")  # fmt: skip
@click.option("--snapshot-every", type=click.IntRange(min=0), default=SNAPSHOT_EVERY, show_default=True,
              help="Store a projection snapshot every N events (0: only at trading-day boundaries).")  # fmt: skip
@click.option("--cutoff", default="00:00", show_default=True, metavar="HH:MM", help="Trading-day cut-off.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of the cut-off.")
@click.pass_obj
def project_command(store_url: str, follow: bool, batch_size: int, snapshot_every: int, cutoff: str,
                    tz: str) -> None:  # fmt: skip
    """Bring the read tables (orders, positions, balances, accounts) to the head of the log, and store the
    projection snapshots that as-of queries start from (every N events and at each day's close)."""
    if store_url.startswith("memory:"):
        raise UsageError("project: a memory:// store has no read tables that outlive this command")
    try:
        TradingCalendar(cutoff, tz)
    except ValueError as e:
        raise UsageError(f"--{e}") from None
    with open_ledger(store_url) as ledger:
        position = project(ledger, follow=follow, batch_size=batch_size, on_retry=_say_retrying)
        written = ensure_snapshots(ledger, every=snapshot_every, cutoff=cutoff, tz=tz)
    click.echo(f"read tables at position {position}; {len(written)} new snapshot(s)")


def _say_retrying(error: BaseException, delay_s: float) -> None:
    why = " ".join(f"{type(error).__name__}: {error}".split())
    click.echo(f"note: lost the connection to the store ({why}); starting again in {delay_s:g} s", err=True)


def _tables(ledger: Ledger) -> ReadTables:
    tables = open_read_tables(ledger)
    if store_is_memory(ledger):  # nothing persists in memory: build them now
        tables.create()
        project(ledger, tables=tables, handle_signals=False)
    return tables


def store_is_memory(ledger: Ledger) -> bool:
    return ledger.store_url.startswith("memory:")


def _check_account(known: list[str], account: str | None) -> None:
    if account is not None and account not in known:
        raise UsageError(f"--account: unknown account {account!r}")


def _rows_from_books(books: Books, what: str, account: str | None, symbol: str | None,
                     open_only: bool) -> list[dict]:  # fmt: skip
    if what == "orders":
        views = books.order_views(account, open_only=open_only)
        return [v.model_dump(mode="json") for v in views if symbol in (None, v.order.symbol)]
    if what == "positions":
        positions = books.positions(account, open_only=open_only)
        return [p.model_dump(mode="json") for p in positions if symbol in (None, p.symbol_id)]
    if what == "balances":
        ids = [account] if account else books.account_ids()
        return [{"account_id": a, **b.model_dump(mode="json")} for a in ids for b in books.balances(a)]
    return [s.model_dump(mode="json") for s in books.account_states() if account in (None, s.account_id)]


def _order_rows_at(ledger: Ledger, account: str, intent_id: str, position: int, symbol: str | None,
                   open_only: bool) -> list[dict]:  # fmt: skip
    """One order as of `position`, from its stream (none if it did not exist yet or the filters leave it out)."""
    opened = ledger.read_stream(account_stream_id(account), limit=1)  # the account's opening: its position
    if not opened or opened[0][0] > position:
        raise UsageError(f"--account: unknown account {account!r}")
    view = order_at(ledger, account, intent_id, position)
    if view is None or symbol not in (None, view.order.symbol) or (open_only and view.state.status in TERMINAL):
        return []
    return [view.model_dump(mode="json")]


def _rows_from_tables(tables: ReadTables, what: str, account: str | None, symbol: str | None,
                      open_only: bool, position: int | None = None, *, intent_id: str | None = None) -> list[dict]:  # fmt: skip
    """The rows now, or as of `position` (the history: not for orders)."""
    if what == "orders":
        assert position is None, "orders have no history"
        views = tables.orders(account, symbol=symbol, open_only=open_only, intent_id=intent_id)
        return [v.model_dump(mode="json") for v in views]
    if what == "positions":
        rows = (tables.positions(account, symbol=symbol, open_only=open_only) if position is None else
                tables.positions_at(position, account, symbol=symbol, open_only=open_only))  # fmt: skip
        return [r.position.model_dump(mode="json") for r in rows]
    if what == "balances":
        found = tables.balances(account) if position is None else tables.balances_at(position, account)
        return [{"account_id": r.account_id, **r.balance.model_dump(mode="json")} for r in found]
    states = tables.accounts(account) if position is None else tables.accounts_at(position, account)
    return [s.model_dump(mode="json") for s in states]


def _print_rows(what: str, rows: list[dict]) -> None:
    columns = {
        "orders": ("account_id", "intent_id", "state.status", "order.symbol", "order.side", "quantity",
                   "filled_quantity", "average_fill_price", "anomalies"),
        "positions": ("position_id", "symbol_id", "side", "asset.quantity", "asset.entry_price",
                      "asset.unrealized_pnl", "asset.realized_pnl"),
        "balances": ("account_id", "asset_id", "total", "locked", "available"),
        "account": ("account_id", "exchange", "total_equity", "total_margin_used", "total_realized_pnl",
                    "total_unrealized_pnl"),
    }[what]  # fmt: skip
    table = Table()
    for col in columns:
        table.add_column(col.rsplit(".", 1)[-1])
    for row in rows:
        table.add_row(*(_cell(row, col) for col in columns))
    out.print(table)
    out.print(f"{len(rows)} {what if len(rows) != 1 else what.rstrip('s')}")


def _cell(row: dict, path: str) -> str:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
