#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# epoll-server end to end: a silent client connects first and says nothing; five clients that
# come after it must each be served at once (each has 3 s, the silent one holds on for 20 s).
# Then the server's deadline drops the silent client, and it exits after the five.
#   e2e_test.sh SERVER CLIENT
set -euo pipefail
server=$1 client=$2
dir=$(mktemp -d /tmp/epoll-server.XXXXXX)
sock="$dir/sock"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT

"$server" "$sock" --serve 5 --deadline-ms 2000 >"$dir/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$dir/server.log"; echo "server did not listen"; exit 1; }

"$client" "$sock" --silent 20 >"$dir/silent.log" &
pids+=($!)
for _ in $(seq 100); do grep -q connected "$dir/silent.log" && break; sleep 0.05; done

for i in 1 2 3 4 5; do
  out=$(timeout 3 "$client" "$sock") || { cat "$dir/server.log"; echo "client $i stalled or failed"; exit 1; }
  case "$out" in
    "hello uid $(id -u) pid "*", 2 descriptors") ;;
    *) echo "client $i got: $out"; exit 1 ;;
  esac
done
# All five served while the silent client was still connected; the server now exits on its own.
timeout 10 tail --pid="$server_pid" -f /dev/null || { echo "server did not exit"; exit 1; }
wait "$server_pid" || { cat "$dir/server.log"; echo "server failed"; exit 1; }
[ "$(grep -c '^served ' "$dir/server.log")" = 5 ] || { cat "$dir/server.log"; exit 1; }
echo "epoll-server e2e: 5 clients served while a silent client held a connection"
