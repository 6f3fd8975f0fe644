#!/usr/bin/env bash
# The load run (issue 15): kyoso over HTTP at a realistic volume, route by route, beside
# Groonga's own HTTP server serving the same need/offer documents.
#
# Needs (Debian): apt-get install -y postgresql-15 haproxy wrk groonga-bin \
#   groonga-tokenizer-mecab mecab-ipadic-utf8
# and a built kyoso (KYOSO_BIN, default target/release/kyoso, else target/debug/kyoso).
#
#   tests/load/run.sh [--scale 1] [--duration 15s] [--configs sqlite,postgres,two-nodes]
#                     [--json load-results.json] [--no-groonga] [--jobs 4]
#                     [--dir DIR] [--seed-only]
#
# For each configuration it seeds a fresh database with `kyoso load-seed --scale S`
# (one SQLite file; one PostgreSQL database that the one-node and the two-node runs
# share), starts the service (two nodes: both on the same PostgreSQL, HAProxy in front
# with health checks on /readyz, tests/haproxy/kyoso.cfg as tests/api/nodes.rs uses it), and runs wrk (2 threads,
# 16 connections, --duration each) once per route of tests/load/route.lua, one route
# after the other. Per-key and per-address write limits are lifted for the run
# (KYOSO_PROPOSALS_PER_HOUR=0, KYOSO_REGISTRATIONS_PER_HOUR=0): the run submits
# thousands of proposals from 16 partner keys on one address. Mail goes to .eml files in
# the node's data directory (the default without KYOSO_SMTP_URL).
#
# Output: a markdown table on stdout (req/s, p50/p90/p99 per route, non-2xx and socket
# errors, peak memory VmHWM of each kyoso process) and the same figures as JSON.
# With --dir the databases are kept in DIR and a later run with the same --dir reuses
# what is seeded there (seeding 100,000 documents and 200,000 proposals takes a while);
# --seed-only stops after seeding. Seeding is not measured as part of the routes.
# PostgreSQL runs with its default durability (fsync on). This is a benchmark, not a
# test: it is not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

scale=1
duration=15s
configs=sqlite,postgres,two-nodes
json_out=load-results.json
groonga=1
jobs=4
keep_dir=
seed_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --configs) configs=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --no-groonga) groonga=0; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --dir) keep_dir=$2; shift 2 ;;
    --seed-only) seed_only=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

kyoso=${KYOSO_BIN:-}
if [ -z "$kyoso" ]; then
  for d in "${CARGO_TARGET_DIR:-target}/release" "${CARGO_TARGET_DIR:-target}/debug"; do
    if [ -x "$d/kyoso" ]; then kyoso="$d/kyoso"; break; fi
  done
fi
[ -x "$kyoso" ] || { echo "no kyoso binary: cargo build --release (or set KYOSO_BIN)" >&2; exit 1; }
# kyoso refuses KYOSO_* variables it does not know.
unset KYOSO_BIN
for tool in wrk curl python3; do
  command -v $tool >/dev/null || { echo "$tool not found: apt-get install -y $tool" >&2; exit 1; }
done

