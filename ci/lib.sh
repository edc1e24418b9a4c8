# SPDX-License-Identifier: MIT
# Shared by the ci/ scripts: a step runner that prints a header and the time each step took.
step() {
  local name=$1
  shift
  local t0=$SECONDS
  echo
  echo "=== ${name}"
  "$@"
  echo "=== ${name}: done in $((SECONDS - t0)) s"
}

# The compile_commands.json that clang-tidy and cppcheck read: a Clang configuration in
# $MONITOR_BUILD_ROOT/tidy, configured on first use and never compiled. Prints its directory.
tidy_build_dir() {
  local build=${MONITOR_BUILD_ROOT:-build}/tidy
  if [ ! -f "$build/compile_commands.json" ]; then
    cmake --preset clang-release -B "$build" -DMONITOR_BUILD_TESTS=OFF -DMONITOR_BUILD_EXAMPLES=OFF >/dev/null
  fi
  echo "$build"
}
