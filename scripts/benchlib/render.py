"""Output: the header, one table per half (each figure beside its references), the notes under each, and
the JSON document."""

from __future__ import annotations

import sys
from typing import Any

from benchlib.common import Result, fmt_int

COLUMNS = ("Figure", "Path", "Count", "Time", "Result", "Beside", "Target")
Section = tuple[str, list[Result], list[str]]  # (title, results, notes)


def _row(r: Result) -> tuple[str, ...]:
    n = r.count or f"{fmt_int(r.events)} ev" + (f" / {fmt_int(r.commands)} cmd" if r.commands is not None else "")
    if r.latency is None:
        shown = f"{fmt_int(r.eps)} {r.unit}/s"
    else:
        lat = r.latency
        shown = f"p50 {lat['p50_ms']:.2f} · p99 {lat['p99_ms']:.2f} · max {lat['max_ms']:.2f} ms"
    return (r.figure, r.path, n, f"{r.seconds:.2f} s", shown, r.beside, r.target)


def _rows(results: list[Result]) -> list[tuple[str, ...]]:
    rows = [_row(r) for r in results]
    return [(row[0] if i == 0 or row[0] != rows[i - 1][0] else "", *row[1:]) for i, row in enumerate(rows)]


def render(header: list[tuple[str, str]], sections: list[Section], tail: list[str], plain: bool) -> None:
    """Print the header, then each section's table and notes, then `tail` (the lines after every table)."""
    try:
        if plain:
            raise ImportError
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _render_plain(header, sections, tail)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    for k, v in header:
        head.add_row(k, v)
    console.print(head)
    for title, results, notes in sections:
        table = Table(title=title, title_justify="left")
        for c in COLUMNS:
            table.add_column(c, no_wrap=c != "Path", justify="right" if c in ("Count", "Time", "Result") else "left")
        for i, row in enumerate(_rows(results)):
            if i and row[0]:
                table.add_section()
            style = "red" if "FAIL" in row[-1] else "green" if "PASS" in row[-1] else None
            table.add_row(*row, style=style)
        console.print(table)
        for line in notes:
            console.print(line, soft_wrap=True, markup=False)
    for line in tail:
        console.print(line, soft_wrap=True, markup=False)


def _render_plain(header: list[tuple[str, str]], sections: list[Section], tail: list[str]) -> None:
    for k, v in header:
        print(f"{k:>8}  {v}")
    for title, results, notes in sections:
        shown = _rows(results)
        widths = [max(len(c), *(len(row[i]) for row in shown)) for i, c in enumerate(COLUMNS)]
        print()
        print(title)
        print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for row in shown:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        for line in notes:
            print(line)
    for line in tail:
        print(line)


def json_results(results: list[Result]) -> dict[str, Any]:
    return {
        r.key: {"path": r.path, "events": r.events, "commands": r.commands, "seconds": r.seconds,
                **({"events_per_s": r.eps} if r.latency is None else {"latency_ms": r.latency}),
                **({"breakdown": r.extra} if r.extra else {}),
                **({"target": r.target} if r.target else {})}
        for r in results
    }  # fmt: skip
