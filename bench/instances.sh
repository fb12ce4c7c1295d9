# Starting and stopping several axum-app instances on one database; sourced by the bench
# scripts. Needs $bin (the release axum-app) and $work (a temporary directory).
#
#   start_instances N    starts N instances on free loopback ports (ADDR=127.0.0.1:0, the app
#                        prints the port it got), the first alone (it migrates and seeds);
#                        sets $urls (comma-separated) and the array $pids
#   stop_instances       stops them (SIGTERM, then waits)
#
# $launch (an array, empty by default) prefixes the command, e.g. launch=(taskset -c 0).

pids=()
urls=""
launch=(${launch[@]+"${launch[@]}"})

start_instances() { # $1 = how many; extra environment comes from the caller
  local n=$1 i log url
  pids=(); urls=""
  for i in $(seq 1 "$n"); do
    log="$work/app$i.log"
    ADDR=127.0.0.1:0 ${launch[@]+"${launch[@]}"} "$bin" >"$log" 2>&1 &
    pids+=($!)
    url=""
    for _ in $(seq 1 300); do
      url=$(sed -nE 's/.* listening on (http:[^ ]+).*/\1/p' "$log" | head -n1)
      [ -n "$url" ] && curl -fs "$url/healthz" >/dev/null 2>&1 && break
      kill -0 "${pids[-1]}" 2>/dev/null || break
      url=""; sleep 0.1
    done
    if [ -z "$url" ]; then echo "instance $i did not start:"; cat "$log"; stop_instances; exit 1; fi
    urls="${urls:+$urls,}$url"
  done
}

stop_instances() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=(); urls=""
}
