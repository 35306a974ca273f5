"""`ledger log`: the event log as recorded, in order, narrowed to what an audit asks about -- an account,
one order's whole history, some event types, a trading day or a time range. Every line keeps its position
in the log (what `ledger replay --position` takes)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import click
from rich.table import Table

from adapters.cli.app import UsageError, cli, open_ledger, out
from adapters.cli.books import day_usage_error
from adapters.timeparse import parse_day, parse_time_ns
from kernel import events as ev
from kernel.ledger import READ_PAGE_SIZE, Ledger
from kernel.streams import order_stream_id
from projections.replay import day_bounds, position_at


@cli.command()
@click.option("--after", type=click.IntRange(min=0), default=0, help="Start after this notification id.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--account", help="Only this account's events (its orders' too).")
@click.option("--order", "intent_id", metavar="INTENT_ID",
              help="Only this order's events, from its stream (with --account; ext:<exchange order id> for an "
                   "external order).")  # fmt: skip
@click.option("--type", "types", multiple=True, metavar="NAME", help="Only events of this type, e.g. OrderFilled "
              "(repeatable).")  # fmt: skip
@click.option("--day", metavar="YYYY-MM-DD", help="Only that trading day's events (--cutoff, --tz).")
@click.option("--since", metavar="TIME", help="Only events recorded at or after TIME (ISO 8601 or integer ns).")
@click.option("--until", metavar="TIME", help="Only events recorded at or before TIME.")
@click.option("--cutoff", default="00:00", show_default=True, metavar="HH:MM", help="Trading-day cut-off.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of the cut-off.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (decimals as strings).")
@click.pass_obj
def log(store_url: str, after: int, limit: int, account: str | None, intent_id: str | None, types: tuple[str, ...],
        day: str | None, since: str | None, until: str | None, cutoff: str, tz: str, as_json: bool) -> None:  # fmt: skip
    """Show the event log in order (filtered by account, order, type, day or time)."""
    if intent_id is not None and account is None:
        raise UsageError("--order: give --account too (an order is named by its account and its intent id)")
    if day is not None and (since is not None or until is not None):
        raise UsageError("--day: give either --day or --since/--until")
    classes = _event_classes(types)
    with open_ledger(store_url) as ledger:
        if account is not None and ledger.account(account) is None:
            raise UsageError(f"--account: unknown account {account!r}")
        bounds = _bounds(ledger, after, day, since, until, cutoff, tz)
        rows = []
        if bounds is not None:
            for position, event in _events(ledger, bounds, account, intent_id, classes, limit):
                rows.append((position, event))
                if len(rows) >= limit:
                    break
    if as_json:
        for position, event in rows:
            click.echo(json.dumps({"position": position, **ev.to_builtins(event)}))
        return
    table = Table()
    for col in ("position", "event", "account", "intent", "ts_event (ns)"):
        table.add_column(col)
    for position, event in rows:
        table.add_row(str(position), type(event).__name__, event.account_id,  # type: ignore[attr-defined]
                      getattr(event, "intent_id", ""), str(event.ts_event))  # fmt: skip
    out.print(table)


def _event_classes(names: tuple[str, ...]) -> tuple[type[ev.Event], ...]:
    unknown = [name for name in names if name not in ev.CATALOGUE]
    if unknown:
        raise UsageError(f"--type: unknown event type {unknown[0]!r} (one of {', '.join(sorted(ev.CATALOGUE))})")
    return tuple(ev.CATALOGUE[name] for name in dict.fromkeys(names))


def _bounds(ledger: Ledger, after: int, day: str | None, since: str | None, until: str | None, cutoff: str,
            tz: str) -> tuple[int, int | None] | None:  # fmt: skip
    """The positions (after, until] to show, None when the range holds no event."""
    last: int | None = None
    try:
        if day is not None:
            found = day_bounds(ledger, parse_day(day), cutoff, tz)
            if found is None:
                return None
            after, last = max(after, found[0] - 1), found[1]
    except ValueError as e:
        raise day_usage_error(e) from None
    for option, text in (("--since", since), ("--until", until)):
        if text is None:
            continue
        try:
            ts_ns = parse_time_ns(text)
        except ValueError as e:
            raise UsageError(f"{option} {e}") from None
        if option == "--since":
            after = max(after, position_at(ledger, ts_ns - 1))  # the first event at or after it follows
        else:
            last = position_at(ledger, ts_ns)
    if last is not None and last <= after:
        return None
    return after, last


def _events(ledger: Ledger, bounds: tuple[int, int | None], account: str | None, intent_id: str | None,
            classes: tuple[type[ev.Event], ...], limit: int) -> Iterator[tuple[int, ev.Event]]:  # fmt: skip
    after, last = bounds
    if intent_id is not None:
        assert account is not None
        stream = ledger.read_stream(order_stream_id(account, intent_id))
        if not stream:
            raise UsageError(f"--order: no order {intent_id!r} on account {account!r}")
        for position, event in stream:  # version order, which is position order
            if after < position and (last is None or position <= last) and (not classes or type(event) in classes):
                yield position, event
        return
    topics = tuple(topic for cls in classes for topic in ev.topics_of(cls))
    # every row read is shown unless an account filters them here: then full pages
    page_size = READ_PAGE_SIZE if account is not None else min(limit, READ_PAGE_SIZE)
    for position, event in ledger.read(after=after, until=last, topics=topics, page_size=page_size):
        if account is None or event.account_id == account:  # type: ignore[attr-defined]
            yield position, event
