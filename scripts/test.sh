#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, builds,
# runs every test. Exit status 0 only when all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
