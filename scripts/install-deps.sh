#!/usr/bin/env bash
# Installs the Debian 12 packages SOPilot builds, runs and tests with.
# Idempotent: does nothing (no apt at all) when everything is already there.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git python3 curl
  # video decoding: FFmpeg's libraries, and the ffmpeg/ffprobe tools tests use to make videos
  ffmpeg libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  # image operations (libopencv-dev carries the CMake config)
  libopencv-dev
  # matrix products
  libopenblas-dev
  # storage, queues, HTTP, JSON, logging, CLI, reports, signatures
  libsqlite3-dev sqlite3 libhiredis-dev libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev
  # the PostgreSQL metadata backend (libpq), and the server its tests start (initdb, pg_ctl)
  libpq-dev postgresql
  # the HTTP server: Boost.Asio and Boost.Beast (header-only); cpp-httplib above is the tests' client
  libboost-dev
  libcli11-dev libcairo2-dev libssl-dev
  # the score report: a font cairo draws its text with; poppler's pdftotext,
  # pdftoppm and pdfinfo, with which the tests read the PDF back
  fonts-dejavu-core poppler-utils
  # the web page's test in a real browser (driven by playwright-core, which
  # scripts/install-web-test.sh installs from npm)
  chromium
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev wrk
  # the vjepa2 embedder's tests build a tiny model with torch (tools/vjepa2/make_tiny_vjepa2.py)
  python3-torch
  # the Redis queue backend's tests and benchmark start a real redis-server
  redis-server redis-tools
  # promtool, which checks the /metrics exposition in the API test and the alert
  # rules (monitoring/check.sh); amtool, which checks monitoring/alertmanager.yml
  prometheus prometheus-alertmanager
  # the sanitizer and fuzzing builds (clang's libFuzzer), the suite under load
  # (stress-ng), and a compiler cache so the second build of a tree is cheap
  clang libfuzzer-14-dev stress-ng ccache
  # scripts/install-models.sh: npm pack and the TF.js reference runs (node),
  # tarball checks (openssl), the TF.js -> ONNX converter (Debian's python3
  # with onnx and numpy)
  nodejs openssl python3-onnx python3-numpy
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm; NodeSource's nodejs carries it (and
# conflicts with Debian's npm package), so npm is asked for only when absent.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present (and npm)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
