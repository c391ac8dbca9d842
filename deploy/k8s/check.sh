#!/usr/bin/env bash
# Checks deploy/k8s offline (ctest deploy_k8s; no cluster needed):
#   1. `kubectl kustomize` renders each overlay (single-node, scaled);
#   2. tools/k8s-test/validate.mjs validates every rendered object against
#      its schema (kubernetes-models, @kubernetes-models/prometheus-operator,
#      @kubernetes-models/keda; pinned) and checks names, the ServiceMonitor
#      against the Services, probes, security context, references, and what
#      each overlay promises;
#   3. the monitoring contract's kubectl commands are in deploy/k8s/README.md
#      (and so name objects step 2 found).
# Exit 77 (skipped, with the reason) without kubectl (kustomize 5 or later)
# or without the npm packages (scripts/install-k8s-test.sh installs them).
#
#   deploy/k8s/check.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tools="$root/tools/k8s-test"
say() { echo "deploy/k8s/check.sh: $*" >&2; }
skip() { echo "deploy/k8s/check.sh: SKIPPED: $*"; exit 77; }

command -v kubectl >/dev/null || skip "no kubectl (scripts/install-k8s-test.sh installs Debian's kubernetes-client)"
kv=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\{0,1\}\([0-9]*\).*/\1/p')
[ -n "$kv" ] && [ "$kv" -ge 5 ] ||
  skip "kubectl's kustomize is older than v5 ($(kubectl version --client 2>&1 | tr '\n' ' '))"
command -v node >/dev/null || skip "no node (scripts/install-deps.sh installs nodejs)"
for p in kubernetes-models @kubernetes-models/prometheus-operator @kubernetes-models/keda yaml; do
  [ -f "$tools/node_modules/$p/package.json" ] || skip "$p is not installed in tools/k8s-test (scripts/install-k8s-test.sh)"
done

if [ $# -ge 1 ]; then
  work=$1
  rm -rf "$work" && mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

fail=0
for overlay in single-node scaled; do
  if ! kubectl kustomize "$root/deploy/k8s/overlays/$overlay" >"$work/$overlay.yaml" 2>"$work/$overlay.err"; then
    say "kubectl kustomize deploy/k8s/overlays/$overlay failed:"
    cat "$work/$overlay.err" >&2
    fail=1
    continue
  fi
  node "$tools/validate.mjs" "$overlay" "$work/$overlay.yaml" "$root" || fail=1
done

# The monitoring contract's commands (../shared/seed/monitoring-README.md),
# with the names the manifests really use, in the deployment README.
while IFS= read -r cmd; do
  [ -n "$cmd" ] || continue
  grep -qF -- "$cmd" "$here/README.md" || { say "deploy/k8s/README.md lacks: $cmd"; fail=1; }
done <<'COMMANDS'
kubectl apply -f monitoring/prometheus-rules.yaml
kubectl get prometheusrule -n sopilot
kubectl get prometheusrule sopilot-alerts -n sopilot -o yaml
kubectl port-forward svc/sopilot-api 8000:80 -n sopilot
kubectl get servicemonitor -n sopilot
kubectl create configmap sopilot-grafana-dashboard
COMMANDS

if [ "$fail" -ne 0 ]; then
  say "FAILED"
  exit 1
fi
say "OK (overlays single-node and scaled)"
