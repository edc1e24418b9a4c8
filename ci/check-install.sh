#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the release build into a clean prefix, then builds and runs, against that prefix only:
# tests/consumer (CMake find_package, shared and static; tests/consumer/c-static, a C-only project
# on the static library; tests/consumer/cxx-nostd, C++ with no -std of its own), the C programs
# through pkg-config (dynamic and fully static), C++ through monitor-cxx.pc, monitor.h as C99 and
# C11, and every C / C++ example in README.md (compiled, so they never rot).
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
LD_LIBRARY_PATH="$libdir" "$work/cmake/c_listen_pair"
LD_LIBRARY_PATH="$libdir" "$work/cmake/cpp_consumer"
"$work/cmake/cpp_consumer_static"

# A C-only project linking the static library (project(LANGUAGES C): no C++ compiler drives the
# link), and a C++ project that asks for no C++ standard of its own.
cmake -S tests/consumer/c-static -B "$work/c-static" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/c-static" >/dev/null
"$work/c-static/c_static_consumer"
"$work/c-static/c_static_listen_pair"
! ldd "$work/c-static/c_static_consumer" | grep -q libmonitor || { echo "c_static_consumer links libmonitor.so"; exit 1; }
cmake -S tests/consumer/cxx-nostd -B "$work/cxx-nostd" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cxx-nostd" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cxx-nostd/cxx_nostd_consumer"
"$work/cxx-nostd/cxx_nostd_static_consumer"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror tests/consumer/consumer.c -o "$work/c_pkgconfig" \
  $(pkg-config --cflags --libs monitor) -lpthread
LD_LIBRARY_PATH="$libdir" "$work/c_pkgconfig"
# Static through pkg-config: Libs.private brings the C++ runtime libmonitor.a needs.
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -static tests/consumer/consumer.c -o "$work/c_pkgconfig_static" \
  $(pkg-config --static --cflags --libs monitor) -lpthread
"$work/c_pkgconfig_static"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -static tests/consumer/listen_pair.c -o "$work/c_listen_pair_static" \
  $(pkg-config --static --cflags --libs monitor)
"$work/c_listen_pair_static"
# C++ without -std: monitor-cxx passes C++20 on; plain monitor gives the headers' clear message.
# shellcheck disable=SC2046
c++ -Wall -Wextra -Werror tests/consumer/consumer.cc -o "$work/cxx_pkgconfig" \
  $(pkg-config --cflags --libs monitor-cxx) -lpthread
LD_LIBRARY_PATH="$libdir" "$work/cxx_pkgconfig"
if c++ -std=c++17 -c tests/consumer/consumer.cc -o "$work/cxx17.o" $(pkg-config --cflags monitor) 2>"$work/cxx17.log"; then
  echo "the C++ API compiled as C++17"; exit 1
fi
grep -q "needs C++20" "$work/cxx17.log" || { cat "$work/cxx17.log"; echo "no clear C++20 message"; exit 1; }
# monitor.h is plain C: C99 and C11, pedantic, with GCC and Clang.
for std in c99 c11; do
  for compiler in cc clang; do
    command -v "$compiler" >/dev/null || continue
    printf '#include <monitor/monitor.h>\nint main(void) { return mon_strerror(MON_OK) == 0; }\n' |
      "$compiler" -std="$std" -pedantic -Wall -Wextra -Werror -x c -c - -o /dev/null $(pkg-config --cflags monitor)
  done
done

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
echo "install check: consumers ran (CMake shared, static, C-only static, C++ without -std; pkg-config dynamic, static, monitor-cxx); $n README examples compiled"
