#!/usr/bin/env bash
# Checks the monitoring files (run by ctest as `monitoring_rules`):
#   1. the PrometheusRule's groups, cut out by extract-rule-groups.py, pass
#      `promtool check rules`;
#   2. every alert has a unit test in tests/*.yaml and every runbook_url points
#      at an anchor of runbooks.md;
#   3. `promtool test rules` passes on tests/*.yaml;
#   4. alertmanager.yml passes `amtool check-config` and routes each severity
#      where it should (`amtool config routes test`); every alert carries
#      service="sopilot", which the federation example selects.
# Fails (never skips) when promtool or amtool is missing: scripts/install-deps.sh
# installs them (Debian packages prometheus, prometheus-alertmanager).
#
#   monitoring/check.sh [WORKDIR]     (WORKDIR defaults to a temporary directory)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in python3 promtool amtool; do
  command -v "$tool" >/dev/null || {
    echo "check.sh: $tool not found; run scripts/install-deps.sh" >&2
    exit 1
  }
done

if [ $# -ge 1 ]; then
  work=$1
  rm -rf "$work" && mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

fail=0
say() { echo "check.sh: $*" >&2; }

# 1. The rule groups.
python3 "$here/extract-rule-groups.py" "$here/prometheus-rules.yaml" "$work/rules.yaml"
promtool check rules "$work/rules.yaml"

# 2. Coverage: each alert tested, each runbook anchor present; the
#    contract's 13 alerts in its 5 groups, plus WorkerDown, the queue-age,
#    dead-job and score-SLO alerts (sopilot.slo).
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$work/rules.yaml" | sort)
groups=$(sed -n 's/^  - name: *\([^ ]*\).*/\1/p' "$work/rules.yaml" | sort | tr '\n' ' ')
[ "$(echo "$alerts" | wc -l)" -eq 18 ] || { say "expected 18 alerts, found: $(echo $alerts)"; fail=1; }
[ "$groups" = "sopilot.gpu sopilot.jobs sopilot.performance sopilot.sla sopilot.slo sopilot.system " ] ||
  { say "unexpected groups: $groups"; fail=1; }
tested=$(sed -n 's/^ *alertname: *\([A-Za-z0-9_]*\).*/\1/p' "$here"/tests/*.yaml | sort -u)
for a in $alerts; do
  grep -qx "$a" <<<"$tested" || { say "alert $a has no test in monitoring/tests/"; fail=1; }
  # A firing case: a test of this alert with a non-empty exp_alerts.
  awk -v a="$a" '
    /alertname:/ { cur = $2 }
    /exp_alerts:/ && cur == a && $0 !~ /\[\]/ { found = 1 }
    END { exit !found }' "$here"/tests/*.yaml || { say "alert $a has no firing test"; fail=1; }
  # A quiet case: a test of this alert expecting no alert.
  awk -v a="$a" '
    /alertname:/ { cur = $2 }
    /exp_alerts: *\[\]/ && cur == a { found = 1 }
    END { exit !found }' "$here"/tests/*.yaml || { say "alert $a has no not-firing test"; fail=1; }
done
for anchor in $(sed -n 's/.*runbook_url: *"monitoring\/runbooks.md#\([a-z0-9-]*\)".*/\1/p' "$work/rules.yaml"); do
  grep -q "<a id=\"$anchor\"></a>" "$here/runbooks.md" || { say "runbooks.md has no anchor $anchor"; fail=1; }
done
[ "$(grep -c 'runbook_url:' "$work/rules.yaml")" -eq 18 ] || { say "every alert needs a runbook_url"; fail=1; }

# 3. The unit tests (each names rules.yaml, which sits beside the copies).
cp "$here"/tests/*.yaml "$work/"
tests=()
for t in "$here"/tests/*.yaml; do tests+=("$(basename "$t")"); done
(cd "$work" && promtool test rules "${tests[@]}") || fail=1

# 4. Alertmanager, the federation scrape config, and the dashboard's JSON
# (regenerating it must give the committed file).
amtool check-config "$here/alertmanager.yml" || fail=1
# Where each severity goes: critical pages, warnings reach Slack and the
# daily email digest, the rest email.
route_is() {
  amtool config routes test --config.file="$here/alertmanager.yml" --verify.receivers="$1" "${@:2}" >/dev/null 2>&1 ||
    { say "alertmanager.yml: ${*:2} should reach $1"; fail=1; }
}
route_is pagerduty,slack alertname=APIDown severity=critical service=sopilot
route_is email-digest,slack alertname=QueueBacklog severity=warning service=sopilot
route_is email alertname=Other severity=info
# Every alert carries service="sopilot": the federation example's ALERTS
# match[] and the digest's grouping rely on it.
[ "$(grep -c '^ *service: sopilot$' "$work/rules.yaml")" -eq 18 ] || { say "every alert needs the label service: sopilot"; fail=1; }
grep -q "ALERTS{service=\"sopilot\"}" "$here/prometheus-federation.yaml" ||
  { say "prometheus-federation.yaml must federate ALERTS{service=\"sopilot\"}"; fail=1; }
promtool check config "$here/prometheus-federation.yaml" >/dev/null || { say "prometheus-federation.yaml is invalid"; fail=1; }
python3 "$here/make-dashboard.py" | cmp -s - "$here/grafana-dashboard.json" ||
  { say "grafana-dashboard.json differs from make-dashboard.py's output"; fail=1; }

if [ "$fail" -ne 0 ]; then
  say "FAILED"
  exit 1
fi
say "OK ($(echo $alerts | wc -w) alerts, ${#tests[@]} test files)"
