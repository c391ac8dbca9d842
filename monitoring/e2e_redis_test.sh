#!/usr/bin/env bash
# End-to-end monitoring test of the distributed mode: redis-server (the shipped
# deploy/redis.conf), `sopilot serve` on the Redis queue, two `sopilot worker`
# processes on every queue and seven more on the training queue, and a real
# Prometheus scraping all ten every second with our alert rules (`for`
# shortened in a test copy). Real ingests and a score run on the workers; then
# one worker is SIGKILLed and Redis is killed. Prometheus must show: the ten
# targets up, every dashboard panel with data and no line per process, job
# metrics from the workers' own /metrics,
# active workers from heartbeats (2, then 1 once the killed worker's heartbeat
# runs out), WorkerDown firing for the killed worker and APIDown not, Redis
# connection errors counted while Redis is down, and RedisConnectionErrors,
# APIDown (the API still answers its scrape but cannot serve) and WorkerDown
# (the surviving worker cannot take jobs) firing.
#   monitoring/e2e_redis_test.sh BUILD/sopilot
set -euo pipefail
bin=$(realpath "${1:-build/sopilot}")
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in prometheus redis-server redis-cli; do
  command -v $tool >/dev/null || { echo "e2e: $tool is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. "$root/monitoring/e2e-lib.sh"
rp=$(free_port); sp=$(free_port); w1=$(free_port); w2=$(free_port); pp=$(free_port)
api="http://127.0.0.1:$sp"; prom="http://127.0.0.1:$pp"

mkdir -p "$work/redis"
start_redis() {
  redis-server "$root/deploy/redis.conf" --port "$rp" --dir "$work/redis" --save "" >>"$work/redis.log" 2>&1 &
  redis_pid=$!
  pids+=($redis_pid)
  wait_until 10 sh -c "redis-cli -p $rp ping | grep -q PONG"
}
start_redis
# The feature adapter on: the training below completes, so the last-success
# panel has data.
export SOPILOT_QUEUE_BACKEND=redis SOPILOT_REDIS_URL="redis://127.0.0.1:$rp/0" SOPILOT_LEASE_SEC=2 SOPILOT_ENABLE_FEATURE_ADAPTER=1
"$bin" serve --port "$sp" --data-dir "$work/data" 2>"$work/serve.log" &
pids+=($!)
"$bin" worker --metrics-port "$w1" --data-dir "$work/data" 2>"$work/worker1.log" &
pids+=($!)
"$bin" worker --metrics-port "$w2" --data-dir "$work/data" 2>"$work/worker2.log" &
worker2=$!
pids+=($worker2)
# Seven more worker processes, on the training queue only (the ingest and
# score figures below stay those of the two above): ten processes in all,
# for the dashboard's "no line per process" checks.
extra=()
for i in 3 4 5 6 7 8 9; do
  port=$(free_port); extra+=("127.0.0.1:$port")
  "$bin" worker --queues training --metrics-port "$port" --data-dir "$work/data" 2>"$work/worker$i.log" &
  pids+=($!)
done
extra_targets=$(printf '"%s", ' "${extra[@]}"); extra_targets=${extra_targets%, }
wait_until 20 curl -sf "$api/health" -o /dev/null
wait_until 20 curl -sf "http://127.0.0.1:$w1/health" -o /dev/null
wait_until 20 curl -sf "http://127.0.0.1:$w2/health" -o /dev/null

start_prometheus "      - {targets: [\"127.0.0.1:$sp\"], labels: {role: api}}
      - {targets: [\"127.0.0.1:$w1\", \"127.0.0.1:$w2\", $extra_targets], labels: {role: worker}}"

positive() { python3 -c "import sys; v='$(value "$1")'; sys.exit(0 if v != 'none' and float(v) > 0 else 1)"; }
check "the API and the nine workers are scraped (up == 1)" wait_until 120 is 'count(up{job="sopilot"} == 1)' 10

# Real work, done by the worker processes.
task=e2e
. "$root/scripts/api-client.sh"
"$root/scripts/make-sample-videos.sh" "$work/sample" >/dev/null
gold=$(upload "$work/sample/gold.mp4" gold)
trainee=$(upload "$work/sample/trainee.mp4" trainee)
wait_job "/score/$(score "$gold" "$trainee")" >/dev/null
check "the API runs no job (its own completed counters stay 0)" \
  wait_until 10 is 'sum(sopilot_ingest_jobs_total{role="api",status="completed"})' 0
check "the workers' own /metrics count the 2 ingests" \
  wait_until 10 is 'sum(sopilot_ingest_jobs_total{role="worker",status="completed"})' 2
check "the workers' own /metrics count the score and time the alignment" \
  wait_until 10 is 'sum(sopilot_dtw_execution_seconds_count{role="worker"})' 1
check "queue depth read from Redis, one series per queue and process" \
  wait_until 10 is 'count(sopilot_queue_depth)' 30
check "two workers with live heartbeats serve the ingest queue" \
  wait_until 10 is 'max(sopilot_active_workers{queue="ingest"})' 2
check "nine workers with live heartbeats serve the training queue" \
  wait_until 30 is 'max(sopilot_active_workers{queue="training"})' 9
check "every process exports the Redis error counter, at 0" \
  wait_until 10 is 'count(sopilot_redis_connection_errors_total == 0)' 10

# Every panel draws the same with ten processes as with one: a line per
# queue (or job type), never one per process, and each query has data (a
# training has completed, so the last-success panel too).
wait_job "/train/jobs/$(curl -sf -X POST -d "" "$api/train/nightly" | field "['training_job_id']")" >/dev/null
check "the training's success reaches Prometheus" \
  wait_until 10 positive 'max(sopilot_training_last_success_timestamp_seconds)'
panel_queries "$root/monitoring/grafana-dashboard.json" > "$work/panel-queries.txt"
while IFS=$'\t' read -r title expr; do
  check "panel '$title' has data with ten processes: $expr" test "$(series "$expr")" -ge 1
  check "panel '$title' draws no line per process: $expr" test "$(per_process_series "$expr")" = 0
done < "$work/panel-queries.txt"

# A worker killed with SIGKILL: its target goes down and its heartbeat runs out.
kill -9 "$worker2"
check "the killed worker's target is down" wait_until 15 is "up{instance=\"127.0.0.1:$w2\"}" 0
check "active workers drop to 1 within 30 s" wait_until 30 is 'max(sopilot_active_workers{queue="ingest"})' 1
check "WorkerDown reaches firing for the killed worker" alert_fires WorkerDown 60 "127.0.0.1:$w2"
check "a dead worker is not read as the API down" not alert_active APIDown

# Redis killed: every process counts its failures and the alert fires.
kill -9 "$redis_pid"
code=$(curl -s -o /dev/null -w '%{http_code}' -F "file=@$work/sample/gold.mp4" -F "task_id=$task" "$api/videos")
check "uploads answer 503 while Redis is down (got $code)" test "$code" = 503
check "RedisConnectionErrors reaches firing" alert_fires RedisConnectionErrors 90
check "the API counted Redis errors" positive 'sum(sopilot_redis_connection_errors_total{role="api"})'
check "the surviving worker counted Redis errors" positive 'sum(sopilot_redis_connection_errors_total{role="worker"})'
# The API still answers its scrape (up == 1) but cannot serve: APIDown reads
# sopilot_up, not up; the surviving worker cannot take jobs either.
check "the API's target is still up while Redis is down" is "up{instance=\"127.0.0.1:$sp\"}" 1
check "APIDown reaches firing for the API" alert_fires APIDown 60 "127.0.0.1:$sp"
check "WorkerDown reaches firing for the surviving worker" alert_fires WorkerDown 60 "127.0.0.1:$w1"

# Redis back (AOF): work is accepted and done again.
start_redis
job=$(curl -sf -F "file=@$work/sample/trainee.mp4" -F "task_id=$task" -F "role=trainee" "$api/videos" | field "['ingest_job_id']")
check "an upload after Redis is back completes" test "$(wait_job "/videos/jobs/$job" | field "['status']")" = completed
[ "$failed" -eq 0 ] || tail -n 5 "$work"/*.log >&2
finish
