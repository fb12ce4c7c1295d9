#!/usr/bin/env bash
# Revocation propagation benchmark: how long a key revoked on one axum-app instance keeps
# being accepted by the others, per invalidation feed (loopback only, bounded in time).
#
# For each feed, starts 3 release-built axum-app instances on one fresh database (default
# configuration: cache on for 60 s, the feed chosen from the database, or Redis when
# CLAB_KEYS_REDIS_URL is set), checks that they really serve keys from their caches, then runs
# the harness's `propagation` driver: REVOCATIONS times, create a key, warm it on all three,
# wait a random 0-300 ms (so that revocations fall at random phases of the 250 ms poll and of
# the heartbeats), revoke it on one through the HTTP API (the owner's JWT), and poll the two others until both
# refuse it, measured from the moment the revoke call answered. Then the same with 1, 2 and 4
# instances (COST_REVOCATIONS each) for the revoke call's time per instance count.
#
# Feeds: postgres (NOTIFY, PostgreSQL), redis (Redis pub/sub, the database on PostgreSQL),
# changelog-mariadb and changelog-sqlite (the change log polled every 250 ms).
#
# Writes docs/figures/revocation-propagation.{csv,json,svg} and
# docs/figures/revocation-feed-cost.json, and prints the summary.
#
# usage: bench/propagation.sh [REVOCATIONS=200] [FEEDS="postgres redis changelog-mariadb changelog-sqlite"]
# environment: COST_REVOCATIONS (default 50; 0 skips the 1/2/4-instance runs), OUT_DIR (default
# docs/figures), PG_URL (default postgres://postgres@127.0.0.1:5432), MYSQL_URL (default
# mysql://root@127.0.0.1:3306), REDIS_URL (default redis://127.0.0.1:6379)
set -euo pipefail
cd "$(dirname "$0")/.."
revocations=${1:-200}
feeds=${2:-"postgres redis changelog-mariadb changelog-sqlite"}
cost_revocations=${COST_REVOCATIONS:-50}
out_dir=${OUT_DIR:-docs/figures}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
my=${MYSQL_URL:-mysql://root@127.0.0.1:3306}
redis=${REDIS_URL:-redis://127.0.0.1:6379}
# CARGO_TARGET_DIR when set, else the repository's own target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}"
# SKIP_BUILD=1 uses the binaries already built (say while the tree does not build).
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -q -p axum-app -p clab-keys-bench
bin="$CARGO_TARGET_DIR/release/axum-app"
harness="$CARGO_TARGET_DIR/release/propagation"
plot="$CARGO_TARGET_DIR/release/plot"
work=$(mktemp -d)
mkdir -p "$out_dir"
source bench/instances.sh

export JWT_SECRET="propagation-benchmark-jwt-secret-0123456789"
export CLAB_KEYS_PEPPER="QkVOQ0hNQVJLLVBFUFBFUi0wMTIzNDU2Nzg5YWJjZGVmZ2g="
export SEED_DEMO_USERS=1
export RUST_LOG=warn
unset CLAB_KEYS_CACHE_TTL_SECS CLAB_KEYS_INVALIDATION_FEED CLAB_KEYS_REDIS_URL
db_name=""; db_kind=""
drop_db() {
  case "$db_kind" in
    postgres) psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null ;;
    mysql) mysql -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS $db_name" ;;
  esac
  db_kind=""
}
trap 'stop_instances; drop_db; rm -rf "$work"' EXIT

# Sets DATABASE_URL (a fresh database), CLAB_KEYS_REDIS_URL, and $delete_row: a shell command
# that deletes the row of key {id} behind the apps' backs (the cache check).
setup_feed() { # $1 = feed
  drop_db
  unset CLAB_KEYS_REDIS_URL
  db_name="bench_prop_$$_$(date +%s%N | tail -c 7)"
  case "$1" in
    postgres|redis)
      psql -q "$pg/postgres" -c "CREATE DATABASE $db_name" >/dev/null; db_kind=postgres
      export DATABASE_URL="$pg/$db_name"
      delete_row="psql -q '$DATABASE_URL' -c \"DELETE FROM clab_api_keys WHERE key_id = '{id}'\""
      if [ "$1" = redis ]; then export CLAB_KEYS_REDIS_URL="$redis"; fi
      ;;
    changelog-mariadb)
      mysql -h 127.0.0.1 -u root -e "CREATE DATABASE $db_name"; db_kind=mysql
      export DATABASE_URL="$my/$db_name"
      delete_row="mysql -h 127.0.0.1 -u root $db_name -e \"DELETE FROM clab_api_keys WHERE key_id = '{id}'\""
      ;;
    changelog-sqlite)
      rm -f "$work/shared.sqlite"*
      export DATABASE_URL="sqlite://$work/shared.sqlite?mode=rwc"
      delete_row="sqlite3 -cmd '.timeout 5000' '$work/shared.sqlite' \"DELETE FROM clab_api_keys WHERE key_id = '{id}'\""
      ;;
    *) echo "unknown feed $1"; exit 1 ;;
  esac
}

csv="$work/propagation.csv"
summary="$work/propagation.json"
cost="$work/cost.json"
: >"$summary"; : >"$cost"
for feed in $feeds; do
  setup_feed "$feed"
  start_instances 3
  echo "== $feed: 3 instances ($(grep -h 'invalidation feed' "$work/app1.log" | head -n1))"
  "$harness" --urls "$urls" --feed "$feed" --revocations "$revocations" --out "$csv" --jitter-ms 300 \
    --unannounced-delete "$delete_row" | tee -a "$summary" | tee -a "$cost"
  stop_instances
  if [ "$cost_revocations" -gt 0 ]; then
    for n in 1 2 4; do
      setup_feed "$feed"
      start_instances "$n"
      echo "== $feed: $n instance(s), $cost_revocations revocations"
      "$harness" --urls "$urls" --feed "$feed" --revocations "$cost_revocations" --jitter-ms 300 | tee -a "$cost"
      stop_instances
    done
  fi
done
drop_db

cp "$csv" "$out_dir/revocation-propagation.csv"
cp "$summary" "$out_dir/revocation-propagation.json"
if [ "$cost_revocations" -gt 0 ]; then cp "$cost" "$out_dir/revocation-feed-cost.json"; fi
"$plot" propagation --csv "$out_dir/revocation-propagation.csv" --out "$out_dir/revocation-propagation.svg"
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "wrote $out_dir/revocation-propagation.{csv,json,svg}"
