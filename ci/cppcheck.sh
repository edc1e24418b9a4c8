#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# cppcheck on src/ (every file of the library), with the include paths and defines of a real build
# (compile_commands.json of $MONITOR_BUILD_ROOT/tidy, configured here if missing; no compilation).
# Any finding fails. Suppressions are justified one by one in ci/cppcheck-suppressions.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. ci/lib.sh
build=$(tidy_build_dir)
cppcheck --project="$build/compile_commands.json" --file-filter="src/*" \
  --enable=warning,style,performance,portability --std=c++20 --library=posix \
  --inline-suppr --suppressions-list=ci/cppcheck-suppressions.txt \
  --error-exitcode=1 --quiet -j2 \
  --cppcheck-build-dir="$(mkdir -p "$build/cppcheck" && echo "$build/cppcheck")"
echo "cppcheck: src/ clean"
