#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clang-tidy on every source file of src/ with the checked-in .clang-tidy (warnings are errors),
# using the compile_commands.json of a Clang configuration in $MONITOR_BUILD_ROOT/tidy (configured
# here, never compiled: clang-tidy only needs the commands).
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
build=$(tidy_build_dir)
# One file per clang-tidy process, two at a time; xargs fails if any of them reported something.
if find src -name '*.cc' -print0 | sort -z | xargs -0 -P2 -n1 clang-tidy -p "$build" --quiet; then
  echo "clang-tidy: src/ clean"
else
  echo "clang-tidy: findings above (see .clang-tidy for the checks and why some are off)"
  exit 1
fi
