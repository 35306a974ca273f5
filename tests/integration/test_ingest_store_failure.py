"""When the store fails mid-ingest, the ingest stops with exit code 1 and nothing of the failed batch is
written; the batches before it are whole, and a re-run completes the day to the same books."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from adapters.translate.fix_sim import instruments_exchange_info, simulate_fix_day
from kernel.ledger import Ledger
from projections import state_hash
from projections.replay import replay

LEDGER = Path(sys.executable).with_name("ledger")
pytestmark = pytest.mark.postgres


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LEDGER), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def test_a_store_failure_mid_ingest_writes_nothing_of_that_batch(tmp_path: Path, pg_url: str) -> None:
    day = list(simulate_fix_day(5, 40))
    (tmp_path / "day.fix").write_bytes(b"\n".join(day) + b"\n")
    (tmp_path / "info.json").write_bytes(instruments_exchange_info())
    assert cli("--store", pg_url, "instruments", "load", "--format", "binance", "--exchange", "fix", "info.json",
               cwd=tmp_path).returncode == 0  # fmt: skip
    Ledger.open(pg_url).close()  # the events table exists
    schema = parse_qs(urlsplit(pg_url).query)["schema"][0]
    conn = psycopg.connect(pg_url.split("?")[0], autocommit=True)
    # The 3rd expiry to reach the table fails its whole transaction (a stand-in for a disk full, a
    # lost connection, a constraint): the batch it is in must leave no trace.
    conn.execute(f'CREATE TABLE "{schema}".expiries (n int)')
    conn.execute(f"""CREATE FUNCTION "{schema}".fail_third_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.topic = 'OrderExpired.v1' THEN
            INSERT INTO "{schema}".expiries VALUES (1);
            IF (SELECT count(*) FROM "{schema}".expiries) >= 3 THEN RAISE EXCEPTION 'simulated store failure'; END IF;
          END IF;
          RETURN NEW;
        END $$""")
    conn.execute(f'CREATE TRIGGER fail_expiry BEFORE INSERT ON "{schema}".ledger_events FOR EACH ROW '
                 f'EXECUTE FUNCTION "{schema}".fail_third_expiry()')  # fmt: skip
    done = cli("--store", pg_url, "ingest", "--format", "fix", "--account", "dc", "--batch", "25", "day.fix",
               cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "simulated store failure" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    rows = conn.execute(f'SELECT count(*) FROM "{schema}".ledger_events').fetchone()[0]  # type: ignore[index]
    expiries = conn.execute(f'SELECT count(*) FROM "{schema}".ledger_events WHERE topic = %s',
                            ("OrderExpired.v1",)).fetchone()[0]  # type: ignore[index]  # fmt: skip
    assert expiries == 2 and rows > 0, "the batches before the failing one are written, whole"

    # Whole batches only: what is stored is exactly what a clean ingest of the first k batches records.
    probe = Ledger.open("memory://")
    from adapters.ingest.pipeline import Ingest
    from adapters.ingest.tables import open_ingest_tables
    from adapters.translate import get_format

    tables = open_ingest_tables(probe)
    tables.put_instruments("fix", get_format("binance").load_instruments(instruments_exchange_info()))  # type: ignore[misc]
    run = Ingest(probe, tables, get_format("fix"), "dc", batch_messages=25)
    prefixes = []
    for start in range(0, len(day), 25):
        run.ingest_messages("day.fix", day[start : start + 25])
        prefixes.append(probe.head())
    assert rows in prefixes

    conn.execute(f'DROP TRIGGER fail_expiry ON "{schema}".ledger_events')
    again = cli("--store", pg_url, "ingest", "--format", "fix", "--account", "dc", "--batch", "25", "day.fix",
                cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    with Ledger.open(pg_url) as ledger:
        assert sum(1 for _ in ledger.read()) == probe.head(), "(ids may have gaps after the failure: count)"
        assert state_hash(replay(ledger).books) == state_hash(replay(probe).books)
    conn.close()
