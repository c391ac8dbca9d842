#!/usr/bin/env bash
# Runs every test, as CI does (.ci/run):
#   release  the Release build, warnings as errors, and all of ctest;
#   asan     the unit and integration tests again under AddressSanitizer +
#            UndefinedBehaviorSanitizer (build-asan/; the benchmarks' smoke
#            runs, the Prometheus end-to-end scripts and the deploy/ checks
#            stay in release);
#   fuzz     each libFuzzer harness for 30 s on its seed corpus (fuzz/run.sh).
# SOPILOT_TEST_STAGES picks stages, e.g. SOPILOT_TEST_STAGES=release ./test.sh
# for a quick run while developing. Installs missing packages first.
set -euo pipefail
cd "$(dirname "$0")"
stages="${SOPILOT_TEST_STAGES:-release,asan,fuzz}"
has() { [[ ",$stages," == *",$1,"* ]]; }
scripts/install-deps.sh
scripts/install-models.sh
scripts/install-web-test.sh
scripts/install-k8s-test.sh
export SOPILOT_WERROR=1
jobs="$(nproc)"
if has release; then
  echo "== release: build and ctest"
  scripts/build.sh
  ctest --test-dir build --output-on-failure --parallel "$jobs" --timeout 600
fi
if has asan; then
  echo "== asan: AddressSanitizer + UndefinedBehaviorSanitizer"
  scripts/build.sh asan
  # Leaks are reported for our code; the suppressions name the libraries
  # whose one-off allocations at exit are not ours (doc/testing.md).
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  # deploy_* check the image against the Release binary (an instrumented one
  # links libasan, which the image rightly lacks).
  ctest --test-dir build-asan --output-on-failure --parallel "$jobs" --timeout 900 \
    --label-exclude bench --exclude-regex '^(monitoring|deploy)_'
fi
if has fuzz; then
  echo "== fuzz: each harness for 30 s"
  fuzz/run.sh 30
fi
