#!/usr/bin/env bash
# End-to-end monitoring test: `sopilot serve` and a real Prometheus scraping it
# every second with our alert rules loaded (their `for` durations shortened in a
# test copy). Real work runs (ingests and scores of generated videos, then
# injected score failures); then Prometheus' HTTP API must show: our target up,
# every seed metric present, every dashboard panel query returning a series,
# every rule group loaded with health ok, no alert on the idle system, and
# HighJobFailureRate, DeadJobs and both ScoreSLOBurnRate alerts firing, and the
# federation example's match[] carrying each of them.
#   monitoring/e2e_test.sh BUILD/sopilot
set -euo pipefail
bin=$(realpath "${1:-build/sopilot}")
root=$(cd "$(dirname "$0")/.." && pwd)
command -v prometheus >/dev/null || { echo "e2e: prometheus is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
. "$root/monitoring/e2e-lib.sh"
sp=$(free_port); pp=$(free_port)
api="http://127.0.0.1:$sp"; prom="http://127.0.0.1:$pp"

# The feature adapter on: the training below completes (not skipped), so the
# last-success panel has data.
SOPILOT_ENABLE_FAULT_INJECTION=1 SOPILOT_RETRY_BACKOFF_SEC=0.1 SOPILOT_RQ_RETRY_MAX=1 SOPILOT_ENABLE_FEATURE_ADAPTER=1 \
  "$bin" serve --port "$sp" --data-dir "$work/data" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "$api/health" >/dev/null && break; sleep 0.1; done

start_prometheus '      - {targets: ["127.0.0.1:'"$sp"'"]}'

# Prometheus applies new targets every few seconds: wait for its first scrape
# of us, so that the work below is seen as increases from zero.
for _ in $(seq 300); do [ "$(value 'up{job="sopilot"}')" = 1 ] && break; sleep 0.1; done

# An idle system raises nothing: once every rule has been evaluated on five
# scrapes (every `for` here is 2 s), no alert is pending or firing.
for _ in $(seq 300); do
  [ "$(value 'count_over_time(up{job="sopilot"}[1m]) >= 6')" != none ] && break; sleep 0.1
done
check "idle: no alert pending or firing" test "$(curl -sf "$prom/api/v1/alerts" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["alerts"]))')" = 0

# Real work: two ingests and a score, then score jobs that fail on purpose.
task=e2e
. "$root/scripts/api-client.sh"
"$root/scripts/make-sample-videos.sh" "$work/sample" >/dev/null
gold=$(upload "$work/sample/gold.mp4" gold)
trainee=$(upload "$work/sample/trainee.mp4" trainee)
wait_job "/score/$(score "$gold" "$trainee")" >/dev/null
echo "not a video" > "$work/notes.mp4"
upload "$work/notes.mp4" trainee >/dev/null || true          # an ingest that fails
training=$(curl -sf -X POST -d "" "$api/train/nightly" | field "['training_job_id']")
wait_job "/train/jobs/$training" >/dev/null
curl -sf -H 'Content-Type: application/json' -d '{"job_type": "score", "failure_rate": 1.0}' "$api/ops/fault-injection" >/dev/null
for _ in 1 2 3 4; do wait_job "/score/$(score "$gold" "$trainee")" >/dev/null; done
sleep 5  # a few scrapes after the work


check "up{job=\"sopilot\"} == 1" test "$(value 'up{job="sopilot"}')" = 1
metrics_text=$(curl -sf "$api/metrics")
for m in sopilot_ingest_jobs_total sopilot_score_jobs_total sopilot_training_jobs_total sopilot_job_duration_seconds \
         sopilot_dtw_execution_seconds sopilot_embedding_generation_seconds sopilot_queue_depth sopilot_active_workers \
         sopilot_total_clips sopilot_redis_connection_errors_total sopilot_database_locked_errors_total \
         sopilot_gpu_memory_bytes sopilot_build_info; do
  check "$m exported" grep -q "^# TYPE $m " <<<"$metrics_text"
done
# Non-zero where work happened, as Prometheus sees them.
for expr in 'sopilot_ingest_jobs_total{status="completed"}' 'sopilot_score_jobs_total{status="completed"}' \
            'sopilot_score_jobs_total{status="dead"}' 'sopilot_job_duration_seconds_count{job_type="ingest"}' \
            'sopilot_dtw_execution_seconds_count{gpu="false"}' 'sopilot_embedding_generation_seconds_count{embedder="heuristic-v1"}' \
            'sopilot_embedding_seconds_per_clip_count{embedder="heuristic-v1"}' \
            'sopilot_total_clips' 'sopilot_active_workers{queue="score"}' 'sopilot_build_info'; do
  check "$expr > 0 in Prometheus" python3 -c "import sys; v='$(value "$expr")'; sys.exit(0 if v != 'none' and float(v) > 0 else 1)"
done
check "sopilot_queue_depth has a series per queue" test "$(series 'sopilot_queue_depth')" = 3
# Every dashboard panel query returns at least one series.
panel_queries "$root/monitoring/grafana-dashboard.json" > "$work/panel-queries.txt"
while IFS=$'\t' read -r title expr; do
  check "panel '$title': $expr" test "$(series "$expr")" -ge 1
done < "$work/panel-queries.txt"
# Rule groups loaded and healthy; HighJobFailureRate fires.
rules_ok() {
  curl -sf "$prom/api/v1/rules" | python3 -c '
import json, sys
g = json.load(sys.stdin)["data"]["groups"]
rules = [r for x in g for r in x["rules"]]
bad = [(r["name"], r.get("health"), r.get("lastError")) for r in rules if r.get("health") != "ok"]
print(len(g), "groups,", len(rules), "rules; not ok:", bad)
sys.exit(0 if len(g) == 6 and len(rules) >= 21 and not bad else 1)'
}
check "rule groups loaded with health ok" rules_ok
check "HighJobFailureRate reaches firing" alert_fires HighJobFailureRate 60
# The four dead score jobs: new dead jobs, and 4 of 5 score jobs missing the
# SLO burns its budget on both windows.
check "DeadJobs reaches firing" alert_fires DeadJobs 60
check "ScoreSLOBurnRateFast reaches firing" alert_fires ScoreSLOBurnRateFast 60
check "ScoreSLOBurnRateSlow reaches firing" alert_fires ScoreSLOBurnRateSlow 60
# The federation example's match[] carries every alert Prometheus has, those
# whose expression aggregates `job` away (DeadJobs, the SLO's) included.
federated_alerts() {
  python3 - "$root/monitoring/prometheus-federation.yaml" "$prom" <<'PY'
import json, sys, urllib.parse, urllib.request, yaml
params = yaml.safe_load(open(sys.argv[1]))["scrape_configs"][0]["params"]["match[]"]
fed = urllib.request.urlopen(sys.argv[2] + "/federate?" + urllib.parse.urlencode([("match[]", m) for m in params])).read().decode()
have = {l.split('alertname="')[1].split('"')[0] for l in fed.splitlines() if l.startswith("ALERTS{")}
alerts = {a["labels"]["alertname"] for a in json.load(urllib.request.urlopen(sys.argv[2] + "/api/v1/alerts"))["data"]["alerts"]}
print("alerts:", sorted(alerts), "federated:", sorted(have))
sys.exit(0 if alerts and alerts <= have else 1)
PY
}
check "the federation example carries every alert" federated_alerts
check "sopilot_job_latency_seconds counts the completed score" \
  test "$(value 'sopilot_job_latency_seconds_count{queue="score"}')" = 1
finish
