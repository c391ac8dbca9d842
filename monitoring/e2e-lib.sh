# Shell helpers of the monitoring end-to-end tests (e2e_test.sh,
# e2e_queue_age_test.sh, e2e_redis_test.sh). Source it after setting $root (the repository) and
# $work (a scratch directory); set $prom (Prometheus' URL) before querying.

passed=0; failed=0
# check DESCRIPTION COMMAND...: counts the command's success or failure.
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what" >&2; fi
}
# finish: prints the tally; fails when a check failed.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# fast_rules OUT: our PrometheusRule's groups as a rules file, with every
# `for` 2 s and every group evaluated each second.
fast_rules() {
  python3 "$root/monitoring/extract-rule-groups.py" "$root/monitoring/prometheus-rules.yaml" "$work/rules.yml"
  sed -E -e 's/^([[:space:]]*for:)[[:space:]]*[0-9]+[smh]/\1 2s/' \
    -e 's/^([[:space:]]*interval:)[[:space:]]*[0-9]+[smh]/\1 1s/' "$work/rules.yml" > "$1"
}

q() { curl -sf "$prom/api/v1/query" --data-urlencode "query=$1"; }
series() { q "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))'; }
value() { q "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }

# alert_fires NAME SECONDS [INSTANCE]: waits until Prometheus shows alert
# NAME firing (for target INSTANCE, when given).
alert_fires() {
  for _ in $(seq "$2"); do
    if curl -sf "$prom/api/v1/alerts" | python3 -c '
import json, sys
a = json.load(sys.stdin)["data"]["alerts"]
inst = sys.argv[2] if len(sys.argv) > 2 else None
sys.exit(0 if any(x["labels"].get("alertname") == sys.argv[1] and x["state"] == "firing" and
                  (inst is None or x["labels"].get("instance") == inst) for x in a) else 1)' "$1" ${3:+"$3"}; then
      return 0
    fi
    sleep 1
  done
  echo "alerts: $(curl -sf "$prom/api/v1/alerts")" >&2
  return 1
}

# panel_queries DASHBOARD: every panel query as "TITLE<tab>EXPR" lines, the
# variables set to match everything; Failure Analysis (a row per job type
# that failed, and some types have none) as one union.
panel_queries() {
  python3 - "$1" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    exprs = [t["expr"].replace("$job_type", ".*").replace("$queue", ".*") for t in p["targets"]]
    if p["title"] == "Failure Analysis":
        exprs = [" or ".join("(" + e + ")" for e in exprs)]
    for e in exprs:
        print(p["title"] + "\t" + e)
PY
}

# per_process_series EXPR: how many of the query's series carry an instance
# label (a panel that draws one line per process instead of one per queue).
per_process_series() {
  q "$1" | python3 -c 'import json,sys; print(sum("instance" in r["metric"] for r in json.load(sys.stdin)["data"]["result"]))'
}

# alert_active NAME: whether alert NAME is pending or firing now.
alert_active() {
  curl -sf "$prom/api/v1/alerts" | python3 -c '
import json, sys
sys.exit(0 if any(x["labels"].get("alertname") == sys.argv[1] for x in json.load(sys.stdin)["data"]["alerts"]) else 1)' "$1"
}
# not CMD...: succeeds when CMD fails (for `check "..." not CMD`).
not() { ! "$@"; }

# wait_until SECONDS COMMAND...: runs COMMAND until it succeeds (0), at most
# SECONDS * 5 times, 0.2 s apart (1): on a loaded machine, where each try
# takes longer, the wait stretches with it.
wait_until() {
  local n=$(( $1 * 5 )); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
  return 1
}

# start_prometheus STATIC_CONFIGS: a real Prometheus on port $pp scraping the
# scrape job "sopilot" (STATIC_CONFIGS: its static_configs as YAML flow
# lines) every second, with our rules (fast_rules) evaluated every second;
# returns once it is ready. Its pid joins $pids.
start_prometheus() {
  fast_rules "$work/rules-fast.yml"
  cat > "$work/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$work/rules-fast.yml"]
scrape_configs:
  - job_name: sopilot
    metrics_path: /metrics
    static_configs:
$1
YAML
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$pp" >"$work/prometheus.log" 2>&1 &
  pids+=($!)
  wait_until 40 curl -sf "$prom/-/ready" -o /dev/null
}

# is EXPR VALUE: the query's first value is VALUE.
is() { [ "$(value "$1")" = "$2" ]; }
# at_least EXPR LOW: the query's first value is at least LOW.
at_least() { python3 -c "import sys; v='$(value "$1")'; sys.exit(0 if v != 'none' and float(v) >= $2 else 1)"; }
