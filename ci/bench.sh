#!/usr/bin/env bash
# The main job for users deciding on monitor: builds Release and runs the benchmark suite.
# (The suite itself is bench/; until it exists this builds the library and says so.)
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
step "dependencies" ci/deps.sh
step "bench: build" bash -c 'cmake --preset bench >/dev/null && cmake --build --preset bench -j2'
if [ -f bench/CMakeLists.txt ]; then
  echo "bench: run the targets in build/bench/bench/"
else
  echo "bench: no benchmark suite yet"
fi
