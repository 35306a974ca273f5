"""`ledger ingest` of exchange messages as a user runs it: instruments, a day's stream per format, the
summary, re-runs, bad input kept in quarantine, `quarantine retry`, `reconcile`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.translate.fix_sim import (
    fix_message,
    instruments_exchange_info,
    simulate_fix_day,
    simulate_fix_day_expectations,
)
from tests.e2e.test_cli import ledger

SEED, ORDERS = 7, 60


def run_json(*args: str, cwd: Path, code: int = 0) -> object:
    done = ledger(*args, cwd=cwd)
    assert done.returncode == code, done.stderr
    return json.loads(done.stdout)


def head(store: str, cwd: Path) -> int:
    done = ledger("--store", store, "log", "--json", "--limit", "1000000", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return len(done.stdout.splitlines())


@pytest.fixture
def fix_day(tmp_path: Path) -> Path:
    (tmp_path / "day.fix").write_bytes(b"\n".join(simulate_fix_day(SEED, ORDERS)) + b"\n")
    (tmp_path / "exchangeInfo.json").write_bytes(instruments_exchange_info())
    return tmp_path


def load_fix_instruments(store: str, cwd: Path) -> None:
    summary = run_json("--store", store, "instruments", "load", "--format", "binance", "--exchange", "fix",
                       "exchangeInfo.json", "--json", cwd=cwd)  # fmt: skip
    assert summary == {"exchange": "fix", "instruments": 2, "added": 2, "changed": 0, "unchanged": 0}


def test_a_fix_day_ingested_gives_the_orders_the_venue_reported(fix_day: Path, pg_url: str) -> None:
    load_fix_instruments(pg_url, fix_day)
    summary = run_json("--store", pg_url, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json",
                       cwd=fix_day)  # fmt: skip
    messages = sum(1 for _ in simulate_fix_day(SEED, ORDERS))
    assert summary["quarantined"] == 0 and summary["duplicates"] == 0
    assert summary["recorded"] + summary["skipped"] == messages and summary["skipped"] >= 3  # logon, heartbeat, logout
    orders = run_json("--store", pg_url, "query", "orders", "--account", "dc", "--json", cwd=fix_day)
    by_exchange_id = {o["state"]["exchange_order_id"]: o for o in orders}
    expected = simulate_fix_day_expectations(SEED, ORDERS)
    assert len(by_exchange_id) == len(expected) == ORDERS
    for client_order_id, want in expected.items():
        got = by_exchange_id[want.exchange_order_id]
        assert got["state"]["status"] == want.status, client_order_id
        assert Decimal(got["filled_quantity"]) == want.filled_quantity, client_order_id
        assert Decimal(got["fees"].get("USDT", "0")) == want.fees, client_order_id
    assert any(a.startswith("trade_canceled:") for o in orders for a in o["anomalies"]), "the bust is flagged"
    balances = run_json("--store", pg_url, "query", "balances", "--account", "dc", "--json", cwd=fix_day)
    assert {b["asset_id"] for b in balances} >= {"BTC", "USDT"}

    again = run_json("--store", pg_url, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    assert again == {**summary, "recorded": 0, "duplicates": summary["recorded"], "events": 0}, "a re-run records nothing"


def test_unknown_symbols_wait_in_quarantine_until_instruments_are_loaded(fix_day: Path) -> None:
    store = "sqlite:///q.db"
    first = run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    assert first["recorded"] == 0 and first["quarantined"] > 0
    listed = run_json("--store", store, "quarantine", "list", "--json", cwd=fix_day)
    assert len(listed) == first["quarantined"]
    assert {e["format"] for e in listed} == {"fix"} and {e["account_id"] for e in listed} == {"dc"}
    assert all("unknown symbol" in e["reason"] or "no order" in e["reason"] for e in listed), listed[:3]
    assert head(store, fix_day) == 0, "nothing but the quarantine was written"
    load_fix_instruments(store, fix_day)
    retried = run_json("--store", store, "quarantine", "retry", "--json", cwd=fix_day)
    assert retried["remaining"] == 0 and retried["released"] == first["quarantined"]
    assert run_json("--store", store, "quarantine", "list", "--json", cwd=fix_day) == []
    # the same state as ingesting after loading the instruments
    direct = "sqlite:///direct.db"
    load_fix_instruments(direct, fix_day)
    run_json("--store", direct, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    statuses = [sorted((o["intent_id"], o["state"]["status"], o["filled_quantity"]) for o in
                       run_json("--store", s, "query", "orders", "--json", cwd=fix_day)) for s in (store, direct)]  # type: ignore[union-attr]
    assert statuses[0] == statuses[1]


BAD_INPUTS = {
    "truncated.fix": (fix_message([(35, "8"), (49, "S"), (56, "T"), (34, 1), (52, "20240101-00:00:00")])[:-12],
                      "CheckSum"),
    "checksum.fix": (fix_message([(35, "0"), (49, "S"), (56, "T"), (34, 1), (52, "20240101-00:00:00")])[:-4]
                     + b"000\x01", "CheckSum (10) is 000"),
    "bodylength.fix": (fix_message([(35, "0"), (49, "S"), (56, "T"), (34, 1), (52, "20240101-00:00:00")])
                       .replace(b"9=", b"9=1", 1), "BodyLength (9)"),
    "empty.fix": (b"", "empty file"),
    "binary.fix": (bytes(range(256)) * 4, "binary file"),
    "unknown_type.fix": (fix_message([(35, "D"), (49, "S"), (56, "T"), (34, 1), (52, "20240101-00:00:00")]),
                         "MsgType"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_quarantined_with_a_clear_reason_and_changes_nothing_else(fix_day: Path, name: str) -> None:
    store = "sqlite:///bad.db"
    load_fix_instruments(store, fix_day)
    content, reason = BAD_INPUTS[name]
    (fix_day / name).write_bytes(content)
    summary = run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", name, "--json", cwd=fix_day)
    assert summary == {"recorded": 0, "duplicates": 0, "skipped": 0, "quarantined": 1, "events": 0}
    (entry,) = run_json("--store", store, "quarantine", "list", "--json", cwd=fix_day)  # type: ignore[misc]
    assert reason in entry["reason"] and entry["source"] == name
    kept = bytes.fromhex(entry["raw_hex"]) if "raw_hex" in entry else entry["raw"].encode()
    assert kept == content, "kept raw, byte for byte"
    assert head(store, fix_day) == 0
    rerun = run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", name, "--json", cwd=fix_day)
    assert rerun["quarantined"] == 1
    assert len(run_json("--store", store, "quarantine", "list", "--json", cwd=fix_day)) == 1, "kept once"  # type: ignore[arg-type]


@pytest.mark.parametrize(("args", "message"), [
    (("ingest", "--format", "fix", "day.fix"), "--format fix needs --account"),
    (("ingest", "--format", "fix", "--account", "dc", "missing.fix"), "missing.fix: No such file"),
    (("ingest", "--format", "events", "--account", "dc", "day.fix"), "do not apply to --format events"),
    (("instruments", "load", "--format", "binance", "day.fix"), "day.fix"),
    (("reconcile", "--account", "nobody"), "unknown account 'nobody'"),
    (("ingest", "--format", "fix", "--account", " ", "day.fix"), "--account must name an account"),
])  # fmt: skip
def test_usage_errors_are_one_line_and_exit_2(fix_day: Path, args: tuple[str, ...], message: str) -> None:
    done = ledger("--store", "sqlite:///u.db", *args, cwd=fix_day)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_account_stays_on_its_exchange(fix_day: Path) -> None:
    store = "sqlite:///x.db"
    load_fix_instruments(store, fix_day)
    run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    done = ledger("--store", store, "ingest", "--format", "fix", "--account", "dc", "--exchange", "other", "day.fix",
                  cwd=fix_day)  # fmt: skip
    assert done.returncode == 2 and "is on exchange 'fix', not 'other'" in done.stderr


def test_reconcile_with_nothing_reported_is_an_empty_list(fix_day: Path) -> None:
    store = "sqlite:///r.db"
    load_fix_instruments(store, fix_day)
    run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    assert run_json("--store", store, "reconcile", "--json", cwd=fix_day) == []
    assert run_json("--store", store, "reconcile", "--account", "dc", "--json", cwd=fix_day) == []


# ------------------------------------------------------------------------------------------ ccxt
def test_a_ccxt_day_ingested_gives_the_orders_trades_and_balances_reported(tmp_path: Path, pg_url: str) -> None:
    from adapters.translate.ccxt_sim import expect_ccxt_day, markets_json, simulate_ccxt_day

    (tmp_path / "day.jsonl").write_bytes(b"\n".join(simulate_ccxt_day(SEED, ORDERS)) + b"\n")
    (tmp_path / "markets.json").write_bytes(markets_json())
    want = expect_ccxt_day(SEED, ORDERS)
    loaded = run_json("--store", pg_url, "instruments", "load", "--format", "ccxt", "--exchange", "ccxt-sim",
                      "markets.json", "--json", cwd=tmp_path)  # fmt: skip
    assert loaded["added"] == loaded["instruments"] > 0
    summary = run_json("--store", pg_url, "ingest", "--format", "ccxt", "--exchange", "ccxt-sim", "--account", "cx",
                       "day.jsonl", "--json", cwd=tmp_path)  # fmt: skip
    assert summary["quarantined"] == 0 and summary["duplicates"] > 0, "the day repeats some lines"
    assert summary["recorded"] + summary["duplicates"] + summary["skipped"] == want.lines
    orders = run_json("--store", pg_url, "query", "orders", "--account", "cx", "--json", cwd=tmp_path)
    got = {o["state"]["exchange_order_id"]: (o["state"]["status"], Decimal(o["filled_quantity"])) for o in orders}
    assert got == {oid: (status, want.filled[oid]) for oid, status in want.statuses.items()}
    balances = run_json("--store", pg_url, "query", "balances", "--account", "cx", "--json", cwd=tmp_path)
    mine = {b["asset_id"]: (Decimal(b["total"]), Decimal(b["locked"])) for b in balances}
    assert {asset: mine.get(asset, (Decimal(0), Decimal(0))) for asset in want.balances} == want.balances
    assert run_json("--store", pg_url, "reconcile", "--account", "cx", "--json", cwd=tmp_path) == []
    again = run_json("--store", pg_url, "ingest", "--format", "ccxt", "--account", "cx", "day.jsonl", "--json",
                     cwd=tmp_path)  # fmt: skip
    assert again["recorded"] == 0 and again["events"] == 0


# ------------------------------------------------------------------------------------------ Binance
@pytest.mark.parametrize("market", ["spot", "futures"])
def test_a_binance_day_ingested_gives_the_books_the_exchange_reported(tmp_path: Path, pg_url: str, market: str) -> None:
    from adapters.translate import binance_sim as sim

    fmt = "binance" if market == "spot" else "binance-futures"
    day = sim.simulate_spot_day if market == "spot" else sim.simulate_futures_day
    info = sim.spot_exchange_info if market == "spot" else sim.futures_exchange_info
    want = sim.Expected()
    (tmp_path / "stream.jsonl").write_bytes(b"\n".join(day(SEED, ORDERS, want)) + b"\n")
    (tmp_path / "exchangeInfo.json").write_bytes(info())
    run_json("--store", pg_url, "instruments", "load", "--format", fmt, "exchangeInfo.json", "--json", cwd=tmp_path)
    summary = run_json("--store", pg_url, "ingest", "--format", fmt, "--account", "b1", "stream.jsonl", "--json",
                       cwd=tmp_path)  # fmt: skip
    assert summary["quarantined"] == 0
    assert summary["recorded"] + summary["duplicates"] + summary["skipped"] == want.messages
    assert summary["skipped"] == want.skipped

    orders = run_json("--store", pg_url, "query", "orders", "--account", "b1", "--json", cwd=tmp_path)
    got = {o["state"]["exchange_order_id"]: o for o in orders}
    assert len(got) == len(want.orders)
    for cid, order in want.orders.items():
        mine = got[order.exchange_order_id]
        assert mine["state"]["status"] == str(order.status), cid
        assert Decimal(mine["filled_quantity"]) == order.filled, cid
        assert {k: Decimal(v) for k, v in mine["fees"].items() if Decimal(v)} == {
            k: v for k, v in order.fees.items() if v}, cid  # fmt: skip
    balances = run_json("--store", pg_url, "query", "balances", "--account", "b1", "--json", cwd=tmp_path)
    totals = {b["asset_id"]: Decimal(b["total"]) for b in balances}
    assert {a: totals.get(a, Decimal(0)) for a in want.balances} == want.balances
    if market == "spot":
        locked = {b["asset_id"]: Decimal(b["locked"]) for b in balances}
        assert {a: locked.get(a, Decimal(0)) for a in want.locked} == want.locked
    else:
        positions = run_json("--store", pg_url, "query", "positions", "--account", "b1", "--json", cwd=tmp_path)
        mine = {p["symbol_id"]: Decimal(p["asset"]["quantity"]) for p in positions}  # signed
        assert {s: mine.get(s, Decimal(0)) for s in want.positions} == want.positions
    assert run_json("--store", pg_url, "reconcile", "--json", cwd=tmp_path) == []
    again = run_json("--store", pg_url, "ingest", "--format", fmt, "--account", "b1", "stream.jsonl", "--json",
                     cwd=tmp_path)  # fmt: skip
    assert again["recorded"] == 0 and again["events"] == 0, "a re-run records nothing"


def test_binance_order_ids_are_per_symbol(tmp_path: Path) -> None:
    from adapters.translate.binance_sim import spot_exchange_info

    def report(symbol: str, x: str, t: int) -> dict:
        return {"e": "executionReport", "E": t, "s": symbol, "c": f"web_{symbol}", "S": "BUY", "o": "LIMIT",
                "f": "GTC", "q": "1.00000000", "p": "10.00000000", "P": "0", "F": "0", "g": -1, "C": "",
                "x": x, "X": x, "r": "NONE", "i": 42, "l": "0", "z": "0", "L": "0", "n": "0", "N": None,
                "T": t, "t": -1, "I": t, "w": True, "m": False, "M": False, "O": t, "Z": "0", "Y": "0",
                "Q": "0"}  # fmt: skip
    lines = [report("BTCUSDT", "NEW", 1), report("ETHUSDT", "NEW", 2), report("ETHUSDT", "CANCELED", 3)]
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    (tmp_path / "info.json").write_bytes(spot_exchange_info())
    store = "sqlite:///p.db"
    run_json("--store", store, "instruments", "load", "--format", "binance", "info.json", "--json", cwd=tmp_path)
    run_json("--store", store, "ingest", "--format", "binance", "--account", "b", "s.jsonl", "--json", cwd=tmp_path)
    orders = run_json("--store", store, "query", "orders", "--json", cwd=tmp_path)
    assert sorted((o["order"]["symbol"], o["state"]["status"]) for o in orders) == [
        ("BTCUSDT", "NEW"), ("ETHUSDT", "CANCELED")]  # fmt: skip


def _execution_report(**changes: object) -> bytes:
    report = {"e": "executionReport", "E": 1767600000000, "s": "BTCUSDT", "c": "c1", "S": "BUY", "o": "LIMIT",
              "f": "GTC", "q": "1.00000000", "p": "10.00000000", "P": "0", "F": "0", "g": -1, "C": "", "x": "NEW",
              "X": "NEW", "r": "NONE", "i": 7, "l": "0", "z": "0", "L": "0", "n": "0", "N": None, "T": 1767600000000,
              "t": -1, "I": 1, "w": True, "m": False, "M": False, "O": 1767600000000, "Z": "0", "Y": "0", "Q": "0"}
    return json.dumps({**report, **changes}).encode()  # fmt: skip


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"e": "executionReport", "E": 17', "invalid JSON"),
    (_execution_report(q="1.2.3"), "not a decimal number: '1.2.3'"),
    (_execution_report(s="DOGEUSDT"), "unknown symbol 'DOGEUSDT'"),
    (b'{"e": "somethingNew", "E": 1}', "unknown event type 'somethingNew'"),
])  # fmt: skip
def test_bad_binance_messages_are_quarantined_with_the_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    from adapters.translate.binance_sim import spot_exchange_info

    (tmp_path / "info.json").write_bytes(spot_exchange_info())
    (tmp_path / "bad.jsonl").write_bytes(content + b"\n" + _execution_report() + b"\n")
    store = "sqlite:///bb.db"
    run_json("--store", store, "instruments", "load", "--format", "binance", "info.json", "--json", cwd=tmp_path)
    summary = run_json("--store", store, "ingest", "--format", "binance", "--account", "b", "bad.jsonl", "--json",
                       cwd=tmp_path)  # fmt: skip
    assert (summary["recorded"], summary["quarantined"]) == (1, 1), "the good line records, the bad one waits"
    (entry,) = run_json("--store", store, "quarantine", "list", "--json", cwd=tmp_path)  # type: ignore[misc]
    assert reason in entry["reason"] and entry["raw"].encode() == content


def test_ingest_reads_standard_input(tmp_path: Path) -> None:
    import subprocess

    from adapters.translate.binance_sim import spot_exchange_info
    from tests.e2e.test_cli import LEDGER

    (tmp_path / "info.json").write_bytes(spot_exchange_info())
    run_json("--store", "sqlite:///in.db", "instruments", "load", "--format", "binance", "info.json", "--json",
             cwd=tmp_path)
    done = subprocess.run([str(LEDGER), "--store", "sqlite:///in.db", "ingest", "--format", "binance", "--account",
                           "b", "--json", "-"], cwd=tmp_path, input=_execution_report() + b"\n", capture_output=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["recorded"] == 1
    (order,) = run_json("--store", "sqlite:///in.db", "query", "orders", "--json", cwd=tmp_path)  # type: ignore[misc]
    assert order["state"]["status"] == "NEW" and order["intent_id"] == "ext:BTCUSDT:7"


def test_a_retry_uses_the_exchange_the_ingest_was_given(fix_day: Path) -> None:
    store = "sqlite:///venue.db"
    first = run_json("--store", store, "ingest", "--format", "fix", "--exchange", "venue1", "--account", "v",
                     "day.fix", "--json", cwd=fix_day)  # fmt: skip
    assert first["recorded"] == 0 and first["quarantined"] > 0
    assert {e["exchange"] for e in run_json("--store", store, "quarantine", "list", "--json", cwd=fix_day)} == {"venue1"}  # type: ignore[union-attr]
    run_json("--store", store, "instruments", "load", "--format", "binance", "--exchange", "venue1",
             "exchangeInfo.json", "--json", cwd=fix_day)  # fmt: skip
    retried = run_json("--store", store, "quarantine", "retry", "--json", cwd=fix_day)
    assert retried["remaining"] == 0, retried
    (account,) = run_json("--store", store, "query", "account", "--json", cwd=fix_day)  # type: ignore[misc]
    assert account["account_id"] == "v"


def test_ingesting_a_file_again_releases_what_now_records(fix_day: Path) -> None:
    store = "sqlite:///again.db"
    first = run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    assert first["quarantined"] > 0
    load_fix_instruments(store, fix_day)
    second = run_json("--store", store, "ingest", "--format", "fix", "--account", "dc", "day.fix", "--json", cwd=fix_day)
    assert second["quarantined"] == 0 and second["recorded"] == first["quarantined"]
    assert run_json("--store", store, "quarantine", "list", "--json", cwd=fix_day) == []
