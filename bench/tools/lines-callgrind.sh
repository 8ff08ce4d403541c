#!/bin/bash
# Instructions the line-protocol server executes per pipelined command, counted by valgrind's
# callgrind (independent of the machine's load): the server runs under callgrind for 20,000 and
# for 220,000 commands, and the difference / 200,000 is printed (start-up cancels out).
#   bench/tools/lines-callgrind.sh [core dist dir | baseline]     (default: packages/core/dist)
# Takes about a minute; hold the benchmark lock: flock /tmp/gorgon-bench.lock bench/tools/lines-callgrind.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
which=${1:-$here/../../packages/core/dist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() {
  local n=$1
  rm -f "$tmp/port"
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out.$n" node "$here/lines-callgrind-server.mjs" "$which" "$tmp/port" 2>"$tmp/vg.$n.log" &
  local vg=$!
  for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.1; done
  node "$here/lines-callgrind-client.mjs" "$(cat "$tmp/port")" "$n"
  wait "$vg"
  grep -o 'Collected : [0-9]*' "$tmp/vg.$n.log" | awk '{print $3}'
}
small=$(count 20000)
large=$(count 220000)
echo "$which: $(( (large - small) / 200000 )) instructions per command"
