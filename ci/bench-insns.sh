#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# User-space instructions per operation (valgrind callgrind: deterministic on a noisy machine) for the
# fd-send and handshake hot paths, raw twins beside monitor (and the peers when built), and the batch
# twins (per message: raw_mmsg_b<N>). Each mode runs N and 2N operations in one thread
# (bench/insns_main.cc; `monitor_insns list-modes` names them); (Ir(2N) - Ir(N)) / N cancels start-up.
# x raw: against the one-at-a-time raw twin of the same socket type (batch modes too: issue 15's
# target is <= 1x per message); x secure: against raw_secure.
#
# usage: ci/bench-insns.sh [BUILD_DIR]   (default: $MONITOR_BUILD_ROOT/bench, built by ci/bench.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${MONITOR_BUILD_ROOT:-build}/bench}
bin="$build/bench/monitor_insns"
[ -x "$bin" ] || { echo "ci/bench-insns.sh: $bin not built (run ci/bench.sh first)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "ci/bench-insns.sh: valgrind missing (ci/deps.sh installs it)" >&2; exit 1; }
n=${MONITOR_INSNS_N:-2048}  # a multiple of 64, the largest batch
((n % 64 == 0)) || { echo "ci/bench-insns.sh: MONITOR_INSNS_N must be a multiple of 64" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ir() {  # mode count -> total Ir
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
ratio() {  # mode base -> "1.23x" or "-"
  local b=${per[$2]:-}
  if [ -n "$b" ] && [ "$b" -gt 0 ] && [ "$1" != "$2" ]; then
    awk -v a="${per[$1]}" -v b="$b" 'BEGIN{printf "%.2fx", a/b}'
  else
    echo -
  fi
}
printf '%-30s %14s %10s %10s\n' mode "insns/op" "x raw" "x secure"
declare -A per
for m in $("$bin" list-modes); do
  a=$(ir "$m" "$n")
  b=$(ir "$m" $((2 * n)))
  per[$m]=$(((b - a) / n))
  case $m in
    fd_stream_*) base=fd_stream ;;
    fd_seqpacket_*) base=fd_seqpacket ;;
    hs_listener_*) base=hs_listener ;;
    *) base=hs ;;
  esac
  secure=$(ratio "$m" "${base}_raw_secure")
  [[ $m =~ _b[0-9]+$ ]] && secure=-  # a batch twin is not a secure twin's rival
  printf '%-30s %14s %10s %10s\n' "$m" "${per[$m]}" "$(ratio "$m" "${base}_raw")" "$secure"
done
echo "(fd modes: one 32-byte message with 1 descriptor sent and received, batch modes per message; hs modes: one handshake on a fresh socket pair; targets: <= 2x raw, batch <= 1x raw)"
