#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Measures what a target's structure-aware mutator (fuzz/mutators/) adds over libFuzzer's
# byte-level mutator: the same binary (the `fuzz` preset), the same recorded seeds
# (fuzz/corpus/TARGET/seed-*), dictionary and max_len, the same time, run side by side under
# `nice` (two fuzzers at once); MON_FUZZ_BYTE_MUTATOR=1 turns the structured one off. Prints one
# table row per side: executions, exec/s, coverage (edges), features, corpus units.
#   ci/fuzz-mutator-gain.sh TARGET SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: ci/fuzz-mutator-gain.sh TARGET SECONDS" >&2; exit 2; }
target=$1 seconds=$2
root=${MONITOR_BUILD_ROOT:-build}
bin="$root/fuzz/fuzz/$target"
if [ -z "${MONITOR_FUZZ_NO_BUILD:-}" ]; then
  cmake --preset fuzz -B "$root/fuzz" >/dev/null
  cmake --build "$root/fuzz" -j2 --target "fuzz_$target" >/dev/null
fi
work="$root/fuzz-gain/$target"
rm -rf "$work"
opts=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -close_fd_mask=3)
[ -f "fuzz/$target.dict" ] && opts+=(-dict="fuzz/$target.dict")
max_len=$(sed -n 's/^max_len *= *//p' "fuzz/$target.options" 2>/dev/null || true)
[ -n "$max_len" ] && opts+=(-max_len="$max_len")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
for side in structured bytes; do
  mkdir -p "$work/$side/corpus" "$work/$side/findings"
  cp fuzz/corpus/"$target"/seed-* "$work/$side/corpus/"
  byte_only=0
  [ "$side" = bytes ] && byte_only=1
  MON_FUZZ_BYTE_MUTATOR=$byte_only nice -n 10 "$bin" "${opts[@]}" \
    -artifact_prefix="$work/$side/findings/" "$work/$side/corpus" >"$work/$side/log" 2>&1 &
done
status=0
wait || status=1
wait || status=1
printf '| %-18s | %-10s | %10s | %7s | %5s | %6s | %6s |\n' target mutator execs exec/s cov ft units
for side in structured bytes; do
  log="$work/$side/log"
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  units=$(find "$work/$side/corpus" -type f | wc -l)
  printf '| %-18s | %-10s | %10s | %7s | %5s | %6s | %6s |\n' "$target" "$side" "$execs" "$rate" \
    "$cov" "$ft" "$units"
done
[ "$status" = 0 ] || { echo "ci/fuzz-mutator-gain.sh: a run failed (see $work/*/log)" >&2; exit 1; }
