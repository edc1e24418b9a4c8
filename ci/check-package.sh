#!/usr/bin/env bash
# Packaging checks on a release build directory:
#   - the SONAME is libmonitor.so.<major of project(VERSION)>, and the install tree has the
#     libmonitor.so -> .so.<major> -> .so.<version> chain, the version file and monitor.pc's version;
#   - CHANGELOG.md has an entry for the version;
#   - `cpack -G DEB` builds a .deb holding the libraries, headers, CMake package and monitor.pc.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
version=$(sed -n 's/^project(monitor VERSION \([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p' CMakeLists.txt)
major=${version%%.*}
[ -n "$version" ] || { echo "no project(VERSION) in CMakeLists.txt"; exit 1; }
work=$(mktemp -d /tmp/monitor-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-package: $*"; exit 1; }

soname=$(readelf -d "$build/src/libmonitor.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libmonitor.so.$major" ] || fail "SONAME is '$soname', expected libmonitor.so.$major"

cmake --install "$build" --prefix "$work/prefix" >/dev/null
lib=$(dirname "$(find "$work/prefix" -name "libmonitor.so.$version" | head -1)")
[ -f "$lib/libmonitor.so.$version" ] || fail "libmonitor.so.$version not installed"
[ "$(readlink "$lib/libmonitor.so.$major")" = "libmonitor.so.$version" ] || fail "bad libmonitor.so.$major link"
[ "$(readlink "$lib/libmonitor.so")" = "libmonitor.so.$major" ] || fail "bad libmonitor.so link"
grep -q "set(PACKAGE_VERSION \"$version\")" "$lib/cmake/monitor/monitorConfigVersion.cmake" ||
  fail "monitorConfigVersion.cmake does not say $version"
[ "$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --modversion monitor)" = "$version" ] || fail "monitor.pc version"
grep -q "^## \[$version\]" CHANGELOG.md || fail "CHANGELOG.md has no '## [$version]' entry"
echo "check-package: SONAME $soname, links and version files of $version ok"

if command -v cpack >/dev/null && command -v dpkg-deb >/dev/null; then
  (cd "$build" && cpack -G DEB -B "$work/deb") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
  deb=$(ls "$work"/deb/*.deb)
  dpkg-deb -c "$deb" >"$work/contents"
  for f in "usr/include/monitor/monitor.h" "usr/lib/libmonitor.so.$version" \
           "usr/lib/libmonitor.so.$major -> libmonitor.so.$version" "usr/lib/libmonitor.a" \
           "usr/lib/pkgconfig/monitor.pc" "usr/lib/cmake/monitor/monitorConfig.cmake"; do
    grep -qF "./$f" "$work/contents" || fail "$(basename "$deb") lacks $f"
  done
  [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version"
  echo "check-package: $(basename "$deb") ($(grep -c . "$work/contents") entries, Depends: $(dpkg-deb -f "$deb" Depends))"
else
  echo "check-package: cpack or dpkg-deb missing, .deb not built"
fi
