#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source, script and build file carries an `SPDX-License-Identifier: MIT` line in its first
# three lines (LICENSE holds the text). Fuzz corpora, data and Markdown are not checked.
#   ci/spdx.sh --check   list the files without the line; exit 1 if there is any
#   ci/spdx.sh --fix     add the line (first line, or second after a shebang) in the file's
#                        comment syntax
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in --check | --fix) ;; *) echo "usage: $0 --check | --fix" >&2; exit 2 ;; esac
tag="SPDX-License-Identifier: MIT"

# The comment that carries the tag in a file of this name; empty for a file that is not checked.
comment_for() {  # path
  case "$1" in
    */corpus/* | */corpora/* | */testdata/* | */data/*) ;;
    *.c | *.h) echo "/* $tag */" ;;
    *.cc | *.hpp) echo "// $tag" ;;
    *.sh | *.py | *.cmake | *.in | */CMakeLists.txt | CMakeLists.txt | .ci/run | \
      */Dockerfile | Dockerfile | */build.sh) echo "# $tag" ;;
  esac
}

missing=0
# Tracked files and new ones not ignored, so a file added in this change is checked too.
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  line=$(comment_for "$f")
  [ -n "$line" ] || continue
  head -n 3 "$f" | grep -qF "$tag" && continue
  if [ "$mode" = --check ]; then
    echo "spdx: $f has no '$tag' line in its first 3 lines"
    missing=$((missing + 1))
    continue
  fi
  tmp=$(mktemp "$f.spdx.XXXXXX")
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$line"; cat "$f"; } >"$tmp"
  fi
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  echo "spdx: added to $f"
done < <(git ls-files -z --cached --others --exclude-standard)

if [ "$mode" = --check ]; then
  [ "$missing" -eq 0 ] || { echo "spdx: $missing file(s) without the licence line (ci/spdx.sh --fix)"; exit 1; }
  echo "spdx: every source, script and build file carries '$tag'"
fi
