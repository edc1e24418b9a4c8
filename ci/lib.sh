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
