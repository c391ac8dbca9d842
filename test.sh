#!/usr/bin/env bash
# Runs every test: builds first (installing packages if any are missing), then
# ctest on two cores.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 600
