#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The project's test command (README.md). Installs what is missing (Debian packages), then builds
# and runs every test in the release (GCC) and ASan+UBSan (Clang) configurations, checks the
# installed tree with out-of-tree consumers, and ends with CTest's summary line.
#
# MONITOR_BUILD_ROOT (default: build) lets several checkouts or developers build side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
root=${MONITOR_BUILD_ROOT:-build}
export CTEST_OUTPUT_ON_FAILURE=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

configure_and_build() {  # preset
  configure_build "$1" "$root/$1"
}
run_tests() {  # preset
  ctest --test-dir "$root/$1" -j2 --timeout 120
}

# Fail fast: the cheap static checks first (seconds each), then builds and suites, then the long
# dynamic runs (fuzz, benchmarks, soak). One line per step, so that added steps merge cleanly.
step "dependencies" ci/deps.sh
step "licence: SPDX line in every source file" ci/spdx.sh --check

# --- Static checks: no build needed (clang-tidy and cppcheck only configure). ---
step "format: clang-format --dry-run over our C and C++" ci/check-format.sh
step "layering: allowed includes per layer, system calls only in src/sys" ci/check-layering.sh
step "API reference: docs/API.md matches the headers" ci/gen-api-doc.py --check
step "clang-tidy: src/ (.clang-tidy)" ci/clang-tidy.sh
step "cppcheck: src/" ci/cppcheck.sh

# --- Builds and suites. ---
step "release (GCC): build" configure_and_build release
step "asan+ubsan (Clang): build" configure_and_build asan
step "asan+ubsan (Clang): tests" run_tests asan
step "install tree: consumers and README examples" ci/check-install.sh "$root/release"
step "packaging: SONAME, version files, CHANGELOG, .deb (cpack)" ci/check-package.sh "$root/release"
step "event loops: docs/EVENT_LOOPS.md snippets (sd-event, GLib) compile and link" ci/check-event-loops.sh "$root/release"
step "tsan (Clang): the whole suite, with tests/concurrency_test" ci/tsan.sh
step "valgrind memcheck: integration and hostile suites (release build)" ci/valgrind.sh

# --- Long dynamic runs. ---
step "fuzz: every target 15 s under libFuzzer (corpora replay in CTest: fuzz_replay_*)" ci/fuzz-all.sh 15
step "fuzz: OSS-Fuzz/ClusterFuzzLite build rehearsal (address, undefined) and seed replay" ci/oss-fuzz-rehearse.sh
step "benchmarks: quick run (keeps the suite building and running; figures are noise)" env MONITOR_BENCH_QUICK=1 MONITOR_BENCH_NO_DEPS=1 MONITOR_BENCH_OUT="$root/bench-quick" ci/bench.sh
step "soak: smoke run (20,000 descriptors, 2,000 handshakes)" ci/soak.sh

# Last: the full suite in the release configuration, so the run ends with CTest's summary line.
step "release (GCC): tests" run_tests release
