#!/usr/bin/env bash
# User-space instructions per operation (valgrind callgrind: deterministic on a noisy machine) for the
# fd-send and handshake hot paths, raw twins beside monitor (and the peers when built). Each mode runs
# N and 2N operations in one thread (bench/insns_main.cc); (Ir(2N) - Ir(N)) / N cancels start-up.
#
# usage: ci/bench-insns.sh [BUILD_DIR]   (default: $MONITOR_BUILD_ROOT/bench, built by ci/bench.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${MONITOR_BUILD_ROOT:-build}/bench}
bin="$build/bench/monitor_insns"
[ -x "$bin" ] || { echo "ci/bench-insns.sh: $bin not built (run ci/bench.sh first)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "ci/bench-insns.sh: valgrind missing (ci/deps.sh installs it)" >&2; exit 1; }
n=${MONITOR_INSNS_N:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ir() {  # mode count -> total Ir
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
modes=(fd_stream_raw fd_stream_raw_framed fd_stream_monitor_c fd_stream_monitor_cpp
       fd_seqpacket_raw fd_seqpacket_monitor_c fd_seqpacket_monitor_cpp
       hs_raw hs_peercred_floor hs_monitor_c hs_monitor_cpp)
extra=$("$bin" list-peer-modes 2>/dev/null || true)
printf '%-28s %14s %10s\n' mode "insns/op" "x raw"
declare -A per
for m in "${modes[@]}" $extra; do
  a=$(ir "$m" "$n")
  b=$(ir "$m" $((2 * n)))
  per[$m]=$(((b - a) / n))
  base=${m%_*}_raw
  case $m in
    fd_stream_*) base=fd_stream_raw ;;
    fd_seqpacket_*) base=fd_seqpacket_raw ;;
    hs_*) base=hs_raw ;;
  esac
  ratio=-
  [ -n "${per[$base]:-}" ] && [ "${per[$base]}" -gt 0 ] && ratio=$(awk -v a="${per[$m]}" -v b="${per[$base]}" 'BEGIN{printf "%.2fx", a/b}')
  printf '%-28s %14s %10s\n' "$m" "${per[$m]}" "$ratio"
done
echo "(fd modes: one 32-byte message with 1 descriptor sent and received; hs modes: one handshake on a fresh socket pair; target <= 2x raw)"
