#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Valgrind memcheck of the integration suites (real sockets and processes) on the release build in
# $MONITOR_BUILD_ROOT/release (built by ci/test.sh's release step; built here if missing).
# Zero errors and zero leaks: --error-exitcode fails the run on any error, and definite or possible
# leaks count as errors (--errors-for-leak-kinds), checked at the exit of every process.
#
# Choices:
#  - Forked children (fork without exec) run under valgrind automatically; their errors make them
#    exit with 99, which the parent test sees through wait_child and fails on. --trace-children is
#    not needed: no test execs. --child-silent-after-fork keeps their reports out of the parent's.
#    A child leaves through _exit() with the parent's objects still live on its stack: those are
#    reachable, not leaks, and do not count.
#  - Left out: Hostile/Exhaustion (10,000 connections: valgrind takes descriptors for itself at the
#    top of the table and the test measures RSS, which valgrind changes), and
#    Descriptors.TruncatedControlAtTheDescriptorLimit and EdgesSender.TooManyDescriptorsInFlight
#    (both lower RLIMIT_NOFILE, and valgrind refuses setrlimit below the descriptors it reserves for
#    itself). Both run in every other configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
root=${MONITOR_BUILD_ROOT:-build}
build=$root/release
if [ ! -x "$build/tests/capi_test" ]; then
  configure_build release "$build"
fi
vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible
    --child-silent-after-fork=yes --track-fds=no --quiet)
suites=(tests/capi_test tests/handshake_test tests/message_test tests/concurrency_test
        tests/hostile/hostile_descriptors tests/hostile/hostile_stream_edges
        tests/hostile/hostile_handshake_peers)
[ -x "$build/tests/shm_test" ] && suites+=(tests/shm_test)
filter='-*TruncatedControlAtTheDescriptorLimit*:*TooManyDescriptorsInFlight*'
pids=()
logs=()
status=0
# Two at a time (2 cores); each suite's log is printed only if it failed.
run() {
  local exe=$1 log
  log=$(mktemp)
  if "${vg[@]}" "$build/$exe" --gtest_filter="$filter" --gtest_brief=1 >"$log" 2>&1; then
    echo "valgrind: $exe: clean"
  else
    echo "valgrind: $exe: FAILED"
    cat "$log"
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}
i=0
for s in "${suites[@]}"; do
  run "$s" &
  pids+=($!)
  if (( ++i % 2 == 0 )); then
    for p in "${pids[@]}"; do wait "$p" || status=1; done
    pids=()
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
