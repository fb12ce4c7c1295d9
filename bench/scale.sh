#!/usr/bin/env bash
# Scale benchmark: authentication without the verification cache on a PostgreSQL table of
# 1,000 keys and on one of 1,000,000, in the same run (the harness's `scale` driver: two fresh
# databases, 1,000 real keys in each through KeyService and SeaOrmStore, filler rows added in
# the server to the large one, rounds alternating between them; both dropped at the end).
# Runs RUNS times and writes docs/figures/scale.json (one JSON line per run).
#
# usage: bench/scale.sh [RUNS=3] [ROWS=1000000]
# environment: PG_URL (default postgres://postgres@127.0.0.1:5432), OUT_DIR (docs/figures),
# SKIP_BUILD=1 to use the binary already built
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
rows=${2:-1000000}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
out_dir=${OUT_DIR:-docs/figures}
# CARGO_TARGET_DIR when set, else the repository's own target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p clab-keys-bench --features scale --bin scale
mkdir -p "$out_dir"
: >"$out_dir/scale.json"
for i in $(seq 1 "$runs"); do
  "$CARGO_TARGET_DIR/release/scale" --admin-url "$pg/postgres" --rows "$rows" | tee -a "$out_dir/scale.json"
done
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
