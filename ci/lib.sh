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

# The one way the ci/ scripts configure and build a preset: configure PRESET into DIR with any
# extra -D options (quietly), then build with -j2, all of it or only the TARGETs after `--`:
#   configure_build PRESET DIR [-DNAME=VALUE...] [-- TARGET...]
configure_build() {
  local preset=$1 dir=$2
  shift 2
  local defs=() targets=()
  while (($#)); do
    if [ "$1" = -- ]; then
      shift
      targets=("$@")
      break
    fi
    defs+=("$1")
    shift
  done
  cmake --preset "$preset" -B "$dir" ${defs[@]+"${defs[@]}"} >/dev/null
  if ((${#targets[@]})); then
    cmake --build "$dir" -j2 --target "${targets[@]}"
  else
    cmake --build "$dir" -j2
  fi
}
