#!/usr/bin/env bash
# The web page's browser test needs Debian's chromium (installed by
# scripts/install-deps.sh) and playwright-core, pinned in
# tools/web-test/package-lock.json and installed here with npm ci. It never
# downloads a browser (playwright-core has none; the test uses
# /usr/bin/chromium). Idempotent: nothing to do when already installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/tools/web-test"
if [ -f "$dir/node_modules/playwright-core/package.json" ] &&
   [ "$(node -p "require('$dir/node_modules/playwright-core/package.json').version")" = \
     "$(node -p "require('$dir/package.json').dependencies['playwright-core']")" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "install-web-test: npm is missing (scripts/install-deps.sh installs nodejs)" >&2; exit 1; }
echo "install-web-test: npm ci in tools/web-test (playwright-core)"
(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-fund --no-audit --ignore-scripts)
