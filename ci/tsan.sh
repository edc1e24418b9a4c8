#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite under ThreadSanitizer (preset tsan, Clang) into $MONITOR_BUILD_ROOT/tsan.
# tests/concurrency_test.cc is the main witness (threads with their own connections, handshakes and
# descriptor passing at once); every other suite runs too, so a race anywhere in the library shows.
# The 10,000-connection test is left out: it measures memory per connection, which TSan's shadow
# memory would swamp, and it has no threads.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
root=${MONITOR_BUILD_ROOT:-build}
configure_build tsan "$root/tsan"
# halt_on_error: the first report fails the test; second_deadlock_stack: readable lock reports.
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
  ctest --test-dir "$root/tsan" -j2 --timeout 300 -E 'Hostile/Exhaustion'
