#!/usr/bin/env bash
# deploy/k8s/check.sh (ctest deploy_k8s) renders the overlays with
# `kubectl kustomize` and validates them with the npm packages pinned in
# tools/k8s-test/package-lock.json (kubernetes-models,
# @kubernetes-models/prometheus-operator, @kubernetes-models/keda, yaml),
# installed here with npm ci. kubectl: Debian's kubernetes-client, installed
# only where no kubectl exists (its kustomize is old, v2: the check then
# skips and says so; a kubectl 1.27 or later carries kustomize 5).
# Idempotent: nothing to do when already installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/tools/k8s-test"
if ! command -v kubectl >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-k8s-test: apt-get install kubernetes-client (kubectl)"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends kubernetes-client
fi
want=$(node -p "require('$dir/package.json').dependencies['kubernetes-models']")
if [ -f "$dir/node_modules/kubernetes-models/package.json" ] &&
   [ "$(node -p "require('$dir/node_modules/kubernetes-models/package.json').version")" = "$want" ] &&
   [ -f "$dir/node_modules/@kubernetes-models/keda/package.json" ] &&
   [ -f "$dir/node_modules/@kubernetes-models/prometheus-operator/package.json" ] &&
   [ -f "$dir/node_modules/yaml/package.json" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-k8s-test: npm is missing (scripts/install-deps.sh installs nodejs)" >&2; exit 1; }
echo "install-k8s-test: npm ci in tools/k8s-test (kubernetes-models, prometheus-operator, keda, yaml)"
# The packages ask for node >= 22 (engines); they run on node 20 and 18,
# which only warns.
(cd "$dir" && npm ci --silent --no-fund --no-audit --ignore-scripts)
