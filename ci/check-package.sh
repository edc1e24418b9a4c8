#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packaging checks on a release build directory:
#   - the SONAME is libmonitor.so.<major of project(VERSION)>, and the install tree has the
#     libmonitor.so -> .so.<major> -> .so.<version> chain, the version file and monitor.pc's version;
#   - CHANGELOG.md has an entry for the version;
#   - `cpack -G DEB` builds two packages: libmonitor<major> (the shared library) and libmonitor-dev
#     (headers, libmonitor.so, libmonitor.a, CMake package, pkg-config files), in the multiarch
#     libdir, each with a machine-readable copyright file saying MIT with LICENSE's text.
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
  multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
  libdir="usr/lib/$multiarch"
  runtime="libmonitor$major"
  dev="libmonitor-dev"
  for pkg in "$runtime" "$dev"; do
    deb=$(ls "$work"/deb/"${pkg}"_*.deb 2>/dev/null) || fail "no $pkg package"
    dpkg-deb -c "$deb" | awk '{print $6 ($7 ? " " $7 " " $8 : "")}' | sed 's|^\./||' >"$work/$pkg.contents"
    [ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || fail "$deb is not named $pkg"
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$pkg version"
    # The copyright file: present, machine-readable, MIT, the same text as LICENSE.
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/doc/$pkg/copyright" >"$work/$pkg.copyright" ||
      fail "$pkg has no usr/share/doc/$pkg/copyright"
    head -1 "$work/$pkg.copyright" | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
      fail "$pkg copyright is not in the machine-readable format"
    grep -q '^License: MIT$' "$work/$pkg.copyright" || fail "$pkg copyright does not say License: MIT"
    grep -q '^Copyright: 2026 The monitor authors$' "$work/$pkg.copyright" || fail "$pkg copyright holder"
    diff <(sed -n '/^Permission is hereby/,$p' LICENSE | tr -s ' \n' ' ') \
         <(sed -n '/^ Permission is hereby/,$p' "$work/$pkg.copyright" | sed 's/^ \.$//; s/^ //' | tr -s ' \n' ' ') \
      >/dev/null || fail "$pkg copyright text differs from LICENSE"
  done
  # The split: the runtime package holds the shared library and nothing a build needs; the -dev
  # package everything else, and depends on the runtime package of the same version.
  for f in "$libdir/libmonitor.so.$version" "$libdir/libmonitor.so.$major -> libmonitor.so.$version"; do
    grep -qxF "$f" "$work/$runtime.contents" || fail "$runtime lacks $f"
  done
  if grep -E '^usr/include/|\.a$|pkgconfig|cmake/|libmonitor\.so ->' "$work/$runtime.contents"; then
    fail "$runtime holds development files"
  fi
  for f in "usr/include/monitor/monitor.h" "usr/include/monitor/listener.hpp" "$libdir/libmonitor.a" \
           "$libdir/libmonitor.so -> libmonitor.so.$major" "$libdir/pkgconfig/monitor.pc" \
           "$libdir/pkgconfig/monitor-cxx.pc" "$libdir/cmake/monitor/monitorConfig.cmake"; do
    grep -qxF "$f" "$work/$dev.contents" || fail "$dev lacks $f"
  done
  if grep -E '^[^ ]*/libmonitor\.so\.[0-9]' "$work/$dev.contents"; then fail "$dev holds the shared library"; fi
  deps=$(dpkg-deb -f "$work"/deb/"${dev}"_*.deb Depends)
  [ "$deps" = "$runtime (= $version)" ] || fail "$dev depends on '$deps', expected $runtime (= $version)"
  echo "check-package: $runtime ($(grep -c . "$work/$runtime.contents") entries, Depends: $(dpkg-deb -f "$work"/deb/"${runtime}"_*.deb Depends)), $dev ($(grep -c . "$work/$dev.contents") entries, Depends: $deps); copyright files MIT"
else
  echo "check-package: cpack or dpkg-deb missing, .deb not built"
fi
