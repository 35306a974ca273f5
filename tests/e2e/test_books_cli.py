"""`ledger replay`, `query`, `export` and `ingest --format events`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import ledger

DEMO_DAY = "2026-01-05"


@pytest.fixture
def demo_store(tmp_path: Path) -> str:
    done = ledger("--store", "sqlite:///demo.db", "demo", "--orders", "30", "--seed", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return "sqlite:///demo.db"


def run_json(tmp_path: Path, *args: str):
    done = ledger(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_demo_prints_the_closing_books_and_state_hash(tmp_path: Path, demo_store: str) -> None:
    done = ledger("--store", "sqlite:///again.db", "demo", "--orders", "30", "--seed", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    replayed = run_json(tmp_path, "--store", demo_store, "replay", "--json")
    assert f"state_hash {replayed['state_hash']}" in done.stdout
    for text in ("demo-perp", "demo-spot", "Balances", "Open positions", "realized PnL"):
        assert text in done.stdout, text


def test_replay_json_has_the_books(tmp_path: Path, demo_store: str) -> None:
    doc = run_json(tmp_path, "--store", demo_store, "replay", "--json")
    assert set(doc) == {"position", "state_hash", "orders", "positions", "accounts"}
    assert len(doc["state_hash"]) == 64 and doc["position"] > 100
    assert {a["account_id"] for a in doc["accounts"]} == {"demo-spot", "demo-perp"}
    assert all(isinstance(b["total"], str) for a in doc["accounts"] for b in a["balances"])
    assert len(doc["orders"]) == 30
    perp = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--account", "demo-perp")
    assert perp["state_hash"] == doc["state_hash"]
    assert {o["account_id"] for o in perp["orders"]} == {"demo-perp"}


def test_replay_as_of_position_day_and_time(tmp_path: Path, demo_store: str) -> None:
    full = run_json(tmp_path, "--store", demo_store, "replay", "--json")
    at_head = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--position", str(full["position"]))
    assert at_head["state_hash"] == full["state_hash"]
    early = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--position", "10")
    assert early["position"] == 10 and early["state_hash"] != full["state_hash"]
    day = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--day", DEMO_DAY)
    assert day["state_hash"] == full["state_hash"]
    before = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--until", "2026-01-05T00:00:00.5Z")
    later = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--until", "2026-01-06T00:00:00Z")
    assert before["position"] < later["position"] == full["position"]


def test_query_reads_the_books_now_and_as_of(tmp_path: Path, demo_store: str) -> None:
    orders = run_json(tmp_path, "--store", demo_store, "query", "orders", "--json")
    assert len(orders) == 30 and {o["state"]["status"] for o in orders} >= {"FILLED", "CANCELED"}
    spot = run_json(tmp_path, "--store", demo_store, "query", "balances", "--account", "demo-spot", "--json")
    assert {b["asset_id"] for b in spot} >= {"USDT", "BNB"}
    positions = run_json(tmp_path, "--store", demo_store, "query", "positions", "--open", "--json")
    assert all(p["asset"]["quantity"] != "0" for p in positions)
    account = run_json(tmp_path, "--store", demo_store, "query", "account", "--account", "demo-perp", "--json")
    assert account[0]["total_equity"] is not None
    assert run_json(tmp_path, "--store", demo_store, "query", "orders", "--as-of", "1", "--json") == []


def test_query_as_of_gives_the_same_rows_from_the_read_tables_history_as_from_the_fold(
        tmp_path: Path, demo_store: str) -> None:  # fmt: skip
    log = [json.loads(line) for line in ledger("--store", demo_store, "log", "--json", "--limit", "100000",
                                                cwd=tmp_path).stdout.splitlines()]  # fmt: skip
    times = sorted(e["ts_recorded"] for e in log)
    moments = [str(times[len(times) // 3]), str(times[-1]), "1"]
    queries = [("positions",), ("balances",), ("account",), ("positions", "--open")]
    asks = [(m, q) for m in moments for q in queries] + [(moments[0], ("balances", "--account", "demo-spot"))]

    def answers() -> list:
        return [run_json(tmp_path, "--store", demo_store, "query", *q, "--as-of", m, "--json") for m, q in asks]

    folded = answers()  # no read tables yet: folded from the log
    assert all(folded[: 2 * len(queries)]) and not any(folded[2 * len(queries) : 3 * len(queries)])  # 1 ns: none
    assert folded[-1] == [b for b in folded[1] if b["account_id"] == "demo-spot"]
    assert ledger("--store", demo_store, "project", cwd=tmp_path).returncode == 0
    assert answers() == folded  # now from the history
    unknown = ledger("--store", demo_store, "query", "positions", "--account", "nobody", "--as-of", moments[1],
                     cwd=tmp_path)  # fmt: skip
    assert unknown.returncode == 2 and unknown.stderr.strip() == "error: --account: unknown account 'nobody'"


def test_one_order_now_and_as_of_any_time_equals_that_order_in_the_whole_books(tmp_path: Path,
                                                                               demo_store: str) -> None:  # fmt: skip
    """`--order` reads one row of the read tables now, and as of a time folds the order's own stream: the
    same row the whole books give, at every moment of its life (and nothing before it was placed)."""
    assert ledger("--store", demo_store, "project", cwd=tmp_path).returncode == 0
    orders = run_json(tmp_path, "--store", demo_store, "query", "orders", "--json")
    filled = next(o for o in orders if o["state"]["status"] == "FILLED")
    account, intent = filled["account_id"], filled["intent_id"]
    one = ("--store", demo_store, "query", "orders", "--account", account, "--order", intent)
    assert run_json(tmp_path, *one, "--json") == [filled]
    history = [json.loads(line) for line in ledger("--store", demo_store, "log", "--json", "--account", account,
                                                    "--order", intent, cwd=tmp_path).stdout.splitlines()]  # fmt: skip
    moments = [history[0]["ts_recorded"] - 1, *(e["ts_recorded"] for e in history)]
    seen = []
    for moment in moments:
        whole = run_json(tmp_path, "--store", demo_store, "query", "orders", "--account", account, "--as-of",
                         str(moment), "--json")  # fmt: skip
        mine = run_json(tmp_path, *one, "--as-of", str(moment), "--json")
        assert mine == [o for o in whole if o["intent_id"] == intent]
        seen.append(mine[0]["state"]["status"] if mine else None)
    assert seen[0] is None and seen[-1] == "FILLED" and len(set(seen)) >= 3
    assert run_json(tmp_path, *one, "--open", "--as-of", str(moments[-1]), "--json") == []  # filled: not open


def test_export_then_ingest_into_another_backend_gives_the_same_hash(tmp_path: Path, demo_store: str,
                                                                      pg_url: str) -> None:  # fmt: skip
    done = ledger("--store", demo_store, "export", "-o", "day.jsonl", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = run_json(tmp_path, "--store", pg_url, "ingest", "--format", "events", "--json", "day.jsonl")
    assert summary["recorded"] > 100 and summary["duplicates"] == 0
    again = run_json(tmp_path, "--store", pg_url, "ingest", "--format", "events", "--json", "day.jsonl")
    assert again["recorded"] == 0 and again["duplicates"] == summary["recorded"]
    source = run_json(tmp_path, "--store", demo_store, "replay", "--json")
    target = run_json(tmp_path, "--store", pg_url, "replay", "--json")
    assert target["state_hash"] == source["state_hash"]
    copy = ledger("--store", pg_url, "export", cwd=tmp_path)
    assert copy.stdout.encode() == (tmp_path / "day.jsonl").read_bytes()


@pytest.mark.parametrize(
    "args, message",
    [
        (("replay", "--account", "nobody"), "error: --account: unknown account 'nobody'"),
        (("query", "orders", "--account", "nobody"), "error: --account: unknown account 'nobody'"),
        (("query", "orders", "--as-of", "yesterday"), "error: --as-of 'yesterday': not ISO 8601"),
        (("replay", "--until", "2026-99-01"), "error: --until '2026-99-01': not ISO 8601"),
        (("replay", "--day", "05/01/2026"), "error: --day '05/01/2026': not a day"),
        (("replay", "--day", DEMO_DAY, "--position", "3"), "error: --day and --position: give at most one"),
        (("replay", "--day", DEMO_DAY, "--tz", "Mars/Olympus"), "error: --tz"),
        (("replay", "--day", DEMO_DAY, "--cutoff", "25:00"), "error: --cutoff"),
        (("replay", "--day", "0001-01-01"), "error: --day '0001-01-01': out of range"),
        (("query", "trades"), "error: Invalid value for '{orders|positions|balances|account}'"),
        (("query", "orders", "--order", "demo-s4-000001"), "error: --order: for orders, with --account"),
        (("query", "positions", "--account", "demo-perp", "--order", "x"), "error: --order: for orders"),
        (("query", "orders", "--account", "nobody", "--order", "x", "--as-of", "2026-01-05T12:00:00Z"),
         "error: --account: unknown account 'nobody'"),
        (("ingest", "--format", "events", "missing.jsonl"), "error: missing.jsonl"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, demo_store: str,
                                                        args: tuple[str, ...], message: str) -> None:  # fmt: skip
    before = ledger("--store", demo_store, "export", cwd=tmp_path).stdout
    done = ledger("--store", demo_store, *args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr
    assert ledger("--store", demo_store, "export", cwd=tmp_path).stdout == before


def test_a_day_with_no_events_is_a_valid_result(tmp_path: Path, demo_store: str) -> None:
    """Its closing books are the books it opened with: empty before the first day, carried after it."""
    before = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--day", "2025-12-01")
    assert before["position"] == 0 and before["orders"] == [] and before["accounts"] == []
    after = run_json(tmp_path, "--store", demo_store, "replay", "--json", "--day", "2026-03-01")
    assert after["state_hash"] == run_json(tmp_path, "--store", demo_store, "replay", "--json")["state_hash"]


def test_ingest_of_a_file_that_is_not_events_is_refused_whole(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"position": 1}\n')
    done = ledger("--store", "sqlite:///t.db", "ingest", "--format", "events", "bad.jsonl", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: bad.jsonl:1: not a ledger event line")


def test_ingest_of_events_that_are_not_utf8_is_refused_with_the_codec_error(tmp_path: Path) -> None:
    """The same one line whichever msgspec decodes it (0.23 reports bad UTF-8 in words of its own)."""
    (tmp_path / "bad.jsonl").write_bytes(b'{"position": "\xff"}\n')
    done = ledger("--store", "sqlite:///t.db", "ingest", "--format", "events", "bad.jsonl", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: bad.jsonl:1: not a ledger event line: invalid JSON: 'utf-8' codec can't "
                                  "decode byte 0xff")  # fmt: skip
    assert run_json(tmp_path, "--store", "sqlite:///t.db", "replay", "--json")["position"] == 0  # nothing recorded
