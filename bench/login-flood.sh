#!/usr/bin/env bash
# Login flood of the example apps (loopback only, a few seconds per case): FLOOD (default 96)
# parallel wrong-password logins, each from its own loopback address (127.0.0.10 and up, so
# failed-login throttling does not engage and only the hashing bound holds the flood), against
# each app with its default configuration; and, for comparison, against axum-app with as many
# hashing permits as logins (CLAB_KEYS_LOGIN_CONCURRENCY=$FLOOD, i.e. no bound).
#
# For each case it prints: the answers to the flood (200/401/503), the app's peak resident
# memory (VmHWM of /proc/<pid>/status, read after the flood), GET /healthz latency from another
# address while the flood runs (p50 and max over all probes), and the status of a correct login
# sent right after the flood. Targets: peak memory under 512 MiB, health under 1 s, that login
# 200. Ends with `uptime`, since other builds on the machine move the figures.
#
# usage: bench/login-flood.sh [FLOOD=96]
# environment: CARGO_TARGET_DIR (default: the repository's target/), SKIP_BUILD=1 to use the
# release binaries already built.
set -euo pipefail
cd "$(dirname "$0")/.."
flood=${1:-96}
[ "$flood" -ge 1 ] && [ "$flood" -le 190 ] || { echo "FLOOD must be 1-190"; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p axum-app -p actix-app
work=$(mktemp -d)
pid=""
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; pid=""; }
trap 'stop; rm -rf "$work"' EXIT
export JWT_SECRET="login-flood-benchmark-jwt-secret-0123456789"
export CLAB_KEYS_PEPPER="QkVOQ0hNQVJLLVBFUFBFUi0wMTIzNDU2Nzg5YWJjZGVmZ2g="
export RUST_LOG=warn
unset CLAB_KEYS_LOGIN_CONCURRENCY CLAB_KEYS_FAILED_LOGINS_PER_MINUTE CLAB_KEYS_TRUSTED_PROXIES

kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# $1 = label, $2 = binary, then extra VAR=value settings for the app.
case_run() {
  local label=$1 bin=$2; shift 2
  local dir="$work/$label" url=""
  mkdir -p "$dir"
  (cd "$dir" && exec env ADDR=127.0.0.1:0 "$@" "$bin" >"$dir/app.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 600); do
    url=$(sed -nE 's/.* listening on (http:[^ ]+).*/\1/p' "$dir/app.log" | head -n1)
    [ -n "$url" ] && curl -fs "$url/healthz" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    url=""; sleep 0.1
  done
  [ -n "$url" ] || { echo "$label did not start:"; cat "$dir/app.log"; exit 1; }
  local before
  before=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

  # Health probes from 127.0.0.2 until the flood is over.
  : >"$dir/health"
  (while [ ! -e "$dir/done" ]; do
     curl -s -o /dev/null --interface 127.0.0.2 -w '%{http_code} %{time_total}\n' "$url/healthz" >>"$dir/health" || true
     sleep 0.05
   done) &
  local prober=$!
  sleep 0.2
  local started i
  started=$(date +%s.%N)
  for i in $(seq 1 "$flood"); do
    curl -s -o /dev/null --max-time 120 --interface "127.0.0.$((9 + i))" -w '%{http_code}\n' \
      -H 'content-type: application/json' \
      -d '{"email": "demo@example.com", "password": "not-the-password"}' \
      "$url/api/auth/login" >"$dir/login.$i" &
  done
  # Waits for the flood only, not the prober.
  for job in $(jobs -p); do [ "$job" = "$prober" ] || [ "$job" = "$pid" ] || wait "$job" || true; done
  local took
  took=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  touch "$dir/done"; wait "$prober" || true
  local after_status
  after_status=$(curl -s -o /dev/null --interface 127.0.0.3 -w '%{http_code}' \
    -H 'content-type: application/json' \
    -d '{"email": "demo@example.com", "password": "demo-password"}' "$url/api/auth/login")
  local peak
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  stop
  local answers health
  answers=$(cat "$dir"/login.* | sort | uniq -c | awk '{printf "%s%s×%s", (NR > 1 ? ", " : ""), $2, $1}')
  health=$(awk '$1 == 200 {print $2}' "$dir/health" | sort -n | awk '
    { v[NR] = $1 } END { if (NR == 0) { print "no answer"; exit }
      printf "%d probes, p50 %.0f ms, max %.0f ms", NR, v[int((NR + 1) / 2)] * 1000, v[NR] * 1000 }')
  local failed_probes
  failed_probes=$(awk '$1 != 200' "$dir/health" | wc -l)
  printf '| %s | %s | %s s | %s MiB (%s at start) | %s; %s not 200 | %s |\n' \
    "$label" "$answers" "$took" "$(kib_to_mib "$peak")" "$(kib_to_mib "$before")" \
    "$health" "$failed_probes" "$after_status"
}

echo "login flood: $flood parallel wrong-password logins, $(nproc) cores, release build"
echo
echo "| case | flood answers | flood took | peak RSS (VmHWM) | /healthz during the flood | login right after |"
echo "|---|---|---|---|---|---|"
case_run axum-app "$CARGO_TARGET_DIR/release/axum-app"
case_run actix-app "$CARGO_TARGET_DIR/release/actix-app"
case_run "axum-app, no bound" "$CARGO_TARGET_DIR/release/axum-app" CLAB_KEYS_LOGIN_CONCURRENCY="$flood"
echo
echo "uptime:$(uptime)"
