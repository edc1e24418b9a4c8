#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compiles and links every snippet of docs/EVENT_LOOPS.md that is marked
# `<!-- check-event-loops: <pkg-config module> -->` against the source tree's headers and the
# build's static library, when that module's development package is installed (libsystemd-dev,
# libglib2.0-dev: ci/deps.sh); a missing one is reported, not failed.
#   ci/check-event-loops.sh [build dir, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
lib="$build/src/libmonitor.a"
[ -f "$lib" ] || { echo "check-event-loops: $lib missing (build the release preset first)"; exit 1; }
work=$(mktemp -d /tmp/monitor-event-loops.XXXXXX)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import re, sys, pathlib
text = pathlib.Path("docs/EVENT_LOOPS.md").read_text()
blocks = re.findall(r"<!-- check-event-loops: (\S+) -->\n```c\n(.*?)```", text, re.S)
if not blocks:
    sys.exit("docs/EVENT_LOOPS.md has no marked snippet")
for i, (module, body) in enumerate(blocks):
    pathlib.Path(sys.argv[1], f"snippet_{i}.c").write_text(body)
    pathlib.Path(sys.argv[1], f"snippet_{i}.module").write_text(module)
PY

built=0
for src in "$work"/snippet_*.c; do
  module=$(cat "${src%.c}.module")
  if ! pkg-config --exists "$module"; then
    echo "check-event-loops: $module not installed, snippet $(basename "$src") not compiled"
    continue
  fi
  # A main that keeps the snippet's entry point (serve_*) alive without running a loop.
  entry=$(sed -n 's/^int \(serve_[a-z_]*\)(const char \*path) {$/\1/p' "$src")
  [ -n "$entry" ] || { echo "check-event-loops: $(basename "$src") has no serve_*() entry point"; exit 1; }
  printf 'int %s(const char *path);\nint main(int argc, char **argv) { return argc > 99 ? %s(argv[1]) : 0; }\n' \
    "$entry" "$entry" >"${src%.c}_main.c"
  # shellcheck disable=SC2046
  cc -std=gnu11 -Wall -Wextra -Werror -Iinclude "$src" "${src%.c}_main.c" -o "${src%.c}" \
    $(pkg-config --cflags --libs "$module") "$lib" -lstdc++ -lm
  "${src%.c}"
  built=$((built + 1))
  echo "check-event-loops: $module snippet ($entry) compiled and linked"
done
echo "check-event-loops: $built snippet(s) built"
