#!/usr/bin/env bash
# Runs every test of the workspace against real servers. It starts a throwaway
# PostgreSQL server (the integration tests create one database per test on it), runs
# `cargo test`, fuzzes the API with schemathesis (tests/fuzz.sh), and stops the server
# again. Extra arguments go to `cargo test`.
#
# The fuzz step takes about four minutes, so it runs on a full run only: a filtered run
# (any argument, e.g. `tests/run-all.sh -- chaos`) skips it. KYOSO_TEST_FUZZ=1 runs it
# anyway, KYOSO_TEST_FUZZ=0 skips it always.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ]; then
  echo "PostgreSQL server binaries not found; install them: apt-get install postgresql-15" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kyoso-test.XXXXXX")
chmod 755 "$work"
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root.
  chown postgres "$work"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

driver_pid=
stop() {
  if [ -n "$driver_pid" ]; then kill "$driver_pid" 2>/dev/null || true; fi
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT

as_pg "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log"
as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off" >/dev/null
export KYOSO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "test PostgreSQL on port $port"

# The console's browser tests drive Debian's headless Chromium through chromedriver.
if ! command -v chromedriver >/dev/null || [ ! -x /usr/bin/chromium ]; then
  echo "chromium and chromedriver not found; install them: apt-get install chromium chromium-driver" >&2
  exit 1
fi
driver_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chromedriver --port="$driver_port" >"$work/chromedriver.log" 2>&1 &
driver_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$driver_port/status" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$driver_port/status" >/dev/null || { echo "chromedriver did not start" >&2; cat "$work/chromedriver.log" >&2; exit 1; }
export KYOSO_TEST_WEBDRIVER_URL="http://127.0.0.1:$driver_port"
echo "chromedriver on port $driver_port"

# The browser tests check each console screen with axe-core (WCAG 2.0 A/AA rules),
# installed from the lockfile beside them.
if [ ! -f tests/accessibility/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null; then
    echo "npm not found; install Node.js and npm: apt-get install nodejs npm" >&2
    exit 1
  fi
  npm ci --prefix tests/accessibility --no-audit --no-fund --loglevel=error
fi

cargo test --workspace --locked "$@"

fuzz=${KYOSO_TEST_FUZZ:-}
if [ -z "$fuzz" ]; then
  if [ $# -eq 0 ]; then fuzz=1; else fuzz=0; fi
fi
if [ "$fuzz" = 1 ]; then
  tests/fuzz.sh
else
  echo "fuzzing skipped (a filtered run, or KYOSO_TEST_FUZZ=0); KYOSO_TEST_FUZZ=1 runs it"
fi
