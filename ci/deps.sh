#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages the build, tests, fuzzers and benchmarks need, if any is missing.
# Runs 'apt-get update' at most once, and only when something has to be installed.
set -euo pipefail

packages=(
  cmake ninja-build pkg-config g++ clang llvm libclang-rt-14-dev
  libgtest-dev libbenchmark-dev
  valgrind clang-tidy cppcheck binutils file util-linux zip python3
  dpkg-dev
  clang-format
  systemd libsystemd-dev libglib2.0-dev
  strace
  unzip
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "ci/deps.sh: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
