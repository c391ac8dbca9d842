#!/usr/bin/env bash
# Runs the libFuzzer harnesses: fuzz/run.sh SECONDS [FUZZER...]
#
# Builds the `fuzz` preset (scripts/build.sh fuzz; a no-op when up to date,
# skipped with FUZZ_NO_BUILD=1), copies each fuzzer's seed corpus
# (fuzz/corpus/<fuzzer>/) to a scratch directory so the repository is not
# modified, runs each fuzzer for SECONDS, and prints per fuzzer: executions,
# coverage (cov/ft from libFuzzer's final lines) and crashes. Crash, leak,
# timeout and OOM artefacts are kept in FUZZ_ARTIFACTS (default
# build-fuzz/fuzz-artifacts/<date>), named in the output; logs beside them.
# Exit status 1 when any fuzzer crashed. CI runs `fuzz/run.sh 30`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: fuzz/run.sh SECONDS [FUZZER...]" >&2
  exit 2
fi
seconds=$1
shift

# Each fuzzer and its -max_len: a little above the largest useful input.
declare -A max_len=(
  [embedding_file_fuzzer]=16384
  [feature_adapter_fuzzer]=16384
  [steps_json_fuzzer]=4096
  [audit_export_fuzzer]=16384
  [multipart_upload_fuzzer]=8192
  [redis_reply_fuzzer]=4096
  [video_decoder_fuzzer]=65536
)
# And its dictionary, when it has one.
declare -A dict=(
  [embedding_file_fuzzer]=fuzz/json.dict
  [feature_adapter_fuzzer]=fuzz/json.dict
  [steps_json_fuzzer]=fuzz/json.dict
  [audit_export_fuzzer]=fuzz/json.dict
  [multipart_upload_fuzzer]=fuzz/multipart.dict
  [redis_reply_fuzzer]=fuzz/resp.dict
)
all=(embedding_file_fuzzer feature_adapter_fuzzer steps_json_fuzzer audit_export_fuzzer
     multipart_upload_fuzzer redis_reply_fuzzer video_decoder_fuzzer)
fuzzers=("$@")
[ ${#fuzzers[@]} -eq 0 ] && fuzzers=("${all[@]}")
for f in "${fuzzers[@]}"; do
  [ -n "${max_len[$f]:-}" ] || { echo "unknown fuzzer: $f (one of: ${all[*]})" >&2; exit 2; }
done

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  scripts/build.sh fuzz
fi

artifacts=${FUZZ_ARTIFACTS:-build-fuzz/fuzz-artifacts/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sopilot-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=()
for f in "${fuzzers[@]}"; do
  bin=build-fuzz/fuzz/$f
  [ -x "$bin" ] || { echo "$bin is not built" >&2; exit 2; }
  corpus=$scratch/$f
  mkdir -p "$corpus"
  if [ -d "fuzz/corpus/$f" ]; then cp -r "fuzz/corpus/$f/." "$corpus/"; fi
  log=$artifacts/$f.log
  echo "== $f: ${seconds}s (log $log)"
  status=0
  extra=()
  [ -n "${dict[$f]:-}" ] && extra=(-dict="${dict[$f]}")
  "$bin" "$corpus" "${extra[@]}" -max_total_time="$seconds" -max_len="${max_len[$f]}" -rss_limit_mb=2048 -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$f-" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$( (grep -oE "^#[0-9]+" "$log" || true) | tail -1 | tr -d "#")
  cov=$( (grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" || true) | tail -1 | sed 's/cov: \([0-9]*\) ft: \([0-9]*\)/cov \1, ft \2/')
  found=$(find "$artifacts" -maxdepth 1 -name "$f-*" ! -name "*.log" | sort)
  crashes=$(printf '%s' "$found" | grep -c . || true)
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    echo "   CRASH (exit $status):"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 | sed 's/^/     /' || true
    for a in $found; do echo "     artefact: $a"; done
  fi
  line=$(printf '%-26s executions %-10s %-22s crashes %s' "$f" "${execs:-?}" "${cov:-cov ?}" "$crashes")
  echo "   $line"
  summary+=("$line")
done

echo
echo "Summary (${seconds}s each; artefacts and logs in $artifacts):"
printf '  %s\n' "${summary[@]}"
exit $failed
