"""The `ledger` command group, its store option, and the one place errors become exit codes.

Exit codes: 0 ok, 1 runtime failure (e.g. the store is unreachable), 2 bad usage or bad input.
Errors are one line on stderr.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from kernel.errors import LedgerError, RequestRefused, StoreConfigError
from kernel.ledger import Ledger
from kernel.stores import resolve_store_url

PIPE_WIDTH = 200  # columns when stdout is not a terminal: tables are not squeezed into 80
out = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)


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
