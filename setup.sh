#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working SOPilot: installs the
# packages, builds, makes sample videos with ffmpeg, and runs the main job on
# the embedded defaults: the service (`sopilot serve`, SQLite store and queue
# under ./data), with a first score of the sample videos through its API.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/install-models.sh
scripts/build.sh
scripts/make-sample-videos.sh sample
echo
echo "== build/sopilot score sample/gold.mp4 sample/trainee.mp4 (the command line)"
build/sopilot score sample/gold.mp4 sample/trainee.mp4
echo
echo "== build/sopilot serve (the service), used through its REST API"
exec scripts/demo.sh
