#!/usr/bin/env bash
# HTTP benchmark: wrk with 256 connections against GET /score/{id} and
# GET /videos of a running `sopilot serve` with two ingested videos and one
# completed score. Prints requests/s, p99 latency and errors per route.
# Target: 0 errors and p99 < 20 ms.
#   bench/http_wrk.sh [build/sopilot] [seconds] [other/sopilot ...]
# With several binaries (e.g. a baseline build), each is measured in turn in
# the same sitting, with the same videos, so their figures compare.
set -euo pipefail
bin=${1:-build/sopilot}
seconds=${2:-10}
bins=("$bin" "${@:3}")
work=$(mktemp -d)
server=
trap 'if [ -n "$server" ]; then kill $server 2>/dev/null || true; fi; rm -rf "$work"' EXIT
scripts_dir=$(cd "$(dirname "$0")/../scripts" && pwd)
"$scripts_dir/make-sample-videos.sh" "$work/sample" >/dev/null
echo "server threads: ${SOPILOT_HTTP_THREADS:-256}; wrk: 2 threads, 256 connections, ${seconds}s per route; cores: $(nproc)"
n=0
for b in "${bins[@]}"; do
  n=$((n + 1))
  port=$((20000 + RANDOM % 20000))
  api="http://127.0.0.1:$port"
  SOPILOT_HTTP_THREADS=${SOPILOT_HTTP_THREADS:-256} "$b" serve --port "$port" --data-dir "$work/data$n" 2>"$work/serve$n.log" &
  server=$!
  for _ in $(seq 100); do curl -sf "$api/health" >/dev/null && break; sleep 0.1; done
  task=bench
  . "$scripts_dir/api-client.sh"
  gold=$(upload "$work/sample/gold.mp4" gold)
  trainee=$(upload "$work/sample/trainee.mp4" trainee)
  score=$(score "$gold" "$trainee")
  wait_job "/score/$score" >/dev/null
  [ ${#bins[@]} -gt 1 ] && echo "== $b"
  for route in "/score/$score" "/videos"; do
    out=$(wrk -t2 -c256 -d"${seconds}s" --latency "$api$route" 2>&1)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | awk '/Socket errors|Non-2xx/ {print}' | tr '\n' ' ')
    echo "GET $route: ${rps} requests/s, p99 ${p99}, errors: ${errors:-none}"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
done
