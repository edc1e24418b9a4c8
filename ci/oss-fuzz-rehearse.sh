#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Rehearses the OSS-Fuzz / ClusterFuzzLite build here, without Docker: runs ci/oss-fuzz/build.sh
# (which .clusterfuzzlite/build.sh reuses) with the variables their base builder image sets, once
# for the address and once for the undefined sanitizer, then runs every target it put in $OUT on
# its seed corpus (<target>_seed_corpus.zip, -runs=0: each input once) with its .options. Fails on
# a build error, a missing binary, seed corpus or dictionary named in .options, or any crash.
#
# The flags are OSS-Fuzz's for libFuzzer (base-clang's SANITIZER_FLAGS_*, COVERAGE_FLAGS), minus
# -stdlib=libc++ in CXXFLAGS: Debian's clang has no libc++ installed by default, and the build
# must not depend on which C++ library it gets. Also checks that ci/oss-fuzz/ holds no placeholder
# but the ones fuzz/README.md lists (repository URL and contact, on example.invalid).
#
# MONITOR_BUILD_ROOT (default: build): the work tree goes to $MONITOR_BUILD_ROOT/oss-fuzz-rehearsal.
# MONITOR_REHEARSE_SANITIZERS (default: "address undefined").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root=${MONITOR_BUILD_ROOT:-build}
base="$repo/$root/oss-fuzz-rehearsal"

# Exactly the placeholders a maintainer fills in when publishing, and nothing else.
placeholders=$(grep -c 'example\.invalid' ci/oss-fuzz/project.yaml ci/oss-fuzz/Dockerfile | tr '\n' ' ')
if [ "$placeholders" != "ci/oss-fuzz/project.yaml:3 ci/oss-fuzz/Dockerfile:1 " ] ||
  grep -qiE 'TODO|FIXME|XXX|<your' ci/oss-fuzz/* .clusterfuzzlite/*; then
  echo "ci/oss-fuzz-rehearse.sh: placeholders changed ($placeholders); update fuzz/README.md" >&2
  exit 1
fi

common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
coverage="-fsanitize=fuzzer-no-link"
declare -A sanitizer_flags=(
  [address]="-fsanitize=address -fsanitize-address-use-after-scope"
  [undefined]="-fsanitize=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
)
# The run-time options ClusterFuzz uses (unsigned overflow is instrumented but not a finding).
export ASAN_OPTIONS=alloc_dealloc_mismatch=0:allocator_may_return_null=1:detect_leaks=1:detect_stack_use_after_return=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1

for san in ${MONITOR_REHEARSE_SANITIZERS:-address undefined}; do
  dir="$base/$san"
  rm -rf "$dir"
  mkdir -p "$dir/src" "$dir/out" "$dir/work"
  # As ClusterFuzzLite's Dockerfile does (COPY . $SRC/monitor): the checkout, without build trees.
  mkdir "$dir/src/monitor"
  tar -C "$repo" --exclude=./build --exclude=./.git -cf - . | tar -C "$dir/src/monitor" -xf -
  t0=$SECONDS
  (
    cd "$dir/src/monitor"
    export CC=clang CXX=clang++ SANITIZER=$san FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64
    export CFLAGS="$common ${sanitizer_flags[$san]} $coverage"
    export CXXFLAGS="$CFLAGS"
    export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
    export SRC="$dir/src" OUT="$dir/out" WORK="$dir/work"
    nice -n 5 bash -eu .clusterfuzzlite/build.sh >"$dir/build.log" 2>&1
  ) || { tail -30 "$dir/build.log"; echo "ci/oss-fuzz-rehearse.sh: $san build failed" >&2; exit 1; }
  echo "$san: built in $((SECONDS - t0)) s"

  for t in $(ci/fuzz-targets.sh); do
    bin="$dir/out/$t"
    [ -x "$bin" ] || { echo "ci/oss-fuzz-rehearse.sh: $san: no $t in \$OUT" >&2; exit 1; }
    seeds="$dir/work/seeds-$t"
    mkdir -p "$seeds"
    if [ -d "fuzz/corpus/$t" ]; then
      [ -f "$dir/out/${t}_seed_corpus.zip" ] || { echo "ci/oss-fuzz-rehearse.sh: $san: no ${t}_seed_corpus.zip" >&2; exit 1; }
      unzip -q -o "$dir/out/${t}_seed_corpus.zip" -d "$seeds"
    fi
    opts=()
    if [ -f "$dir/out/$t.options" ]; then
      dict=$(sed -n 's/^dict *= *//p' "$dir/out/$t.options")
      [ -z "$dict" ] || [ -f "$dir/out/$dict" ] || { echo "ci/oss-fuzz-rehearse.sh: $san: $t.options names a missing $dict" >&2; exit 1; }
      [ -n "$dict" ] && opts+=(-dict="$dir/out/$dict")
      max_len=$(sed -n 's/^max_len *= *//p' "$dir/out/$t.options")
      [ -n "$max_len" ] && opts+=(-max_len="$max_len")
    fi
    log="$dir/work/$t.log"
    if ! (cd "$dir/out" && "$bin" -runs=0 "${opts[@]}" "$seeds" >"$log" 2>&1); then
      tail -30 "$log"
      echo "ci/oss-fuzz-rehearse.sh: $san: $t failed on its seed corpus" >&2
      exit 1
    fi
    echo "$san: $t: $(find "$seeds" -type f | wc -l) seeds, $(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
  done
done
