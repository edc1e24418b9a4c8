#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job for users deciding on monitor: installs what is missing, builds the `bench` preset
# (Release + the suite in bench/, with the GLib and libdbus peers when their packages are there),
# runs every benchmark with repetitions, and prints a table of medians with ratios to the raw-syscall
# twins and to the peers, system calls per operation (ci/bench-syscalls.sh, when strace is there), a
# legend and a note for every outlier; writes the JSON and a PNG plot to bench/results/ (ignored by
# git). Instructions per operation are ci/bench-insns.sh's (slow: callgrind), run on its own.
#
# Environment (all optional):
#   MONITOR_BUILD_ROOT       build root (default: build); the suite builds in $root/bench
#   MONITOR_BENCH_REPS       repetitions (default 3)
#   MONITOR_BENCH_MIN_TIME   seconds per benchmark run (default 0.5)
#   MONITOR_BENCH_FILTER     regex of benchmarks to run (default: all)
#   MONITOR_BENCH_OUT        where results go (default: bench/results)
#   MONITOR_BENCH_NO_DEPS=1  skip the package step
#   MONITOR_BENCH_QUICK=1    one short repetition, for CI (checks that the suite runs, figures are noise;
#                            the report says so in a banner)
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
root=${MONITOR_BUILD_ROOT:-build}
build="$root/bench"
out=${MONITOR_BENCH_OUT:-bench/results}
reps=${MONITOR_BENCH_REPS:-3}
min_time=${MONITOR_BENCH_MIN_TIME:-0.5}
filter=${MONITOR_BENCH_FILTER:-.}
quick=()
syscalls_n=${MONITOR_SYSCALLS_N:-256}
if [ "${MONITOR_BENCH_QUICK:-0}" = 1 ]; then
  reps=1
  min_time=0.01
  quick=(--quick)
  syscalls_n=64
fi

if [ "${MONITOR_BENCH_NO_DEPS:-0}" != 1 ]; then
  # The peers and the plotter: only the suite needs them, so they are not in ci/deps.sh's list.
  step "dependencies" ci/deps.sh libglib2.0-dev libdbus-1-dev gnuplot-nox
fi
# Only the library and the suite: fuzzers and examples are other scripts' business.
step "bench: build" configure_build bench "$build" -DMONITOR_BUILD_FUZZERS=OFF \
  -DMONITOR_BUILD_EXAMPLES=OFF

mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
json="$out/bench-$stamp.json"
samples="$out/samples-$stamp"
mkdir -p "$samples"
run_suite() {
  MONITOR_BENCH_SAMPLES="$samples" "$build/bench/monitor_bench" \
    --benchmark_filter="$filter" --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
    --benchmark_report_aggregates_only=false --benchmark_out="$json" --benchmark_out_format=json
}
# A baseline is only one if it does the work it claims: the secure twins must refuse hostile input.
step "bench: the raw_secure twins refuse bad input" "$build/bench/monitor_insns" check-twins
step "bench: run ($reps repetitions, min time $min_time s; latency figures pinned and unpinned)" run_suite
cp "$json" "$out/latest.json"
syscalls="$out/syscalls-$stamp.tsv"
# strace needs ptrace, which some containers forbid: then the column says "not measured".
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
  step "bench: system calls per operation (strace)" env MONITOR_SYSCALLS_N="$syscalls_n" \
    ci/bench-syscalls.sh "$build" "$syscalls"
else
  echo "bench: strace missing or not allowed to trace here: no system-call column"
fi
step "bench: report" python3 bench/report.py "$json" --samples "$samples" --png "$out/bench-$stamp.png" \
  --syscalls "$syscalls" "${quick[@]}"
cp -f "$out/bench-$stamp.png" "$out/latest.png" 2>/dev/null || true
echo "results: $json, $out/latest.png"
