#!/usr/bin/env bash
# Installs the release build into a clean prefix, then builds and runs, against that prefix only:
# tests/consumer (CMake find_package, shared and static), the same C program through pkg-config,
# and every C / C++ example in README.md (compiled, so they never rot).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
prefix=$(mktemp -d /tmp/monitor-prefix.XXXXXX)
work=$(mktemp -d /tmp/monitor-consumer.XXXXXX)
trap 'rm -rf "$prefix" "$work"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/monitor/monitor.h"
test -f "$prefix/lib/cmake/monitor/monitorConfig.cmake" || test -f "$prefix/lib/x86_64-linux-gnu/cmake/monitor/monitorConfig.cmake"

cmake -S tests/consumer -B "$work/cmake" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'libmonitor.so' | head -1)")
LD_LIBRARY_PATH="$libdir" "$work/cmake/c_consumer"
LD_LIBRARY_PATH="$libdir" "$work/cmake/cpp_consumer"
"$work/cmake/cpp_consumer_static"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror tests/consumer/consumer.c -o "$work/c_pkgconfig" \
  $(pkg-config --cflags --libs monitor) -lpthread
LD_LIBRARY_PATH="$libdir" "$work/c_pkgconfig"

# README examples: every ```c and ```cpp block is compiled against the installed headers.
python3 - "$work" <<'PY'
import re, sys, pathlib
text = pathlib.Path("README.md").read_text()
for i, (lang, body) in enumerate(re.findall(r"```(c|cpp)\n(.*?)```", text, re.S)):
    pathlib.Path(sys.argv[1], f"readme_{i}.{'c' if lang == 'c' else 'cc'}").write_text(body)
PY
n=0
for f in "$work"/readme_*; do
  [ -e "$f" ] || continue
  case "$f" in
    *.c) cc -std=c99 -Wall -Wextra -Werror -c "$f" -o "$f.o" $(pkg-config --cflags monitor) ;;
    *.cc) c++ -std=c++20 -Wall -Wextra -Werror -c "$f" -o "$f.o" $(pkg-config --cflags monitor) ;;
  esac
  n=$((n + 1))
done
[ "$n" -ge 2 ] || { echo "README.md has fewer than two code examples"; exit 1; }
echo "install check: consumers ran; $n README examples compiled"
