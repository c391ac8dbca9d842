#!/usr/bin/env bash
# Configures and builds SOPilot.
#   scripts/build.sh            the Release build in build/
#   scripts/build.sh PRESET     a CMakePresets.json preset (asan, tsan, fuzz)
#                               in build-PRESET/
# SOPILOT_WERROR=1 makes warnings errors in the Release build (CI); not in
# the sanitizer builds, where GCC's flow analysis under -fsanitize gives false
# -Wmaybe-uninitialized reports inside the standard library. ccache is used
# when installed (install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
werror="$([ "${SOPILOT_WERROR:-0}" = 1 ] && [ $# -eq 0 ] && echo ON || echo OFF)"
flags=(-DSOPILOT_WERROR="$werror")
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
  flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ $# -eq 0 ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${flags[@]}" >/dev/null
  cmake --build build --parallel "$(nproc)"
else
  cmake --preset "$1" "${flags[@]}" >/dev/null
  cmake --build "build-$1" --parallel "$(nproc)"
fi
