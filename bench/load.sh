#!/usr/bin/env bash
# Load benchmark of the axum example app (loopback only, bounded in time). Two parts:
#
# echo: one route, GET /api/echo (optional credential, no database work in the handler), requested
# four ways: without a credential, with a JWT, with an API key (verification cache off), and
# with an API key (cache on, in a second app run). The server is pinned to CPU 0 with one
# tokio worker; wrk runs on CPU 1. Results are printed as a Markdown table of requests per
# second and ratios.
#
# me: the database-backed route GET /api/security/users/me by API key and by JWT in the same
# run, with the apps' default configuration (verification cache on, the feed that matches the
# database), on SQLite (a shared file) and on PostgreSQL (a fresh database), with 1 and with 3
# instances. The instances share CPU 0 (one tokio worker each); wrk runs on CPU 1 (one wrk per
# instance for 3 instances, the connections split between them, requests per second summed).
# Cases run JWT, key, key, JWT (so drift falls on both alike); the ratio is the sum of the key
# runs over the sum of the JWT runs, the spread the two pairs' ratios. Writes
# docs/figures/load-ratios.csv and docs/figures/load-ratios.svg (OUT_DIR to change).
#
# usage: bench/load.sh [SECONDS_PER_CASE=10] [CONNECTIONS=16] [PARTS="echo me"]
# environment: PG_URL (default postgres://postgres@127.0.0.1:5432), OUT_DIR (docs/figures)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-16}
parts=${3:-"echo me"}
out_dir=${OUT_DIR:-docs/figures}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
# CARGO_TARGET_DIR when set, else the repository's own target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
# SKIP_BUILD=1 uses the binaries already built (say while the tree does not build).
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p axum-app -p clab-keys-bench
bin="$CARGO_TARGET_DIR/release/axum-app"
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
addr="127.0.0.1:$port"
export JWT_SECRET="load-benchmark-jwt-secret-0123456789abcdef"
export CLAB_KEYS_PEPPER="QkVOQ0hNQVJLLVBFUFBFUi0wMTIzNDU2Nzg5YWJjZGVmZ2g="
export DATABASE_URL="sqlite://$work/load.sqlite?mode=rwc"
# A database given by DATABASE_URL gets the demo users only when asked (the login below).
export SEED_DEMO_USERS=1
export RUST_LOG=warn
pid=""
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; pid=""; }
source bench/instances.sh
db_name=""
drop_db() { [ -z "$db_name" ] || psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null; db_name=""; }
trap 'stop; stop_instances; drop_db; rm -rf "$work"' EXIT
machine="machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