if [ -n "$keep_dir" ]; then
  mkdir -p "$keep_dir"
  work=$(cd "$keep_dir" && pwd)
  KEEP=1
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/kyoso-load.XXXXXX")
fi
chmod 755 "$work"
pids=()
pg_bin=
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$pg_bin" ]; then as_pg "$pg_bin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
if [ "$(id -u)" = 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() { # URL SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "$1 not ready after $2 s" >&2
  return 1
}

routes=(search needs_list need_page offer_page matches submit inbox deadlines)
results="$work/results.jsonl"
: >"$results"
machine="$(nproc) cores, $(uname -r), kyoso binary $kyoso, load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load run $(date -u '+%Y-%m-%d %H:%M UTC'): scale $scale, wrk -t2 -c16 -d$duration per route; $machine" >&2

record() { # CONFIG ROUTE JSON
  python3 - "$1" "$2" "$3" >>"$results" <<'PY'
import json, sys
config, route, line = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.loads(line) if line.strip().startswith("{") else {"error": line}
d.update(config=config, route=route)
print(json.dumps(d))
PY
}

run_routes() { # CONFIG URL DIR
  for r in "${routes[@]}"; do
    out=$(wrk -t2 -c16 -d"$duration" --timeout 10s -s "$root/tests/load/route.lua" "$2" -- "$r" "$3" 2>&1 | grep '^{' | tail -n 1 || true)
    echo "  $1 $r: $out" >&2
    record "$1" "$r" "${out:-{\}}"
  done
}

peak_memory() { # CONFIG PID...
  local config=$1; shift
  local n=1
  for p in "$@"; do
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    record "$config" "memory node$n" "{\"vmhwm_kb\": ${kb:-0}}"
    n=$((n + 1))
  done
}

start_node() { # DATABASE_URL DATA_DIR PORT → pid in $node_pid
  mkdir -p "$2"
  DATABASE_URL="$1" KYOSO_DATA_DIR="$2" KYOSO_BIND="127.0.0.1:$3" KYOSO_LOG=warn \
    KYOSO_PROPOSALS_PER_HOUR=0 KYOSO_REGISTRATIONS_PER_HOUR=0 \
    "$kyoso" serve >"$2/serve.log" 2>&1 &
  node_pid=$!
  pids+=("$node_pid")
}

seed() { # DATABASE_URL DATA_DIR NAME
  mkdir -p "$2"
  if [ -s "$work/seed-$3.done" ]; then
    echo "reusing the $3 database seeded in $work" >&2
    return 0
  fi
  echo "seeding $3 (scale $scale)" >&2
  local started=$SECONDS
  DATABASE_URL="$1" KYOSO_DATA_DIR="$2" KYOSO_LOG=warn \
    "$kyoso" load-seed --scale "$scale" --jobs "$jobs" --out "$work/files-$3" | tee "$work/seed-$3.txt" >&2
  echo "seeded $3 in $((SECONDS - started)) s" >&2
  echo "$scale" >"$work/seed-$3.done"
}

stop_pids() {
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

if [[ ,$configs, == *,sqlite,* ]]; then
  seed "sqlite://$work/sqlite/kyoso.sqlite3" "$work/sqlite" sqlite
fi
if [[ ,$configs, == *,sqlite,* && $seed_only = 0 ]]; then
  port=$(free_port)
  start_node "sqlite://$work/sqlite/kyoso.sqlite3" "$work/sqlite" "$port"
  wait_ready "http://127.0.0.1:$port/readyz" 600
  run_routes sqlite "http://127.0.0.1:$port" "$work/files-sqlite"
  peak_memory sqlite "$node_pid"
  stop_pids "$node_pid"
fi

if [[ ,$configs, == *,postgres,* || ,$configs, == *,two-nodes,* ]]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$pg_bin" ] || { echo "PostgreSQL not found: apt-get install -y postgresql-15" >&2; exit 1; }
  [ "$(id -u)" = 0 ] && chown postgres "$work"
  pg_port=$(free_port)
  fresh_pg=0
  if [ ! -d "$work/pg" ]; then
    as_pg "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$work/initdb.log"
    fresh_pg=1
  fi
  as_pg "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w start \
    -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" >/dev/null
  if [ $fresh_pg = 1 ]; then
    as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres kyoso_load
  fi
  pg_url="postgres://postgres@127.0.0.1:$pg_port/kyoso_load"
  seed "$pg_url" "$work/pg-seed" postgres
fi

if [ $seed_only = 1 ]; then
  echo "seeded in $work" >&2
  exit 0
fi

if [[ ,$configs, == *,postgres,* ]]; then
  port=$(free_port)
  start_node "$pg_url" "$work/pg-seed" "$port"
  wait_ready "http://127.0.0.1:$port/readyz" 600
  run_routes postgres "http://127.0.0.1:$port" "$work/files-postgres"
  peak_memory postgres "$node_pid"
  stop_pids "$node_pid"
fi

if [[ ,$configs, == *,two-nodes,* ]]; then
  command -v haproxy >/dev/null || { echo "haproxy not found: apt-get install -y haproxy" >&2; exit 1; }
  p1=$(free_port); p2=$(free_port); lb=$(free_port)
  # Node 1 keeps the seeded index; node 2 builds its own from the database at start.
  start_node "$pg_url" "$work/pg-seed" "$p1"; n1=$node_pid
  start_node "$pg_url" "$work/pg-node2" "$p2"; n2=$node_pid
  wait_ready "http://127.0.0.1:$p1/readyz" 600
  wait_ready "http://127.0.0.1:$p2/readyz" 900
  KYOSO_LB_BIND=127.0.0.1:$lb KYOSO_NODE1=127.0.0.1:$p1 KYOSO_NODE2=127.0.0.1:$p2 KYOSO_CHECK_INTER=1s haproxy -f "$root/tests/haproxy/kyoso.cfg" -db >"$work/haproxy.log" 2>&1 &
  pids+=("$!")
  wait_ready "http://127.0.0.1:$lb/readyz" 30
  run_routes two-nodes "http://127.0.0.1:$lb" "$work/files-postgres"
  peak_memory two-nodes "$n1" "$n2"
  stop_pids "$n1" "$n2"
fi

if [ "$groonga" = 1 ]; then
  command -v groonga >/dev/null || { echo "groonga not found: apt-get install -y groonga-bin groonga-tokenizer-mecab mecab-ipadic-utf8" >&2; exit 1; }
  files=$(ls -d "$work"/files-* | head -n 1)
  echo "loading $(wc -l <"$files/docs.jsonl") documents into Groonga (TokenMecab)" >&2
  started=$SECONDS
  rm -rf "$work/groonga"; mkdir -p "$work/groonga"
  python3 "$root/tests/load/groonga_load.py" "$files/docs.jsonl" | groonga -n "$work/groonga/db" >"$work/groonga-load.log" 2>&1
  record groonga "load" "{\"seconds\": $((SECONDS - started))}"
  gport=$(free_port)
  groonga --protocol http -s --bind-address 127.0.0.1 --port "$gport" "$work/groonga/db" >"$work/groonga.log" 2>&1 &
  gpid=$!
  pids+=("$gpid")
  wait_ready "http://127.0.0.1:$gport/d/status" 60
  # Like kyoso, which reads its index files before it says ready and keeps the last
  # 256 search results per index generation: Groonga's files are read once, and its
  # query cache (100 entries by default) is given the same 256 entries.
  cat "$work"/groonga/db* >/dev/null
  curl -fsS "http://127.0.0.1:$gport/d/cache_limit?max=256" >/dev/null
  out=$(wrk -t2 -c16 -d"$duration" --timeout 10s -s "$root/tests/load/route.lua" "http://127.0.0.1:$gport" -- groonga "$files" 2>&1 | grep '^{' | tail -n 1 || true)
  echo "  groonga select: $out" >&2
  record groonga search "${out:-{\}}"
  peak_memory groonga "$gpid"
fi

python3 "$root/tests/load/report.py" "$results" "$json_out" "$work" "$scale" "$duration" "$machine"
