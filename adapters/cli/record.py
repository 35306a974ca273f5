"""Recording commands: `ledger demo`, `ledger export` (`ledger ingest` is in `intake`, `ledger log` in `audit`)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from adapters import event_log
from adapters.cli.app import UsageError, cli, open_ledger, out
from adapters.cli.books import print_books, store_is_memory
from adapters.demo import DemoDay, Step
from adapters.projector import project
from kernel import events as ev
from kernel.ledger import Ledger
from projections import state_hash
from projections.replay import ensure_snapshots, replay

PROGRESS_MIN_STEPS = 2_000  # shorter runs finish before a bar would be worth drawing
DEMO_BATCH_STEPS = 500  # commands per transaction while recording the demo day

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
        replayed = replay(ledger, evict=False)  # the summary counts every order of the day
        if not store_is_memory(ledger):
            project(ledger, handle_signals=False)  # the read tables `ledger query` reads
            ensure_snapshots(ledger)  # where as-of queries start
        orders_by_status = Counter(str(v.state.status) for v in replayed.books.order_views())
        anomalies = Counter(flag for v in replayed.books.order_views() for flag in v.anomalies)
        summary = {
            "store": store_url, "seed": seed, "commands": steps, "recorded": sum(counts.values()),
            "duplicates": duplicates, "events": dict(sorted(counts.items())),
            "orders": dict(sorted(orders_by_status.items())), "anomalies": dict(sorted(anomalies.items())),
            "head": ledger.head(), "state_hash": state_hash(replayed.books),
        }  # fmt: skip
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    _print_demo(summary)
    out.print()
    print_books(replayed.books, replayed.position)


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


def _say(as_json: bool, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data) if as_json else text)




@cli.command()
@click.option("--format", "fmt", type=click.Choice(["events"]), default="events", show_default=True,
              help="The ledger's own event format (JSON lines).")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE instead of standard output.")  # fmt: skip
@click.option("--after", type=click.IntRange(min=0), default=0, help="Start after this position.")
@click.pass_obj
def export(store_url: str, fmt: str, output: Path | None, after: int) -> None:
    """Write the event log, in order, in the ledger's own format."""
    with open_ledger(store_url) as ledger:
        if output is None:
            count = event_log.export(ledger, sys.stdout.buffer, after=after)
        else:
            with output.open("wb") as handle:
                count = event_log.export(ledger, handle, after=after)
            click.echo(f"Exported {count} events to {output}", err=True)
