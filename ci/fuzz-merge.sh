#!/usr/bin/env bash
# Adds to the checked-in corpus fuzz/corpus/TARGET the inputs of other corpora (a libFuzzer working
# copy, an AFL++ queue, ...) that reach coverage it does not have yet (libFuzzer -merge=1), named
# cov-<sha1>. Coverage here means edges reached, not hit counts, so the corpus stays small. Needs
# the `fuzz` preset built in $MONITOR_BUILD_ROOT/fuzz (ci/fuzz.sh builds it).
#   ci/fuzz-merge.sh TARGET DIR...
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: ci/fuzz-merge.sh TARGET DIR..." >&2; exit 2; }
target=$1
shift
root=${MONITOR_BUILD_ROOT:-build}
bin="$root/fuzz/fuzz/$target"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/merged"
cp fuzz/corpus/"$target"/* "$tmp/merged/"
before=$(ls "$tmp/merged" | wc -l)
max_len=$(sed -n 's/^max_len *= *//p' "fuzz/$target.options" 2>/dev/null || true)
"$bin" -merge=1 -use_counters=0 ${max_len:+-max_len=$max_len} "$tmp/merged" "$@" >"$tmp/log" 2>&1 || { tail -20 "$tmp/log"; exit 1; }
added=0
for f in "$tmp/merged"/*; do
  name=$(basename "$f")
  [ -e "fuzz/corpus/$target/$name" ] && continue
  cp "$f" "fuzz/corpus/$target/cov-$name"
  added=$((added + 1))
done
echo "$target: $before inputs, $added added"
