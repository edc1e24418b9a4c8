#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every C and C++ file of ours as clang-format (.clang-format) would write it. Tables and diagrams in
# comments sit between `// clang-format off` and `// clang-format on`. Fix with:
#   git ls-files -z 'src/*' ... | xargs -0 clang-format -i   (or the same list as below)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -d '' files < <(git ls-files -z -- src include tests fuzz bench examples tools \
  | grep -zE '\.(c|cc|cpp|h|hpp)$')
if [ "${#files[@]}" -eq 0 ]; then
  echo "format: no files found"
  exit 1
fi
if ! clang-format --dry-run -Werror "${files[@]}"; then
  echo "format: the files above differ from clang-format's output (run clang-format -i on them)"
  exit 1
fi
echo "format: ok (${#files[@]} files, $(clang-format --version | grep -oE 'version [0-9.]+'))"
