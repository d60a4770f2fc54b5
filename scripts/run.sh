#!/usr/bin/env bash
# The main job from a fresh clone: installs what is missing, builds, and runs
# `ledger demo` on the default ledger folder ./ledger-data: it appends a demo
# CCM ledger (three accounts in USD, EUR and JPY) and prints every invoice.
# Running it again appends nothing: the demo's event ids are idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
exec ./build/ledger --db ./ledger-data demo "$@"
