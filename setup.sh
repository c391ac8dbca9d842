#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working SOPilot: installs the
# packages, builds, makes sample videos with ffmpeg, and runs the main job on
# the embedded defaults: embed the gold video, score the trainee against it.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/build.sh
scripts/make-sample-videos.sh sample
echo
echo "== build/sopilot embed sample/gold.mp4 --out sample/gold.emb"
build/sopilot embed sample/gold.mp4 --out sample/gold.emb
echo
echo "== build/sopilot score sample/gold.emb sample/trainee.mp4"
build/sopilot score sample/gold.emb sample/trainee.mp4
