#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, builds,
# runs every test, then the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer (g++, ./build-asan), then each libFuzzer target
# for LEDGER_FUZZ_SECONDS (default 60) with clang (scripts/fuzz.sh,
# ./build-fuzz). Exit status 0 only when all pass. Prints how long each part
# took.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

timings=()
part_start=$SECONDS
part_done() {
  timings+=("$1: $((SECONDS - part_start)) s")
  echo "== $1 took $((SECONDS - part_start)) s" >&2
  part_start=$SECONDS
}

scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
part_done "build + test suite"

# Sanitizers: every test, leaks included. Tests that spawn the `ledger`
# binary run the sanitized binary too.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEDGER_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
part_done "ASan+UBSan build"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 1800
part_done "ASan+UBSan test suite"

scripts/fuzz.sh "${LEDGER_FUZZ_SECONDS:-60}"
part_done "fuzz build + runs"

printf '%s\n' "${timings[@]}" >&2
