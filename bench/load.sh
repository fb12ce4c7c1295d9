#!/usr/bin/env bash
# Load benchmark of the axum example app (loopback only, bounded in time).
#
# One route, GET /api/echo (optional credential, no database work in the handler), requested
# four ways: without a credential, with a JWT, with an API key (verification cache off), and
# with an API key (cache on, in a second app run). The server is pinned to CPU 0 with one
# tokio worker; wrk runs on CPU 1. Results are printed as a Markdown table of requests per
# second and ratios.
#
# usage: bench/load.sh [SECONDS_PER_CASE=10] [CONNECTIONS=16]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-16}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
# CARGO_TARGET_DIR when set, else the repository's own target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
cargo build --release -q -p axum-app
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
trap 'stop; rm -rf "$work"' EXIT

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
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); ${secs}s per case, $conns connections, server on CPU 0 (1 worker), wrk on CPU 1"
echo
echo "| case | requests/s | vs JWT (same run) | vs unauthenticated |"
echo "|---|---|---|---|"
echo "| unauthenticated | $unauth | | 1.00 |"
echo "| JWT | $jwt_rps | 1.00 | $(ratio "$jwt_rps" "$unauth") |"
echo "| API key, no cache | $nocache | $(ratio "$nocache" "$jwt_rps") | $(ratio "$nocache" "$unauth") |"
echo "| API key, cache on | $cache | $(ratio "$cache" "$jwt2") (JWT in that run: $jwt2) | $(ratio "$cache" "$unauth") |"
echo
echo "targets: API key with cache >= 0.95x JWT and >= 0.85x unauthenticated"
