#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang in ./build-fuzz and
# runs each for SECONDS (default 60) from its seed corpus. Fails on any crash,
# leak, sanitizer report or broken invariant; the input that did it is left
# in build-fuzz/artifacts/. Prints how many inputs each run executed.
#
#   scripts/fuzz.sh [SECONDS]
#
# New inputs a run finds go to build-fuzz/corpus/<target> (kept between runs,
# never into the committed seeds); add an interesting one to
# tests/fuzz/corpus/ by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

cxx="${LEDGER_FUZZ_CXX:-clang++}"
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DLEDGER_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target json_line_fuzz event_decoder_fuzz

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p build-fuzz/artifacts

# target, seed corpus folder, extra libFuzzer flags
run() {
  local target="$1" seeds="$2"
  shift 2
  local work="build-fuzz/corpus/$target" log="build-fuzz/$target.log"
  mkdir -p "$work"
  echo "== $target: ${seconds}s from $seeds" >&2
  local status=0
  "build-fuzz/tests/fuzz/$target" "$work" "$seeds" -max_total_time="$seconds" \
    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="build-fuzz/artifacts/$target-" "$@" >"$log" 2>&1 || status=$?
  local executed
  executed="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "FAIL $target (exit $status, ${executed:-?} executions); log: $log" >&2
    return 1
  fi
  echo "ok   $target: ${executed:-?} executions in ${seconds}s" >&2
}

failed=0
run json_line_fuzz tests/fuzz/corpus/json_line -max_len=4096 \
  -dict=tests/fuzz/json_line.dict || failed=1
run event_decoder_fuzz tests/fuzz/corpus/envelope -max_len=4096 || failed=1
exit "$failed"
