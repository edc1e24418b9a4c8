#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints the fuzz targets, one a line: the MONITOR_FUZZ_TARGETS list of fuzz/CMakeLists.txt, the
# one place they are named.
set -euo pipefail
cd "$(dirname "$0")/.."
sed -n '/^set(MONITOR_FUZZ_TARGETS/,/)/p' fuzz/CMakeLists.txt | sed '1d' | tr -d ' )' | grep -v '^$' | grep -v '^#'
