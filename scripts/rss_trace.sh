#!/usr/bin/env bash
# Runs a command and samples its resident memory (VmRSS) along the run, to
# show whether it stays flat rather than only its peak. Prints one line per
# tenth of the run (the largest sample in that tenth), then the peak and the
# command's wall time and exit status.
#
#   scripts/rss_trace.sh build/ledger --db ./ledger-10m replay
set -uo pipefail
if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
interval_s=0.2
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT

start_ns=$(date +%s%N)
"$@" >/dev/null &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  [ -n "$rss_kib" ] && echo "$(( ($(date +%s%N) - start_ns) / 1000000 )) $rss_kib" >>"$samples"
  sleep "$interval_s"
done
wait "$pid"
status=$?
wall_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))

awk -v wall_ms="$wall_ms" -v status="$status" '
  { tenth = int($1 * 10 / (wall_ms + 1)); if ($2 > max[tenth]) max[tenth] = $2; if ($2 > peak) peak = $2 }
  END {
    for (t = 0; t < 10; ++t) {
      if (t in max) printf "%3d-%3d%% of the run: %7.1f MiB\n", t * 10, t * 10 + 10, max[t] / 1024
      else printf "%3d-%3d%% of the run:      no sample\n", t * 10, t * 10 + 10
    }
    printf "peak %.1f MiB (sampled every 0.2 s), wall %.1f s, exit %d\n", peak / 1024, wall_ms / 1000, status
  }' "$samples"
exit "$status"
