#!/usr/bin/env bash
# The main job from a fresh clone: installs what is missing, builds, and
# appends the demo event file to the ledger in ./ledger-data (created on first
# use), then prints the stored events with their hashes and rated amounts.
# Running it again answers "duplicate" for every event: ids are idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
status=0
./build/ledger --db ./ledger-data append examples/demo.jsonl || status=$?
# Exit status 1 means some events were rejected: the demo file holds a few on
# purpose, to show the error codes.
if [ "$status" -gt 1 ]; then exit "$status"; fi
echo "--- stored events ---"
./build/ledger --db ./ledger-data events
