"""`ledger log` as an auditor uses it: an account, one order's whole history, event types, a trading day or
a time range; each line keeps its position in the whole log. Bad filters are one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import ledger


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cwd = tmp_path_factory.mktemp("log")
    done = ledger("--store", "sqlite:///day.db", "demo", "--orders", "30", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return cwd, "sqlite:///day.db"


def lines(store: tuple[Path, str], *args: str) -> list[dict]:
    cwd, url = store
    done = ledger("--store", url, "log", "--json", "--limit", "100000", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_every_filter_keeps_exactly_the_matching_lines_of_the_whole_log(store):
    everything = lines(store)
    assert [e["position"] for e in everything] == sorted({e["position"] for e in everything})
    by_account = lines(store, "--account", "demo-perp")
    assert by_account == [e for e in everything if e["account_id"] == "demo-perp"]
    assert 0 < len(by_account) < len(everything)
    fills = lines(store, "--account", "demo-perp", "--type", "OrderFilled", "--type", "LeverageSet")
    assert fills == [e for e in by_account if e["type"] in ("OrderFilled", "LeverageSet")]
    assert {e["type"] for e in fills} == {"OrderFilled", "LeverageSet"}
    filled = fills[-1]
    history = lines(store, "--account", "demo-perp", "--order", filled["intent_id"])
    assert history == [e for e in by_account if e.get("intent_id") == filled["intent_id"]]
    assert history[0]["type"] == "IntentPlaced" and filled in history


def test_a_day_and_a_time_range_are_ranges_of_the_log(store):
    everything = lines(store)
    first_ts = everything[0]["ts_recorded"]
    day = lines(store, "--day", "2026-01-05")
    assert day == everything  # the demo day: every event recorded on 2026-01-05 UTC
    assert lines(store, "--day", "2026-01-06") == []  # a day without events: an empty, valid result
    middle = everything[len(everything) // 3]["ts_recorded"]
    later = everything[2 * len(everything) // 3]["ts_recorded"]
    window = lines(store, "--since", str(middle), "--until", str(later))
    assert window == [e for e in everything if middle <= e["ts_recorded"] <= later] and window
    assert lines(store, "--until", str(first_ts - 1)) == []
    assert lines(store, "--since", str(later), "--after", str(window[0]["position"])) == [
        e for e in everything if e["ts_recorded"] >= later and e["position"] > window[0]["position"]]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), [
    (("--order", "demo-s7-000001"), "error: --order: give --account too"),
    (("--account", "demo-perp", "--order", "nope"), "error: --order: no order 'nope' on account 'demo-perp'"),
    (("--account", "nobody"), "error: --account: unknown account 'nobody'"),
    (("--type", "Filled"), "error: --type: unknown event type 'Filled' (one of AccountOpened, "),
    (("--day", "2026-01-05", "--since", "0"), "error: --day: give either --day or --since/--until"),
    (("--day", "05/01/2026"), "error: --day "),
    (("--day", "9999-12-31"), "error: --day '9999-12-31': out of range"),
    (("--since", "yesterday"), "error: --since 'yesterday': not ISO 8601"),
    (("--day", "2026-01-05", "--cutoff", "25:00"), "error: --cutoff"),
])  # fmt: skip
def test_bad_filters_are_one_line_exit_2(store, args, message):
    cwd, url = store
    done = ledger("--store", url, "log", *args, cwd=cwd)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1, done.stderr
