#!/usr/bin/env bash
# The project's test command: `bash scripts/test.sh [--slow] [pytest args...]`.
#
# 1. Makes (once) a virtual env at .venv with python3.11 (else python3) and installs the project with
#    its test extra (again whenever pyproject.toml changes).
# 2. Finds a real PostgreSQL and exports LEDGER_TEST_DATABASE_URL, the URL of an *admin* database on
#    it (the tests create and drop their own database there):
#      - LEDGER_TEST_DATABASE_URL, if set;
#      - else the server on 127.0.0.1:5432 (user postgres, database postgres), if it answers;
#      - else a throwaway cluster from the local PostgreSQL binaries (initdb into a temporary
#        directory, a free port, trust auth), stopped and removed when this script exits.
#    As root, the cluster runs as the OS user postgres (else ledgertest, created with useradd;
#    LEDGER_TEST_PG_OS_USER names another). LEDGER_TEST_FORCE_THROWAWAY=1 skips the first two ways
#    (to test the last). With no PostgreSQL at all it says so in one line and exits 1.
# 3. Runs pytest with the given arguments (`--slow`: many more hypothesis examples) and exits with its
#    code, except that "no tests collected" (pytest's 5) is a failure (1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf 'test.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# ----------------------------------------------------------------------------- virtual env
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
if ! [ -x "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    BASE_PY=""
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            BASE_PY="$candidate"
            break
        fi
    done
    [ -n "$BASE_PY" ] || die "no Python >= 3.11 found (tried python3.11, python3)"
    rm -rf "$VENV"
    say "creating $VENV with $BASE_PY"
    "$BASE_PY" -m venv "$VENV"
fi
STAMP="$VENV/.exchange-ledger-installed"
WANT="$(cat pyproject.toml | "$PY" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ] \
    || ! "$PY" -c 'import kernel, pytest, hypothesis, psycopg' >/dev/null 2>&1; then
    say "installing the project into $VENV (pip install -e '.[test]')"
    if ! "$PY" -m pip install --disable-pip-version-check -e '.[test]' >"$VENV/pip-install.log" 2>&1; then
        tail -n 20 "$VENV/pip-install.log" >&2
        die "pip install -e '.[test]' failed (log: $VENV/pip-install.log)"
    fi
    printf '%s\n' "$WANT" >"$STAMP"
fi

# ----------------------------------------------------------------------------- PostgreSQL
pg_answers() {  # pg_answers URL: does a PostgreSQL answer there?
    "$PY" - "$1" >/dev/null 2>&1 <<'PYEOF'
import sys
import psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PYEOF
}

find_pg_bin() {  # the directory holding initdb, pg_ctl and postgres, newest version first
    local dir
    for dir in "${LEDGER_TEST_PG_BINDIR:-}" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn) \
        /usr/local/pgsql/bin /usr/local/bin /usr/bin; do
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    local initdb
    initdb="$(command -v initdb 2>/dev/null || true)"
    if [ -n "$initdb" ] && [ -x "$(dirname "$initdb")/pg_ctl" ]; then
        dirname "$initdb"
        return 0
    fi
    return 1
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

PG_TMP=""
PG_USER=""
PG_BIN=""
as_pg_user() {  # run a command as the (non-root) owner of the throwaway cluster
    if [ -z "$PG_USER" ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$PG_USER" -- "$@"
    else
        su -s /bin/sh "$PG_USER" -c "$(printf '%q ' "$@")"
    fi
}

stop_throwaway() {
    if [ -n "$PG_TMP" ] && [ -d "$PG_TMP" ]; then
        if [ -f "$PG_TMP/data/postmaster.pid" ]; then
            as_pg_user "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_TMP"
    fi
}

THROWAWAY_URL=""
THROWAWAY_WHY=""
why() { THROWAWAY_WHY="$*"; return 1; }
start_throwaway() {  # sets THROWAWAY_URL to the admin URL of a fresh cluster; returns 1 (saying why) if it cannot
    PG_BIN="$(find_pg_bin)" || { why "no PostgreSQL binaries (initdb, pg_ctl, postgres) found"; return 1; }
    if [ "$(id -u)" = 0 ]; then  # initdb and postgres refuse to run as root
        PG_USER="${LEDGER_TEST_PG_OS_USER:-}"
        if [ -z "$PG_USER" ]; then
            if id -u postgres >/dev/null 2>&1; then PG_USER=postgres; else PG_USER=ledgertest; fi
        fi
        if ! id -u "$PG_USER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" >/dev/null 2>&1 \
                || { why "cannot create the OS user $PG_USER to run PostgreSQL"; return 1; }
        fi
    fi
    PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/ledger-pg.XXXXXX")"
    chmod 755 "$PG_TMP"
    [ -z "$PG_USER" ] || chown "$PG_USER" "$PG_TMP"
    local port
    port="$(free_port)"
    if ! as_pg_user "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
        --no-sync >"$PG_TMP/initdb.log" 2>&1; then
        why "initdb failed: $(tail -n 1 "$PG_TMP/initdb.log")"
        return 1
    fi
    if ! as_pg_user "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >"$PG_TMP/pg_ctl.log" 2>&1; then
        why "it did not start: $(cat "$PG_TMP/server.log" "$PG_TMP/pg_ctl.log" 2>/dev/null | grep -v '^ *$' | tail -n 1)"
        return 1
    fi
    THROWAWAY_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

if [ -n "${LEDGER_TEST_DATABASE_URL:-}" ]; then
    pg_answers "$LEDGER_TEST_DATABASE_URL" \
        || die "LEDGER_TEST_DATABASE_URL is set but no PostgreSQL answers there"
    say "PostgreSQL: LEDGER_TEST_DATABASE_URL"
else
    LOCAL_URL="postgresql://postgres@127.0.0.1:${LEDGER_TEST_PG_PORT:-5432}/postgres"
    if [ "${LEDGER_TEST_FORCE_THROWAWAY:-0}" != 1 ] && pg_answers "$LOCAL_URL"; then
        LEDGER_TEST_DATABASE_URL="$LOCAL_URL"
        say "PostgreSQL: the server on 127.0.0.1:${LEDGER_TEST_PG_PORT:-5432}"
    else
        trap stop_throwaway EXIT
        trap 'exit 130' INT TERM
        if ! start_throwaway; then
            die "no PostgreSQL: none answers on 127.0.0.1:${LEDGER_TEST_PG_PORT:-5432}, and no throwaway cluster: $THROWAWAY_WHY (install PostgreSQL or set LEDGER_TEST_DATABASE_URL)"
        fi
        LEDGER_TEST_DATABASE_URL="$THROWAWAY_URL"
        say "PostgreSQL: throwaway cluster at $LEDGER_TEST_DATABASE_URL"
    fi
fi
export LEDGER_TEST_DATABASE_URL

# ----------------------------------------------------------------------------- pytest
set +e
"$PY" -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    say "pytest collected no tests: that is a failure"
    exit 1
fi
exit "$rc"
