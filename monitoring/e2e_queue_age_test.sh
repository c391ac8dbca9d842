#!/usr/bin/env bash
# End-to-end test of OldestJobWaitingTooLong on a real Prometheus (rules with
# every `for` shortened to 2 s, as in e2e_test.sh). `sopilot serve` runs with
# no score worker, so a score job waits in its queue. Prometheus must stay
# silent while it has waited seconds, then, once the job's ready time is moved
# eleven minutes into the past in the queue's table (the fault: a job stuck
# waiting, without waiting ten real minutes), show
# sopilot_queue_oldest_job_age_seconds{queue="score"} past 600 and the alert
# firing for the score queue.
#   monitoring/e2e_queue_age_test.sh BUILD/sopilot
set -euo pipefail
bin=$(realpath "${1:-build/sopilot}")
root=$(cd "$(dirname "$0")/.." && pwd)
for tool in prometheus sqlite3; do
  command -v $tool >/dev/null || { echo "e2e: $tool is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. "$root/monitoring/e2e-lib.sh"
sp=$(free_port); pp=$(free_port)
api="http://127.0.0.1:$sp"; prom="http://127.0.0.1:$pp"

SOPILOT_SCORE_WORKERS=0 "$bin" serve --port "$sp" --data-dir "$work/data" 2>"$work/serve.log" &
pids+=($!)
wait_until 30 curl -sf "$api/health" -o /dev/null

start_prometheus '      - {targets: ["127.0.0.1:'"$sp"'"]}'

between() {  # EXPR LOW HIGH: LOW < value < HIGH
  python3 -c "import sys; v='$(value "$1")'; sys.exit(0 if v != 'none' and $2 < float(v) < $3 else 1)"
}

# A score job that no worker takes.
task=e2e
. "$root/scripts/api-client.sh"
"$root/scripts/make-sample-videos.sh" "$work/sample" >/dev/null
gold=$(upload "$work/sample/gold.mp4" gold)
trainee=$(upload "$work/sample/trainee.mp4" trainee)
score "$gold" "$trainee" >/dev/null
check "the score job waits in its queue" wait_until 60 is 'sopilot_queue_depth{queue="score"}' 1
check "its age is seconds, not minutes" wait_until 60 between 'sopilot_queue_oldest_job_age_seconds{queue="score"}' 0 600
# Quiet for longer than the shortened `for`: six evaluations with the job
# waiting.
wait_until 60 at_least 'count_over_time((sopilot_queue_oldest_job_age_seconds{queue="score"} > 0)[1m:1s])' 6 || true
check "a job waiting seconds raises no OldestJobWaitingTooLong" not alert_active OldestJobWaitingTooLong

# The fault: the job has waited eleven minutes (its ready time moved back).
sqlite3 -cmd ".timeout 10000" "$work/data/sopilot.db" \
  "UPDATE queue_items SET available_at = available_at - 660 WHERE kind = 'score' AND state = 'ready'"
check "its age passes ten minutes" wait_until 60 at_least 'sopilot_queue_oldest_job_age_seconds{queue="score"}' 660
check "OldestJobWaitingTooLong reaches firing" alert_fires OldestJobWaitingTooLong 60
check "it names the score queue" test "$(curl -sf "$prom/api/v1/alerts" | python3 -c '
import json, sys
print(",".join(sorted({a["labels"].get("queue", "") for a in json.load(sys.stdin)["data"]["alerts"]
                       if a["labels"]["alertname"] == "OldestJobWaitingTooLong" and a["state"] == "firing"})))')" = score
[ "$failed" -eq 0 ] || tail -n 5 "$work"/*.log >&2
finish
