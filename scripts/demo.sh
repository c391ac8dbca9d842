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

field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_job() {  # path -> final job JSON
  local job
  for _ in $(seq 600); do
    job=$(curl -sf "$api$1")
    case $(echo "$job" | field "['status']") in queued|running) sleep 0.2 ;; *) echo "$job"; return ;; esac
  done
  echo "demo: $1 did not finish" >&2; exit 1
}
upload() {  # file role -> video id
  local job
  job=$(curl -sf -F "file=@$1" -F task_id=sample-procedure -F "role=$2" "$api/videos" | field "['ingest_job_id']")
  wait_job "/videos/jobs/$job" | field "['video_id']"
}
echo "== uploading sample/gold.mp4 and sample/trainee.mp4 to $api"
gold=$(upload sample/gold.mp4 gold)
trainee=$(upload sample/trainee.mp4 trainee)
echo "== POST /score {gold_video_id: $gold, trainee_video_id: $trainee}"
score_job=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"gold_video_id\": $gold, \"trainee_video_id\": $trainee}" "$api/score" | field "['score_job_id']")
wait_job "/score/$score_job" | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
print("score %.1f  %s  (%d steps)" % (r["score"], r["verdict"], len(r["steps"])))
span = lambda s: "-" if s is None else "%.1f-%.1f s" % (s["start_sec"], s["end_sec"])
for d in r["deviations"]:
    print("  %-20s %s  (gold %s, trainee %s)" % (d["type"], d["reason"], span(d["gold_time"]), span(d["trainee_time"])))
'
echo "== full result: curl $api/score/$score_job ; API description: $api/openapi.json"
echo "== the server keeps running (pid $server); Ctrl-C stops it"
wait $server
