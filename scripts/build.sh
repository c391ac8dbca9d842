#!/usr/bin/env bash
# Configures and builds SOPilot into ./build (Release, Ninja).
#   scripts/build.sh            the Release build in build/
#   scripts/build.sh PRESET     a CMakePresets.json preset (asan, tsan, fuzz)
#                               in build-PRESET/
# ccache is used when installed (install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ $# -eq 0 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
  cmake --build build --parallel "$(nproc)"
else
  cmake --preset "$1" "${launcher[@]}" >/dev/null
  cmake --build "build-$1" --parallel "$(nproc)"
fi
