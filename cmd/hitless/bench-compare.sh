#!/usr/bin/env bash
# bench-compare.sh — times `hitless dump --json` against `tshark -T json` on
# one generated capture of at least N ISAKMP messages (default 100000),
# replicated from the shipped strongSwan captures with distinct cookies and
# addresses, and prints messages/s for each and the ratio (goal: >= 20x).
#
#   bash cmd/hitless/bench-compare.sh            # from the repository root
#   N=200000 GOAL=20 ENFORCE=1 bash cmd/hitless/bench-compare.sh
#
# ENFORCE=1 makes a ratio below GOAL exit 1. Without tshark only our figure
# is printed.
set -euo pipefail

cd "$(dirname "$0")/../.."
N=${N:-100000}
GOAL=${GOAL:-20}
ENFORCE=${ENFORCE:-0}
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$GO build -o "$tmp/hitless" ./cmd/hitless
caps=corpus/captures/strongswan-5.9.8
synth=$("$tmp/hitless" synth -n "$N" -o "$tmp/big.pcap" "$caps/libipsec/capture.pcap" "$caps/fakesa/capture.pcap")
msgs=$(sed -n 's/.* \([0-9]*\) ISAKMP messages$/\1/p' <<<"$synth")
echo "capture: $synth ($(du -h "$tmp/big.pcap" | cut -f1))"

now() { date +%s.%N; }

t0=$(now)
"$tmp/hitless" dump --json "$tmp/big.pcap" >"$tmp/ours.jsonl"
t1=$(now)
ours_lines=$(wc -l <"$tmp/ours.jsonl")
if [ "$ours_lines" -ne "$msgs" ]; then
  echo "hitless dump wrote $ours_lines lines for $msgs messages" >&2
  exit 1
fi
ours=$(awk -v n="$msgs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
printf 'hitless dump --json : %8.2f s  %10d messages/s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$ours"

if ! command -v tshark >/dev/null; then
  echo "tshark not installed: no comparison"
  exit 0
fi
t2=$(now)
tshark -n -r "$tmp/big.pcap" -Y isakmp -T json -O isakmp >"$tmp/tshark.json" 2>/dev/null
t3=$(now)
theirs=$(awk -v n="$msgs" -v a="$t2" -v b="$t3" 'BEGIN { printf "%.0f", n / (b - a) }')
printf 'tshark -T json      : %8.2f s  %10d messages/s\n' "$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')" "$theirs"
ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.1f", a / b }')
echo "ratio: ${ratio}x (goal ${GOAL}x)"
if [ "$ENFORCE" = 1 ] && awk -v r="$ratio" -v g="$GOAL" 'BEGIN { exit !(r < g) }'; then
  echo "below goal" >&2
  exit 1
fi
