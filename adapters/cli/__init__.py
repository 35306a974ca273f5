"""The `ledger` command line: thin commands that parse, call the kernel or the projections, and print."""

from adapters.cli import audit, books, intake, record  # noqa: F401 - register their commands on the group
from adapters.cli.app import cli, main

__all__ = ["cli", "main"]
