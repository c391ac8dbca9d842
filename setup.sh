#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working SOPilot: installs the
# packages, builds, makes a sample video with ffmpeg, and runs the main job on
# the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
scripts/make-sample-videos.sh sample
echo
echo "== sopilot embed sample/gold.mp4"
build/sopilot embed sample/gold.mp4 --out sample/gold.emb
