#!/usr/bin/env bash
# Runs every fuzzer for an hour in total (3600 s shared equally), for the
# figures in doc/fuzzing.md: bench/fuzz_hour.sh [FUZZER...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=$#
[ "$n" -eq 0 ] && n=7
exec fuzz/run.sh $((3600 / n)) "$@"
