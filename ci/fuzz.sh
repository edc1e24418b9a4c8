#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one fuzz target under libFuzzer (ASan + UBSan) for a bounded time:
#   ci/fuzz.sh TARGET SECONDS [extra libFuzzer options...]
# Builds the `fuzz` preset into $MONITOR_BUILD_ROOT/fuzz (only the fuzz targets), fuzzes a working
# copy of fuzz/corpus/TARGET (so the checked-in corpus changes only by hand), with the target's
# dictionary and max_len from fuzz/TARGET.options. Crashes, leaks and property failures are
# written to $MONITOR_BUILD_ROOT/fuzz-findings/TARGET/ and make the script fail.
# MONITOR_FUZZ_NO_BUILD=1 skips the build (when a caller built already).
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
[ $# -ge 2 ] || { echo "usage: ci/fuzz.sh TARGET SECONDS [libFuzzer options]" >&2; exit 2; }
target=$1 seconds=$2
shift 2
root=${MONITOR_BUILD_ROOT:-build}
dir="$root/fuzz"
[ -f "fuzz/$target.cc" ] || { echo "ci/fuzz.sh: no fuzz/$target.cc" >&2; exit 2; }

if [ -z "${MONITOR_FUZZ_NO_BUILD:-}" ]; then
  configure_build fuzz "$dir" -- "fuzz_$target"
fi

work="$root/fuzz-work/$target"
findings="$root/fuzz-findings/$target"
mkdir -p "$work" "$findings"
[ -d "fuzz/corpus/$target" ] && cp -n "fuzz/corpus/$target"/* "$work"/ 2>/dev/null || true

opts=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" -timeout=10)
[ -f "fuzz/$target.dict" ] && opts+=(-dict="fuzz/$target.dict")
if [ -f "fuzz/$target.options" ]; then
  max_len=$(sed -n 's/^max_len *= *//p' "fuzz/$target.options")
  [ -n "$max_len" ] && opts+=(-max_len="$max_len")
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$dir/fuzz/$target" "${opts[@]}" "$@" "$work"