echo_part() {
  start() { # $1 = cache ttl seconds (0 = off)
    CLAB_KEYS_CACHE_TTL_SECS=$1 ADDR=$addr TOKIO_WORKER_THREADS=1 taskset -c 0 "$bin" >"$work/app.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -fs "http://$addr/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
    echo "the app did not start:"; cat "$work/app.log"; exit 1
  }

  run() { # $1 = name, $2 = header or empty
    local out
    if [ -n "$2" ]; then
      out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" -H "$2" "http://$addr/api/echo")
    else
      out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "http://$addr/api/echo")
    fi
    local rps non2xx
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    [ -z "$non2xx" ] || { echo "$1: $non2xx non-2xx answers"; echo "$out"; exit 1; }
    echo "$1 $rps" >>"$work/results"
  }

  start 0
  jwt=$(curl -fs -X POST "http://$addr/api/auth/login" -H 'content-type: application/json' \
    -d '{"email":"demo@example.com","password":"demo-password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  key=$(curl -fs -X POST "http://$addr/api/user/api-keys" -H "authorization: Bearer $jwt" \
    -H 'content-type: application/json' -d '{"name":"load benchmark"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
  run unauthenticated ""
  run jwt "Authorization: Bearer $jwt"
  run api_key_no_cache "Authorization: Bearer $key"
  stop
  start 5
  run api_key_cache "Authorization: Bearer $key"
  run jwt_cache_run "Authorization: Bearer $jwt"
  stop

  get() { awk -v n="$1" '$1 == n {print $2}' "$work/results"; }
  unauth=$(get unauthenticated); jwt_rps=$(get jwt); nocache=$(get api_key_no_cache)
  cache=$(get api_key_cache); jwt2=$(get jwt_cache_run)
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  echo
  echo "$machine; ${secs}s per case, $conns connections, server on CPU 0 (1 worker), wrk on CPU 1"
  echo
  echo "| case | requests/s | vs JWT (same run) | vs unauthenticated |"
  echo "|---|---|---|---|"
  echo "| unauthenticated | $unauth | | 1.00 |"
  echo "| JWT | $jwt_rps | 1.00 | $(ratio "$jwt_rps" "$unauth") |"
  echo "| API key, no cache | $nocache | $(ratio "$nocache" "$jwt_rps") | $(ratio "$nocache" "$unauth") |"
  echo "| API key, cache on | $cache | $(ratio "$cache" "$jwt2") (JWT in that run: $jwt2) | $(ratio "$cache" "$unauth") |"
  echo
  echo "targets: API key with cache >= 0.95x JWT and >= 0.85x unauthenticated"
}

# One wrk per instance, the connections split between them; prints the summed requests/s.
me_run() { # $1 = header
  local i=0 u n per out total=0 rps non2xx wpids=()
  IFS=, read -r -a list <<<"$urls"
  n=${#list[@]}; per=$(( (conns + n - 1) / n ))
  for u in "${list[@]}"; do
    taskset -c 1 wrk -t1 -c"$per" -d"${secs}s" -H "$1" "$u/api/security/users/me" >"$work/wrk$i.out" &
    wpids+=($!); i=$((i + 1))
  done
  wait "${wpids[@]}"
  for i in $(seq 0 $((n - 1))); do
    out=$(cat "$work/wrk$i.out")
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    [ -z "$non2xx" ] || { echo "$non2xx non-2xx answers:" >&2; echo "$out" >&2; exit 1; }
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    total=$(awk -v a="$total" -v b="$rps" 'BEGIN { printf "%.0f", a + b }')
  done
  echo "$total"
}

me_case() { # $1 = label (no comma: it is a CSV field), $2 = database (sqlite|postgres), $3 = instances
  case "$2" in
    sqlite) rm -f "$work/me.sqlite"*; export DATABASE_URL="sqlite://$work/me.sqlite?mode=rwc" ;;
    postgres)
      db_name="bench_load_$$_$(date +%s%N | tail -c 7)"
      psql -q "$pg/postgres" -c "CREATE DATABASE $db_name" >/dev/null
      export DATABASE_URL="$pg/$db_name" ;;
  esac
  launch=(env TOKIO_WORKER_THREADS=1 taskset -c 0)
  start_instances "$3"
  local first=${urls%%,*} jwt key u j1 k1 k2 j2
  jwt=$(curl -fs -X POST "$first/api/auth/login" -H 'content-type: application/json' \
    -d '{"email":"demo@example.com","password":"demo-password"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  key=$(curl -fs -X POST "$first/api/user/api-keys" -H "authorization: Bearer $jwt" \
    -H 'content-type: application/json' -d '{"name":"load benchmark"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
  for u in ${urls//,/ }; do curl -fs -o /dev/null -H "Authorization: Bearer $key" "$u/api/security/users/me"; done
  j1=$(me_run "Authorization: Bearer $jwt"); k1=$(me_run "Authorization: Bearer $key")
  k2=$(me_run "Authorization: Bearer $key"); j2=$(me_run "Authorization: Bearer $jwt")
  stop_instances; drop_db
  local r r1 r2 lo hi
  r=$(awk -v a="$k1" -v b="$k2" -v c="$j1" -v d="$j2" 'BEGIN { printf "%.3f", (a + b) / (c + d) }')
  r1=$(awk -v a="$k1" -v b="$j1" 'BEGIN { printf "%.3f", a / b }')
  r2=$(awk -v a="$k2" -v b="$j2" 'BEGIN { printf "%.3f", a / b }')
  lo=$(awk -v a="$r1" -v b="$r2" 'BEGIN { print (a < b ? a : b) }')
  hi=$(awk -v a="$r1" -v b="$r2" 'BEGIN { print (a > b ? a : b) }')
  echo "$1,$r,$lo,$hi,$j1,$k1,$k2,$j2,$(cut -d' ' -f1 /proc/loadavg)" >>"$work/me.csv"
  echo "$1: JWT $j1 / key $k1 / key $k2 / JWT $j2 req/s: key vs JWT ${r}x ($r1, $r2)"
}

me_part() {
  echo "case,ratio,low,high,jwt_1,key_1,key_2,jwt_2,load_1min" >"$work/me.csv"
  me_case "SQLite 1 instance" sqlite 1
  me_case "SQLite 3 instances" sqlite 3
  me_case "PostgreSQL 1 instance" postgres 1
  me_case "PostgreSQL 3 instances" postgres 3
  mkdir -p "$out_dir"
  cp "$work/me.csv" "$out_dir/load-ratios.csv"
  "$CARGO_TARGET_DIR/release/plot" load --csv "$out_dir/load-ratios.csv" --out "$out_dir/load-ratios.svg"
  echo
  echo "$machine; ${secs}s per case, $conns connections in all; instances on CPU 0 (1 worker each), wrk on CPU 1"
  echo
  echo "| case | JWT req/s (1st, 2nd) | API key req/s (1st, 2nd) | API key vs JWT | spread | load (1 min) |"
  echo "|---|---|---|---|---|---|"
  awk -F, 'NR > 1 { printf "| %s | %s, %s | %s, %s | %.2f | %.2f–%.2f | %s |\n", $1, $5, $8, $6, $7, $2, $3, $4, $9 }' "$work/me.csv"
  echo
  echo "target: API key >= 1.0x JWT; wrote $out_dir/load-ratios.{csv,svg}"
}

for part in $parts; do
  case "$part" in
    echo) echo_part ;;
    me) me_part ;;
    *) echo "unknown part $part (echo, me)"; exit 1 ;;
  esac
done
