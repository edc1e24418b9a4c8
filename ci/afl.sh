#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one fuzz target under AFL++ (Debian package afl++) for a bounded time:
#   ci/afl.sh TARGET SECONDS
# The same LLVMFuzzerTestOneInput as libFuzzer: afl-clang-fast++ with -fsanitize=fuzzer links
# AFL++'s libFuzzer driver (/usr/lib/afl/libAFLDriver.a), persistent mode, shared-memory input;
# AFL_USE_ASAN/AFL_USE_UBSAN add the sanitizers. Build: $MONITOR_BUILD_ROOT/fuzz-afl; findings:
# $MONITOR_BUILD_ROOT/fuzz-afl-out/TARGET/default/{crashes,hangs}. Fails if AFL++ found a crash.
# A target with a structure-aware mutator (fuzz/mutators/) gets it through AFL++'s custom mutator
# interface: libafl_mutator_TARGET.so, built plain (no AFL instrumentation, no sanitizer) in
# $MONITOR_BUILD_ROOT/fuzz-afl-mutators and passed in AFL_CUSTOM_MUTATOR_LIBRARY; AFL++ runs its
# own stages too. MONITOR_AFL_NO_MUTATOR=1 leaves it out.
# MONITOR_FUZZ_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: ci/afl.sh TARGET SECONDS" >&2; exit 2; }
target=$1 seconds=$2
root=${MONITOR_BUILD_ROOT:-build}
dir="$root/fuzz-afl"
command -v afl-fuzz >/dev/null || ci/deps.sh afl++

if [ -z "${MONITOR_FUZZ_NO_BUILD:-}" ]; then
  AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 cmake -S . -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=afl-clang-fast \
    -DCMAKE_CXX_COMPILER=afl-clang-fast++ -DMONITOR_BUILD_FUZZERS=ON \
    -DMONITOR_FUZZ_ENGINE=-fsanitize=fuzzer -DMONITOR_BUILD_TESTS=OFF -DMONITOR_BUILD_EXAMPLES=OFF \
    -DMONITOR_HARDEN=OFF -DMONITOR_WERROR=OFF >/dev/null
  AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1 cmake --build "$dir" -j2 --target "fuzz_$target"
fi

mutator_dir="$root/fuzz-afl-mutators"
mutator="$mutator_dir/fuzz/libafl_mutator_$target.so"
if [ -z "${MONITOR_AFL_NO_MUTATOR:-}" ] && grep -q "^set(_mon_mutator_$target " fuzz/CMakeLists.txt; then
  if [ -z "${MONITOR_FUZZ_NO_BUILD:-}" ]; then
    cmake -S . -B "$mutator_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_C_COMPILER=clang -DMONITOR_BUILD_FUZZERS=ON -DMONITOR_FUZZ_AFL_MUTATORS=ON \
      -DMONITOR_BUILD_TESTS=OFF -DMONITOR_BUILD_EXAMPLES=OFF -DMONITOR_HARDEN=OFF >/dev/null
    cmake --build "$mutator_dir" -j2 --target "afl_mutator_$target"
  fi
  export AFL_CUSTOM_MUTATOR_LIBRARY="$PWD/$mutator"
fi

out="$root/fuzz-afl-out/$target"
rm -rf "$out"
mkdir -p "$out"
dict=()
[ -f "fuzz/$target.dict" ] && dict=(-x "fuzz/$target.dict")
# No UI, no CPU pinning (the machine is shared), no core_pattern or CPU governor demands.
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1
afl-fuzz -i "fuzz/corpus/$target" -o "$out" "${dict[@]}" -V "$seconds" -t 2000 -m none \
  -- "$dir/fuzz/$target" >"$out/afl.log" 2>&1 || { tail -30 "$out/afl.log"; exit 1; }
stats="$out/default/fuzzer_stats"
grep -E '^(execs_done|execs_per_sec|run_time|corpus_count|bitmap_cvg|saved_crashes|saved_hangs) ' "$stats"
crashes=$(sed -n 's/^saved_crashes *: *//p' "$stats")
[ "${crashes:-0}" = 0 ] || { echo "ci/afl.sh: $crashes crash(es) in $out/default/crashes" >&2; exit 1; }
