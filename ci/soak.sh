#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Load and soak (tools/soak/soak.cc). CI runs a tiny smoke run (default); the full run is
#   ci/soak.sh full    # 1,000,000 descriptors, 100,000 handshakes, 1,000 clients in flight
# and is for people, under nice, one at a time (SECURITY.md gives its figures). Builds the release
# configuration with MONITOR_BUILD_SOAK=ON in $MONITOR_BUILD_ROOT/soak.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
root=${MONITOR_BUILD_ROOT:-build}
build=$root/soak
configure_build release "$build" -DMONITOR_BUILD_SOAK=ON -DMONITOR_BUILD_TESTS=OFF \
  -DMONITOR_BUILD_EXAMPLES=OFF -DMONITOR_BUILD_FUZZERS=OFF -- monitor_soak
if [ "${1:-smoke}" = full ]; then
  exec "$build/tools/soak/monitor_soak" --fds 1000000 --handshakes 100000 --clients 1000 --seconds 900
fi
exec "$build/tools/soak/monitor_soak" --fds 20000 --handshakes 2000 --clients 100 --seconds 120
