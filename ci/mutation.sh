#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sampled mutation testing: how many small, plausible bugs in src/ does the CTest suite catch?
#
#   ci/mutation.sh [N] [SEED]        (defaults: 200 mutants, seed 12)
#
# A mutant is one edit to one line of src/ (the mutator is ci/mutation.py: relational and equality
# operators flipped, && <-> ||, integer literals +-1, guard lines removed, conditions forced true or
# false). The sample is drawn with a fixed seed, so a run is reproducible and two runs compare.
# Each mutant is built incrementally in its own copy of the tree (build/mutation/, never the
# checkout) and the suite runs with short per-test timeouts: a test that fails, crashes or stalls
# kills the mutant. A mutant that does not compile is "stillborn" and not counted. Tests that fail
# or time out on the unmutated tree are left out of every run (and listed), so they kill nothing.
#
# Slow (minutes per mutant on a small machine): not part of ci/test.sh. Meant for a scheduled job
# (nightly or weekly); the report (build/mutation/report.txt) lists every survivor with its diff,
# to be killed by a new test or explained as equivalent.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
SEED=${2:-12}
ROOT=${MONITOR_BUILD_ROOT:-build}/mutation
JOBS=${MUTATION_JOBS:-2}
TEST_TIMEOUT=${MUTATION_TEST_TIMEOUT:-20}
mkdir -p "$ROOT"
exec python3 ci/mutation.py --root "$ROOT" --count "$N" --seed "$SEED" --jobs "$JOBS" \
  --test-timeout "$TEST_TIMEOUT"
