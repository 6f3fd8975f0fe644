#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis and fails when any
# answer is a 5xx. A 4xx for nonsense input is the service doing its job; a 5xx means an
# input reached code that did not expect it (a panic, an unmapped error), which is a bug
# whatever the input was.
#
# The service is the debug binary `cargo test` built, on a fresh SQLite file with the demo
# data (and, when KYOSO_TEST_DATABASE_URL names a PostgreSQL server, on a fresh database
# there too). Each backend is fuzzed twice: as a demo partner and as demo desk staff, so
# the generated requests get past authentication into the domain code.
#
# tests/run-all.sh calls this after `cargo test`; it also runs alone:
#   tests/fuzz.sh                          # SQLite only, unless KYOSO_TEST_DATABASE_URL is set
# Settings (environment):
#   KYOSO_TEST_FUZZ_SECONDS  time budget of each of the four runs (default 45)
#   KYOSO_TEST_FUZZ_SEED     schemathesis seed, to replay a run (default: random, printed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# schemathesis comes from PyPI into a virtualenv outside the clone, reused across runs
# and clones; the version is pinned so a new release cannot change what passes.
version=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/kyoso-test/schemathesis-$version"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "installing schemathesis $version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

# The binary `cargo test` built for the integration tests. Asked for the same way, so
# this is a no-op after run-all.sh's `cargo test`: a plain `cargo build` would unify
# features without the dev-dependencies, rebuild much of the tree and overwrite it.
cargo test --workspace --locked --no-run --quiet
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
kyoso="$target_dir/debug/kyoso"
# The integration tests compile the IPADIC dictionary once into cargo's scratch
# directory; the fuzzed services reuse it rather than compiling their own (minutes of
# CPU in a debug build). Without it each service compiles it at start-up.
dictionary="$target_dir/tmp/dict"

seconds=${KYOSO_TEST_FUZZ_SECONDS:-45}
seed=${KYOSO_TEST_FUZZ_SEED:-$(( (RANDOM << 15) | RANDOM ))}
echo "fuzzing the API with schemathesis $version, ${seconds} s per run, seed $seed (replay: KYOSO_TEST_FUZZ_SEED=$seed)"

