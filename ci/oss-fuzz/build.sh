#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# OSS-Fuzz build script (https://google.github.io/oss-fuzz/getting-started/new-project-guide/).
# Uses only what OSS-Fuzz provides: $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $SRC $OUT (and
# $WORK for the build tree when set). Writes to $OUT, for every target of fuzz/CMakeLists.txt:
# the binary, <target>_seed_corpus.zip, <target>.dict and <target>.options.
#
# Run from the repository (OSS-Fuzz's WORKDIR), or with the repository at $SRC/monitor.
if [ -f fuzz/CMakeLists.txt ]; then
  repo=$PWD
else
  repo=$SRC/monitor
fi
build=${WORK:-$(mktemp -d)}/monitor-fuzz-build

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DMONITOR_BUILD_FUZZERS=ON -DMONITOR_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" \
  -DMONITOR_BUILD_TESTS=OFF -DMONITOR_BUILD_EXAMPLES=OFF -DMONITOR_BUILD_BENCHMARKS=OFF \
  -DMONITOR_HARDEN=OFF -DMONITOR_WERROR=OFF

targets=$("$repo/ci/fuzz-targets.sh")
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' $targets)

for t in $targets; do
  cp "$build/fuzz/$t" "$OUT/"
  if [ -d "$repo/fuzz/corpus/$t" ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$repo/fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  fi
  for extra in dict options; do
    if [ -f "$repo/fuzz/$t.$extra" ]; then cp "$repo/fuzz/$t.$extra" "$OUT/"; fi
  done
done
