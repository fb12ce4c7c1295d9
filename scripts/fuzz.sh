#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/) under libFuzzer for a bounded time and prints
# exec/s and total executions per target. Exits non-zero if any target found a crash (the input
# is saved under fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     # default: 60 s, all four targets
#
# Works on stable Rust: cargo-fuzz passes -Z flags (-Zsanitizer=address, sancov), which
# RUSTC_BOOTSTRAP=1 lets a stable rustc accept. Installs cargo-fuzz if it is missing.
# Environment:
#   FUZZ_TARGET_DIR   build directory (default: fuzz/ under the main target directory, that is
#                     $CARGO_TARGET_DIR/fuzz when CARGO_TARGET_DIR is set, else target/fuzz in
#                     the repository); kept apart from the main builds
#   FUZZ_SANITIZER    address (default) or none (faster, still coverage-guided)
#   FUZZ_JOBS         parallel libFuzzer jobs per target (default 1)
#
# New inputs go to fuzz/corpus-work/<target>/ (git-ignored); the committed seeds in
# fuzz/corpus/<target>/ are read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=${1:-60}
shift || true
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=(parse_token parse_authorization router challenge); fi

FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/fuzz}"
export CARGO_TARGET_DIR="$FUZZ_TARGET_DIR"
export RUSTC_BOOTSTRAP=1
sanitizer=${FUZZ_SANITIZER:-address}
jobs=${FUZZ_JOBS:-1}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

max_len() {
  case "$1" in
    parse_token) echo 8192 ;;          # > MAX_TOKEN_LEN (78); longer is one branch
    parse_authorization | router) echo 16384 ;;  # > MAX_BEARER_LEN (4096)
    challenge) echo 1024 ;;            # > the 128-byte realm limit
    *) echo 4096 ;;
  esac
}

echo "==> building ${targets[*]} (sanitizer: $sanitizer, target dir: $CARGO_TARGET_DIR)"
cargo fuzz build -s "$sanitizer" 2>&1 | tail -n 3

failed=()
summary=()
for t in "${targets[@]}"; do
  work="fuzz/corpus-work/$t"
  mkdir -p "$work" "fuzz/artifacts/$t"
  log=$(mktemp)
  echo "==> $t for ${secs}s"
  status=0
  parallel=()
  if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
  cargo fuzz run -s "$sanitizer" "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -max_len="$(max_len "$t")" -rss_limit_mb=4096 \
    -timeout=10 -print_final_stats=1 "${parallel[@]}" >"$log" 2>&1 || status=$?
  # With -jobs, each worker writes fuzz-N.log; read those too.
  stats=$(cat "$log" fuzz-*.log 2>/dev/null || true)
  execs=$(awk '/stat::number_of_executed_units/ {s+=$2} END {print s+0}' <<<"$stats")
  rate=$(awk '/stat::average_exec_per_sec/ {s+=$2} END {print s+0}' <<<"$stats")
  rss=$(awk '/stat::peak_rss_mb/ {if ($2>m) m=$2} END {print m+0}' <<<"$stats")
  cov=$(grep -oE 'cov: [0-9]+' <<<"$stats" | tail -n1 | awk '{print $2}' || true)
  rm -f fuzz-*.log
  line=$(printf '%-20s %12s execs  %8s exec/s  cov %-6s peak rss %5s MB' "$t" "$execs" "$rate" "${cov:-?}" "$rss")
  if [ "$status" -ne 0 ]; then
    line="$line  FAILED (exit $status)"
    failed+=("$t")
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 20 || true
  fi
  echo "$line"
  summary+=("$line")
  rm -f "$log"
done

echo
echo "fuzz summary (${secs}s per target):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "crashes in: ${failed[*]} (inputs under fuzz/artifacts/)"
  exit 1
fi