work=$(mktemp -d "${TMPDIR:-/tmp}/kyoso-fuzz.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Replaces the current shell with kyoso, with only the settings given here: none of the
# caller's KYOSO_* variables or DATABASE_URL, no kyoso.toml (it runs in its own
# directory), mail as files in its data directory. Call it in a subshell: `(run_kyoso …)`
# in the foreground, `run_kyoso … &` in the background — there bash's subshell for the
# function becomes kyoso itself, so `$!` is kyoso's pid and `kill "$!"` stops it (a
# second subshell inside would leave kyoso running after its parent was killed).
run_kyoso() {
  local dir=$1 url=$2
  shift 2
  cd "$dir"
  for v in $(compgen -e | grep -E '^KYOSO_' | grep -v '^KYOSO_TEST_' || true); do unset "$v"; done
  # No write limits: generated requests should reach the domain code, not a 429.
  DATABASE_URL=$url KYOSO_DATA_DIR="$dir/data" KYOSO_LOG=warn \
    KYOSO_PROPOSALS_PER_HOUR=0 KYOSO_REGISTRATIONS_PER_HOUR=0 exec "$kyoso" "$@"
}

failures=()
summary=()

# fuzz_backend NAME DATABASE_URL: demo data, one server, a partner run and a desk run.
fuzz_backend() {
  local name=$1 url=$2 dir="$work/$1"
  mkdir -p "$dir/data"
  if [ -d "$dictionary" ]; then
    # Dot-named entries are other processes' half-built dictionaries.
    mkdir -p "$dir/data/dict"
    find "$dictionary" -mindepth 1 -maxdepth 1 ! -name '.*' -exec cp -r {} "$dir/data/dict/" \;
  fi
  (run_kyoso "$dir" "$url" demo) >"$dir/demo.log" 2>&1 || { cat "$dir/demo.log" >&2; return 1; }
  # demo-credentials.txt lines are "role<TAB>who<TAB>key"; take the first of each role.
  local partner_key desk_key
  partner_key=$(awk -F'\t' '$1 == "partner" { print $3; exit }' "$dir/data/demo-credentials.txt")
  desk_key=$(awk -F'\t' '$1 == "desk" { print $3; exit }' "$dir/data/demo-credentials.txt")
  if [ -z "$partner_key" ] || [ -z "$desk_key" ]; then
    echo "no partner or desk key in the demo credentials" >&2
    return 1
  fi

  local port
  port=$(free_port)
  run_kyoso "$dir" "$url" serve --bind "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
  server_pid=$!
  local base="http://127.0.0.1:$port"
  # Start-up builds the search index from the demo data (and the dictionary when it
  # was not there to copy).
  for _ in $(seq 1 3000); do
    if curl -fsS "$base/readyz" >/dev/null 2>&1 || ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  curl -fsS "$base/readyz" >/dev/null || { echo "kyoso serve did not start" >&2; cat "$dir/serve.log" >&2; return 1; }

  local role key
  for role in partner desk; do
    if [ "$role" = partner ]; then key=$partner_key; else key=$desk_key; fi
    echo "--- schemathesis: $name as $role"
    # Only not_a_server_error: the other checks (schema conformance and the like) are
    # worth having, but this step's promise is "no input makes the service fail".
    # Generated security parameters are off so that every request carries the real key.
    # One worker: with several, Python 3.11's ast.parse, which hypothesis calls to
    # describe its strategies, can fail in concurrent threads ("AST constructor
    # recursion depth mismatch"), a tool error that says nothing about the service.
    if "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
        --checks not_a_server_error \
        --header "Authorization: Bearer $key" \
        --generation-with-security-parameters false \
        --max-time "$seconds" \
        --seed "$seed" \
        --workers 1 \
        --request-timeout 20 \
        --generation-database none \
        --no-color \
        --report junit --report-junit-path "$dir/$role.junit.xml" \
        >"$dir/$role.out" 2>&1; then
      summary+=("$name as $role: no 5xx")
    else
      cat "$dir/$role.out"
      # A 5xx is reported as a "Server error" failure with a curl line to replay it;
      # anything else is the tool failing, which proves nothing either way.
      if grep -q 'Server error' "$dir/$role.out"; then
        summary+=("$name as $role: 5xx FOUND (each failing request is listed above)")
      else
        summary+=("$name as $role: schemathesis failed without finding a 5xx (see above)")
      fi
      failures+=("$name/$role")
    fi
    tail -n 4 "$dir/$role.out"
  done

  # Internal causes of the failures, as the service logged them.
  local logged
  logged=$(grep -E ' (ERROR|WARN) ' "$dir/serve.log" | tail -n 20 || true)
  if [ -n "$logged" ]; then
    echo "--- $name: the service's last warnings and errors"
    echo "$logged"
  fi
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

fuzz_backend sqlite "sqlite://$work/sqlite/data/kyoso.sqlite3"

if [ -n "${KYOSO_TEST_DATABASE_URL:-}" ]; then
  # A database of its own on the test server; psql comes with the server binaries.
  psql=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
  psql=${psql:-psql}
  db="kyoso_fuzz_$$"
  "$psql" -q "$KYOSO_TEST_DATABASE_URL" -c "CREATE DATABASE $db"
  fuzz_backend postgresql "${KYOSO_TEST_DATABASE_URL%/*}/$db"
fi

echo "--- fuzz summary (seed $seed)"
printf '  %s\n' "${summary[@]}"
if [ ${#failures[@]} -gt 0 ]; then
  echo "the fuzzer found server errors: ${failures[*]}" >&2
  exit 1
fi
