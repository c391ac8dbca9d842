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

# location CURL_ARGS...: POSTs a request that queues a job; it must answer
# 202 Accepted; prints the Location header (the job's URL path to poll).
location() {
  local head
  head=$(curl -sf -o /dev/null -D - "$@") || { echo "api-client: request failed: $*" >&2; return 1; }
  local status
  status=$(echo "$head" | tr -d '\r' | grep '^HTTP/' | tail -1)  # after any "100 Continue"
  case $status in *" 202"*) ;; *) echo "api-client: expected 202 Accepted, got: $status" >&2; return 1 ;; esac
  echo "$head" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p'
}

# upload FILE ROLE: uploads to task $task, waits for the ingest, prints the video id.
upload() {
  local job
  job=$(location -F "file=@$1" -F "task_id=$task" -F "role=$2" "$api/videos")
  wait_job "$job" | field "['video_id']"
}

# score GOLD TRAINEE: queues a score, prints its job id (the last segment of
# its Location, /score/{id}).
score() {
  local at
  at=$(location -H 'Content-Type: application/json' -d "{\"gold_video_id\": $1, \"trainee_video_id\": $2}" "$api/score")
  echo "${at##*/}"
}
