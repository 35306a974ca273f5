"""The `ledger` command run as a user runs it: the installed console script, in a fresh directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LEDGER = Path(sys.executable).with_name("ledger")


def ledger(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "LEDGER_STORE_URL"}
    return subprocess.run([str(LEDGER), *args], cwd=cwd, env={**base, **(env or {})}, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip


def log_lines(store: str, cwd: Path) -> list[dict]:
    done = ledger("--store", store, "log", "--json", "--limit", "1000000", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_demo_runs_with_no_configuration(tmp_path: Path) -> None:
    done = ledger("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ledger.db").is_file()
    assert "Recorded the demo trading day (seed 7)" in done.stdout
    assert "OrderFilled" in done.stdout and "duplicate" in done.stdout


def test_demo_day_contains_every_scenario(tmp_path: Path) -> None:
    done = ledger("demo", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    events = summary["events"]
    for name in ("AccountOpened", "AssetRegistered", "IntentPlaced", "SubmissionStarted", "OrderAccepted",
                 "OrderRejected", "IntentAmended", "AmendAccepted", "IntentCanceled", "CancelAccepted",
                 "OrderExpired", "OrderFilled", "BalanceAdjusted", "MarkPriceRecorded", "LeverageSet"):
        assert events.get(name, 0) >= 1, name
    assert summary["duplicates"] == 1  # the replayed fill was recognised, not recorded twice
    assert summary["recorded"] == summary["head"] == sum(events.values())
    assert summary["orders"]["REJECTED"] == 1 and summary["orders"]["EXPIRED"] == 1
    assert sum(summary["orders"].values()) == 40
    fills = [e for e in log_lines("sqlite:///./ledger.db", tmp_path) if e["type"] == "OrderFilled"]
    assert {f["fee_asset"] for f in fills} >= {"USDT", "BNB"}  # fees in quote and in another asset
    assert all(isinstance(f["quantity"], str) and isinstance(f["price"], str) for f in fills)


def test_same_seed_same_events_and_rerun_records_nothing(tmp_path: Path) -> None:
    for name in ("a.db", "b.db"):
        done = ledger("--store", f"sqlite:///{name}", "demo", "--seed", "11", "--orders", "30", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    first, second = log_lines("sqlite:///a.db", tmp_path), log_lines("sqlite:///b.db", tmp_path)
    assert first == second and len(first) > 100
    other = ledger("--store", "sqlite:///c.db", "demo", "--seed", "12", "--orders", "30", cwd=tmp_path)
    assert other.returncode == 0
    assert log_lines("sqlite:///c.db", tmp_path) != first

    again = ledger("--store", "sqlite:///a.db", "demo", "--seed", "11", "--orders", "30", cwd=tmp_path)
    assert again.returncode == 0 and "already recorded" in again.stdout
    assert log_lines("sqlite:///a.db", tmp_path) == first


@pytest.mark.postgres
def test_demo_on_postgres_records_the_same_events_as_on_sqlite(tmp_path: Path, pg_url: str) -> None:
    for store in (pg_url, "sqlite:///x.db"):
        done = ledger("--store", store, "demo", "--seed", "5", "--orders", "25", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert log_lines(pg_url, tmp_path) == log_lines("sqlite:///x.db", tmp_path)


def test_store_url_from_environment(tmp_path: Path) -> None:
    done = ledger("demo", "--orders", "8", cwd=tmp_path, env={"LEDGER_STORE_URL": "sqlite:///env.db"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env.db").is_file() and not (tmp_path / "ledger.db").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--store", "foo://x", "demo"), "error: store URL 'foo://x': unknown scheme"),
        (("--store", "postgresql://127.0.0.1:5432/", "demo"), "error: store URL"),
        (("demo", "--orders", "3"), "error: --orders: at least 8"),
        (("demo", "--orders", "zero"), "error: Invalid value for '--orders'"),
        (("demo", "--bogus"), "error: No such option"),
        (("frobnicate",), "error: No such command 'frobnicate'"),
        (("log", "--limit", "0"), "error: Invalid value for '--limit'"),
        (("--store", "memory://", "project"), "error: project: a memory:// store has no read tables that outlive"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    done = ledger(*args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr
    assert not (tmp_path / "ledger.db").exists()  # nothing was written


def test_unreachable_store_is_a_runtime_failure(tmp_path: Path) -> None:
    done = ledger("--store", "postgresql://nobody@127.0.0.1:1/none", "demo", cwd=tmp_path)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
