#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Adds to the checked-in corpus fuzz/corpus/TARGET the inputs of other corpora (a libFuzzer working
# copy, an AFL++ queue, a ClusterFuzzLite corpus artifact, ...) that reach coverage it does not
# have yet (libFuzzer -merge=1), named cov-<sha1>. Coverage here means edges reached, not hit
# counts, so the corpus stays small. Needs the `fuzz` preset built in $MONITOR_BUILD_ROOT/fuzz
# (ci/fuzz.sh builds it).
#   ci/fuzz-merge.sh TARGET DIR...
#
# Size bound per target, so the repository and every CI replay stay small: after the merge
# fuzz/corpus/TARGET holds at most MONITOR_CORPUS_MAX_FILES files (default 400) and
# MONITOR_CORPUS_MAX_BYTES bytes (default 256 KiB). New inputs are taken smallest first until the
# next would cross a bound; the rest are reported as skipped (run again after pruning the corpus
# with a fresh -merge=1 into an empty directory to make room). Seeds and regression inputs are
# never removed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: ci/fuzz-merge.sh TARGET DIR..." >&2; exit 2; }
target=$1
shift
root=${MONITOR_BUILD_ROOT:-build}
max_files=${MONITOR_CORPUS_MAX_FILES:-400}
max_bytes=${MONITOR_CORPUS_MAX_BYTES:-262144}
bin="$root/fuzz/fuzz/$target"
[ -x "$bin" ] || { echo "ci/fuzz-merge.sh: no $bin (cmake --preset fuzz; build fuzz_$target)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/merged" "fuzz/corpus/$target"
cp fuzz/corpus/"$target"/* "$tmp/merged/" 2>/dev/null || true
before=$(find "fuzz/corpus/$target" -type f | wc -l)
max_len=$(sed -n 's/^max_len *= *//p' "fuzz/$target.options" 2>/dev/null || true)
"$bin" -merge=1 -use_counters=0 ${max_len:+-max_len=$max_len} "$tmp/merged" "$@" >"$tmp/log" 2>&1 || { tail -20 "$tmp/log"; exit 1; }

files=$before
bytes=$(find "fuzz/corpus/$target" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
added=0 skipped=0
# The new inputs (names the corpus does not have), smallest first.
while read -r size name; do
  [ -e "fuzz/corpus/$target/$name" ] && continue
  if ((files + 1 > max_files || bytes + size > max_bytes)); then
    skipped=$((skipped + 1))
    continue
  fi
  cp "$tmp/merged/$name" "fuzz/corpus/$target/cov-$name"
  files=$((files + 1)) bytes=$((bytes + size)) added=$((added + 1))
done < <(find "$tmp/merged" -type f -printf '%s %f\n' | sort -n)
echo "$target: $before inputs before, $added added, $skipped skipped by the bound; now $files files, $bytes bytes (bound $max_files files, $max_bytes bytes)"
[ "$skipped" = 0 ] || echo "ci/fuzz-merge.sh: $target: bound reached; see the comment at the top" >&2
