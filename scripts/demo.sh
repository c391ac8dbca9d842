#!/usr/bin/env bash
# Brings up `sopilot serve` on the embedded defaults (SQLite store and queue
# under ./data, loopback only), then uses its REST API as a supervisor would:
# uploads the sample gold and trainee videos, waits for their ingest, scores
# the trainee and prints the result. The server keeps running in the
# foreground afterwards; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${SOPILOT_PORT:-8000}
data=${SOPILOT_DATA_DIR:-data}
api="http://127.0.0.1:$port"
[ -f sample/gold.mp4 ] || scripts/make-sample-videos.sh sample

build/sopilot serve --port "$port" --data-dir "$data" &
server=$!
trap 'kill $server 2>/dev/null || true' INT TERM
for _ in $(seq 100); do curl -sf "$api/health" >/dev/null && break; sleep 0.1; done
curl -sf "$api/health" >/dev/null || { echo "demo: the server did not come up on port $port" >&2; exit 1; }

task=sample-procedure
. scripts/api-client.sh
echo "== uploading sample/gold.mp4 and sample/trainee.mp4 to $api"
gold=$(upload sample/gold.mp4 gold)
trainee=$(upload sample/trainee.mp4 trainee)
echo "== POST /score {gold_video_id: $gold, trainee_video_id: $trainee}"
score_job=$(score "$gold" "$trainee")
wait_job "/score/$score_job" | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
print("score %.1f  %s  (%d steps)" % (r["score"], r["verdict"], len(r["steps"])))
span = lambda s: "-" if s is None else "%.1f-%.1f s" % (s["start_sec"], s["end_sec"])
for d in r["deviations"]:
    print("  %-20s %s  (gold %s, trainee %s)" % (d["type"], d["reason"], span(d["gold_time"]), span(d["trainee_time"])))
'
echo "== full result: curl $api/score/$score_job ; report: $api/score/$score_job/report.pdf ; API description: $api/openapi.json"
echo "== the web page (tasks, steps, scores, history): $api/ui"
echo "== the server keeps running (pid $server); Ctrl-C stops it"
wait $server
