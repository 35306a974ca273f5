"""The `ledger` command: parse, call the kernel, print. Human output by default, `--json` for machines.

Exit codes: 0 ok, 1 runtime failure (e.g. the store is unreachable), 2 bad usage or bad input.
Errors are one line on stderr.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters.demo import DemoDay, Step
from kernel import events as ev
from kernel.errors import LedgerError, RequestRefused, StoreConfigError
from kernel.ledger import Ledger
from kernel.order import Order
from kernel.stores import resolve_store_url

PROGRESS_MIN_STEPS = 2_000  # shorter runs finish before a bar would be worth drawing
DEMO_BATCH_STEPS = 500  # commands per transaction while recording the demo day

out = Console()


class UsageError(click.UsageError):
    """Bad input: exit code 2, one line."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", "store_url", metavar="URL", default=None,
              help="Store URL (memory://, sqlite:///PATH, postgresql://...); "
                   "default $LEDGER_STORE_URL, else sqlite:///./ledger.db")  # fmt: skip
@click.pass_context
def cli(ctx: click.Context, store_url: str | None) -> None:
    """Event-sourced ledger for a trading system's exchange kernel."""
    ctx.obj = resolve_store_url(store_url)


def open_ledger(store_url: str, **kwargs: Any) -> Ledger:
    try:
        return Ledger.open(store_url, **kwargs)
    except StoreConfigError as e:
        raise UsageError(str(e)) from None


@cli.command()
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same events.")
@click.option("--orders", type=click.IntRange(min=1, max=1_000_000), default=40, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def demo(store_url: str, seed: int, orders: int, as_json: bool) -> None:
    """Record a deterministic simulated trading day into the store."""
    try:
        day = DemoDay(seed=seed, orders=orders)
    except ValueError as e:
        raise UsageError(str(e)) from None
    with open_ledger(store_url, clock=day.clock) as ledger:
        if ledger.order("demo-spot", day.first_intent_id()) or ledger.order("demo-perp", day.first_intent_id()):
            _say(as_json, {"store": store_url, "seed": seed, "recorded": 0, "note": "already recorded"},
                 f"The demo day for seed {seed} is already recorded in {store_url}; nothing to do.")
            return
        counts, duplicates, steps = _record_day(ledger, day, show_progress=not as_json)
        orders_by_status, anomalies = _order_outcomes(ledger)
        summary = {
            "store": store_url, "seed": seed, "commands": steps, "recorded": sum(counts.values()),
            "duplicates": duplicates, "events": dict(sorted(counts.items())),
            "orders": dict(sorted(orders_by_status.items())), "anomalies": dict(sorted(anomalies.items())),
            "head": ledger.head(),
        }  # fmt: skip
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    _print_demo(summary)


def _record_day(ledger: Ledger, day: DemoDay, *, show_progress: bool) -> tuple[Counter[str], int, int]:
    counts: Counter[str] = Counter()
    duplicates = 0
    steps = day.steps()
    progress = Progress(TextColumn("recording"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True), transient=True,
                        disable=not show_progress or len(steps) < PROGRESS_MIN_STEPS)  # fmt: skip
    with progress:
        task = progress.add_task("day", total=len(steps))
        for start in range(0, len(steps), DEMO_BATCH_STEPS):
            chunk = steps[start : start + DEMO_BATCH_STEPS]
            with ledger.batch() as batch:
                for step in chunk:
                    day.now_ns = step.ts_event
                    recorded = _call(batch, step)
                    duplicates += not recorded
                    counts.update(type(e).__name__ for e in recorded)
            progress.advance(task, len(chunk))
    return counts, duplicates, len(steps)


def _order_outcomes(ledger: Ledger) -> tuple[Counter[str], Counter[str]]:
    """Final status and anomaly flags of every order, folded from the log in one pass."""
    orders: dict[tuple[str, str], Order] = {}
    for _, e in ledger.read():
        if isinstance(e, ev.OrderEvent):
            key = (e.account_id, e.intent_id)
            order = orders.get(key) or orders.setdefault(key, Order(*key))
            order.apply(e)
    by_status = Counter(str(o.status) for o in orders.values())
    anomalies = Counter(flag for o in orders.values() for flag in o.anomalies)
    return by_status, anomalies


def _call(target: Any, step: Step) -> tuple[ev.Event, ...]:
    return getattr(target, step.method)(*step.args, **step.kwargs)


def _print_demo(s: dict[str, Any]) -> None:
    out.print(f"Recorded the demo trading day (seed {s['seed']}) into [bold]{s['store']}[/]")
    table = Table(title="Events recorded", show_footer=True)
    table.add_column("event", footer="total")
    table.add_column("count", justify="right", footer=str(s["recorded"]))
    for name, count in s["events"].items():
        table.add_row(name, str(count))
    out.print(table)
    orders = Table(title="Orders by status")
    orders.add_column("status")
    orders.add_column("orders", justify="right")
    for status, count in s["orders"].items():
        orders.add_row(status, str(count))
    out.print(orders)
    out.print(f"{s['commands']} commands; {s['duplicates']} duplicate(s) recognised and not recorded again; "
              f"log head at notification {s['head']}.")  # fmt: skip
    if s["anomalies"]:
        out.print("Flagged: " + ", ".join(f"{k} ×{v}" for k, v in s["anomalies"].items()))


@cli.command()
@click.option("--after", type=click.IntRange(min=0), default=0, help="Start after this notification id.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (decimals as strings).")
@click.pass_obj
def log(store_url: str, after: int, limit: int, as_json: bool) -> None:
    """Show the event log in order."""
    with open_ledger(store_url) as ledger:
        rows = []
        for position, event in ledger.read(after=after, until=None, page_size=min(limit, 10_000)):
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


def _say(as_json: bool, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data) if as_json else text)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one clear line and the right exit code for every failure."""
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:  # usage errors and bad input
        click.echo(f"error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except (RequestRefused, StoreConfigError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except (LedgerError, OSError, Exception) as e:  # the store failed or another runtime fault
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        click.echo(f"error: {type(e).__name__}: {message}", err=True)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
