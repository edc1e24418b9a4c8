#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI's fuzzing step: builds the `fuzz` preset (libFuzzer + ASan + UBSan) into $MONITOR_BUILD_ROOT/fuzz
# and runs every target (ci/fuzz-targets.sh) under libFuzzer for SECONDS each (default 15), one
# after the other. Any crash, leak or property failure fails the step (ci/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
seconds=${1:-15}
root=${MONITOR_BUILD_ROOT:-build}
targets=$(ci/fuzz-targets.sh)
configure_build fuzz "$root/fuzz" -- $(printf 'fuzz_%s ' $targets)
mkdir -p "$root/fuzz-findings"
for t in $targets; do
  log="$root/fuzz-findings/$t.log"
  if ! MONITOR_FUZZ_NO_BUILD=1 ci/fuzz.sh "$t" "$seconds" >"$log" 2>&1; then
    tail -40 "$log"
    echo "ci/fuzz-all.sh: $t failed (input in $root/fuzz-findings/$t/)"
    exit 1
  fi
  echo "$t: $(grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$log" | tr -s ' ' | tr '\n' ' ')"
done
