# Shell helpers for scripts that drive SOPilot's REST API with curl
# (scripts/demo.sh, bench/http_wrk.sh, monitoring/e2e_test.sh). Source it
# after setting $api (e.g. http://127.0.0.1:8000) and, for uploads, $task.

# field EXPR: a field of the JSON on stdin, e.g. field "['status']".
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# wait_job PATH: polls a job until it leaves queued/running; prints its JSON.
wait_job() {
  local j
  for _ in $(seq 600); do
    j=$(curl -sf "$api$1")
    case $(echo "$j" | field "['status']") in queued|running) sleep 0.2 ;; *) echo "$j"; return ;; esac
  done
  echo "api-client: $1 did not finish" >&2
  return 1
}

# upload FILE ROLE: uploads to task $task, waits for the ingest, prints the video id.
upload() {
  local job
  job=$(curl -sf -F "file=@$1" -F "task_id=$task" -F "role=$2" "$api/videos" | field "['ingest_job_id']")
  wait_job "/videos/jobs/$job" | field "['video_id']"
}

# score GOLD TRAINEE: queues a score, prints its job id.
score() {
  curl -sf -H 'Content-Type: application/json' -d "{\"gold_video_id\": $1, \"trainee_video_id\": $2}" "$api/score" |
    field "['score_job_id']"
}
