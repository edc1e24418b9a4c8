#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end test of fd-broker: the broker runs as root, its clients as nobody (uid/gid 65534).
#   e2e_test.sh FD_BROKER FD_BROKER_OPEN FD_BROKER_LIAR [FUSE_STALL_SERVER]
# Exit 77 (CTest: skipped) when not root or when setpriv is missing. Every client runs under
# `timeout`; the broker runs under `timeout -s KILL` as a watchdog and is stopped by the EXIT trap,
# so nothing outlives the test even when it fails half way.
#
# The test signals the broker itself, never its `timeout`: a `timeout` told to stop its child sends
# SIGTERM and then SIGCONT, and a SIGCONT discards a pending SIGSTOP. LeakSanitizer checks for leaks
# at exit by having a helper task PTRACE_ATTACH the process (which queues a SIGSTOP) and wait for it
# to stop; if the SIGCONT lands in between, the helper waits forever and the ASan broker never exits
# (seen in CI under load).
set -uo pipefail
broker=$1 client=$2 liar=$3 fuse_server=${4:-}  # fuse_server: tests/support/fuse_stall_server

if [ "$(id -u)" != 0 ]; then echo "SKIP: fd-broker e2e needs root (it runs clients as uid 65534)"; exit 77; fi
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) not installed"; exit 77; }

dir=$(mktemp -d /tmp/fd-broker-e2e.XXXXXX)
chmod 755 "$dir"  # nobody must reach the socket and the public files, not the secret ones
brokers="" watchdogs=""  # pids of the running brokers, and of the `timeout`s that watch them
stop_broker() {  # pid: SIGTERM, at most 5 s, then SIGKILL
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
}
cleanup() {
  exec 9>&- 2>/dev/null  # releases a holding liar
  [ -n "${fuse_pid:-}" ] && kill -KILL "$fuse_pid" 2>/dev/null  # aborts its FUSE connection
  for b in $brokers; do kill -0 "$b" 2>/dev/null && stop_broker "$b"; done
  for w in $watchdogs; do  # a broker may not have been found: stop whatever its timeout runs
    pkill -KILL -P "$w" 2>/dev/null
    kill -KILL "$w" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP  # a signal ends the script through the EXIT trap, broker included

failures=0
check() {  # description, then a command that must succeed
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
as_nobody() { timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

mkdir -p "$dir/run" "$dir/srv/public/sub" "$dir/srv/secret"
chmod 755 "$dir/run" "$dir/srv" "$dir/srv/public" "$dir/srv/public/sub"
chmod 700 "$dir/srv/secret"
head -c 100000 /dev/urandom > "$dir/srv/public/blob.bin"
echo "hello from the broker" > "$dir/srv/public/sub/hello.txt"
echo "top secret" > "$dir/srv/secret/key.txt"
chmod 600 "$dir/srv/public/blob.bin" "$dir/srv/public/sub/hello.txt" "$dir/srv/secret/key.txt"
ln -s ../secret "$dir/srv/public/escape-dir"          # a symlinked directory inside the grant
ln -s ../secret/key.txt "$dir/srv/public/escape-file" # a symlinked file inside the grant
mkfifo "$dir/srv/public/fifo"
cat > "$dir/policy" <<POLICY
# fd-broker policy used by the end-to-end test
allow uid=65534 $dir/srv/public/
allow gid=4242 $dir/srv/secret/
POLICY
chmod 644 "$dir/policy"
sock=$dir/run/broker.sock
log=$dir/broker.log

# start_broker SOCKET LOG ARGS...: starts a broker under a `timeout -s KILL 80` watchdog, waits for
# its socket, and sets started_pid (the broker) and started_watchdog.
start_broker() {
  local sock=$1 log=$2; shift 2
  timeout -s KILL 80 "$broker" "$@" "$sock" "$dir/policy" </dev/null >/dev/null 2>"$log" &
  started_watchdog=$!
  watchdogs="$watchdogs $started_watchdog"
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  if ! test -S "$sock"; then echo "FAIL - broker did not start:"; cat "$log"; exit 1; fi
  started_pid=$(pgrep -P "$started_watchdog")  # the socket exists: timeout has forked and exec'd it
  if [ -z "$started_pid" ] || [ "$(wc -w <<<"$started_pid")" != 1 ]; then
    echo "FAIL - cannot tell the broker's pid (children of timeout: '$started_pid')"; exit 1
  fi
  brokers="$brokers $started_pid"
}
start_broker "$sock" "$log" --handshake-timeout-ms 500 --max-conns 4
broker_pid=$started_pid watchdog_pid=$started_watchdog
echo "ok   - broker listens (socket created)"
check "socket file mode is 0666" test "$(stat -c %a "$sock")" = 666
# Root, but holding only CAP_DAC_READ_SEARCH (bit 2), with no way back to more.
status_field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$broker_pid/status"; }
check "capabilities: effective and permitted only CAP_DAC_READ_SEARCH" \
  test "$(status_field CapEff)/$(status_field CapPrm)" = "0000000000000004/0000000000000004"
check "capabilities: bounding set only CAP_DAC_READ_SEARCH, none inheritable or ambient" \
  test "$(status_field CapBnd)/$(status_field CapInh)/$(status_field CapAmb)" = \
  "0000000000000004/0000000000000000/0000000000000000"
check "no_new_privs set" test "$(status_field NoNewPrivs)" = 1
# SIGHUP re-reads the root-owned policy with what is left.
kill -HUP "$broker_pid"
for _ in $(seq 50); do grep -q "policy reloaded" "$log" && break; sleep 0.1; done
check "SIGHUP reloads the policy after the drop" grep -q "policy reloaded: 2 rules" "$log"

# 1. Allowed: nobody cannot read the file itself, the broker hands it over.
check "nobody cannot open the file directly" \
  bash -c "! timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups -- cat '$dir/srv/public/blob.bin' >/dev/null 2>&1"
as_nobody "$client" "$sock" "$dir/srv/public/blob.bin" >"$dir/out" 2>"$dir/err"; rc=$?
cat "$dir/err"
check "allowed path: exit 0" test "$rc" = 0
check "allowed path: content matches" cmp -s "$dir/out" "$dir/srv/public/blob.bin"
as_nobody "$client" "$sock" "$dir/srv/public/sub/hello.txt" >"$dir/out2" 2>/dev/null
check "allowed path in a subdirectory: content matches" cmp -s "$dir/out2" "$dir/srv/public/sub/hello.txt"
# gid=4242 is granted srv/secret/: nobody gets in with 4242 as a supplementary group only.
timeout 20 setpriv --reuid=65534 --regid=65534 --groups=4242 -- "$client" "$sock" \
  "$dir/srv/secret/key.txt" >"$dir/out4" 2>/dev/null
check "supplementary group named by a gid rule: content matches" cmp -s "$dir/out4" "$dir/srv/secret/key.txt"

# 2. Denied by policy, malformed, symlink escapes, non-regular files.
expect_exit() {  # description, expected status, then the client's path argument
  local what=$1 want=$2 path=$3 rc
  as_nobody "$client" "$sock" "$path" >/dev/null 2>"$dir/err"; rc=$?
  echo "     client: $(cat "$dir/err")"
  check "$what: exit $want (got $rc)" test "$rc" = "$want"
}
expect_exit "denied path (outside the grant)" 3 "$dir/srv/secret/key.txt"
expect_exit "denied path (prefix without the slash)" 3 "$dir/srv/publicity"
expect_exit "'..' in the path" 4 "$dir/srv/public/../secret/key.txt"
expect_exit "relative path" 4 "srv/public/blob.bin"
expect_exit "symlinked directory inside the grant" 5 "$dir/srv/public/escape-dir/key.txt"
expect_exit "symlinked file inside the grant" 5 "$dir/srv/public/escape-file"
expect_exit "FIFO inside the grant (must not block the broker)" 5 "$dir/srv/public/fifo"
expect_exit "directory inside the grant" 5 "$dir/srv/public/sub"
check "broker logged the denial with pid/uid/gid" \
  grep -Eq "deny pid=[0-9]+ uid=65534 gid=65534 path=\"$dir/srv/secret/key.txt\": no rule allows it" "$log"

# 3. Peers with no rule at all are refused at the handshake, with the verified identity in the log.
timeout 20 "$client" "$sock" "$dir/srv/public/blob.bin" >/dev/null 2>"$dir/err"; rc=$?
echo "     root client: $(cat "$dir/err")"
check "root (no rule) refused at the handshake: exit 2" test "$rc" = 2
check "broker logged the handshake denial" grep -Eq "deny handshake pid=[0-9]+ uid=0 gid=0: no policy rule" "$log"

# 4. Clients that lie.
check "forged SCM_CREDENTIALS (root claiming nobody) refused" timeout 20 "$liar" forged-creds "$sock"
check "connect as root, then setuid to nobody: refused" timeout 20 "$liar" setuid-after-connect "$sock"
check "socket passed to another process (confused deputy) refused" as_nobody "$liar" pass-socket "$sock"
check "request carrying a descriptor: connection dropped" as_nobody "$liar" fd-in-request "$sock"
check "idle unauthenticated connection dropped (handshake timeout)" as_nobody "$liar" idle "$sock"
check "connection flood beyond --max-conns: all closed" as_nobody "$liar" flood "$sock" 12
check "broker logged the refused credentials" grep -q "credentials do not match the process that connected" "$log"
check "broker logged the connection cap" grep -q "connections already" "$log"
check "broker logged the handshake timeout" grep -q "no handshake within 500 ms" "$log"

# 4b. A user's descriptors and files as weapons (SECURITY.md, "A peer's descriptors are attack
# surface"). Each attacker runs while another uid must be served within a bound.
served_meanwhile() {  # description: a gid-4242 client (uid 65533) must get key.txt within 5 s
  timeout 5 setpriv --reuid=65533 --regid=65533 --groups=4242 -- "$client" "$sock" \
    "$dir/srv/secret/key.txt" >"$dir/out-mean" 2>/dev/null
  check "$1: another uid served within 5 s" cmp -s "$dir/out-mean" "$dir/srv/secret/key.txt"
}
# Descriptors in flight: requests whose replies are never read get one descriptor, then FDB_BUSY.
check "unread replies: at most one descriptor in flight per connection" \
  as_nobody "$liar" unread "$sock" 20 "$dir/srv/public/sub/hello.txt"
check "broker logged the unread reply" grep -q "previous reply unread" "$log"
served_meanwhile "unread replies"
# File leases: the attacker owns a file in its grant, holds a write lease and ignores the break.
echo "leased" >"$dir/srv/public/leased.txt"
chown 65534:65534 "$dir/srv/public/leased.txt"
check "a write lease on the file: FDB_BUSY at once, no sleep in the lease break" \
  as_nobody "$liar" lease "$sock" "$dir/srv/public/leased.txt"
served_meanwhile "lease on a granted file"
# Mounts inside a grant: a FUSE file system whose lookups never finish, mounted under the grant.
mnt=$dir/srv/public/mnt
mkdir -p "$mnt"
fuse_pid=""
if [ -z "$fuse_server" ] || [ ! -x "$fuse_server" ]; then
  echo "SKIP - mount inside a grant: fuse_stall_server not built (tests off)"
else
  "$fuse_server" --mount "$mnt" --allow-other >"$dir/fuse.out" 2>&1 &
  fuse_pid=$!
  for _ in $(seq 50); do grep -q ready "$dir/fuse.out" && break; kill -0 "$fuse_pid" 2>/dev/null || break; sleep 0.1; done
  if ! grep -q ready "$dir/fuse.out"; then
    echo "SKIP - mount inside a grant: $(cat "$dir/fuse.out")"
    fuse_pid=""
  fi
fi
if [ -n "$fuse_pid" ]; then
  # The 5 s bound is outside setpriv: a `timeout` run as nobody could not execute a client that
  # sits under a 0700 home (setpriv can: it resolves the program before it drops root).
  timeout 5 setpriv --reuid=65534 --regid=65534 --clear-groups -- "$client" "$sock" "$mnt/block" \
    >/dev/null 2>"$dir/err"; rc=$?
  echo "     client: $(cat "$dir/err")"
  check "a path across a mount inside the grant is refused at once (exit 5, EXDEV; got $rc)" \
    test "$rc" = 5
  check "broker logged the refused crossing" grep -q "mnt/block.*Invalid cross-device link" "$log"
  served_meanwhile "a FUSE mount inside the grant"
  kill -KILL "$fuse_pid" 2>/dev/null; wait "$fuse_pid" 2>/dev/null  # aborts the connection
  umount -l "$mnt" 2>/dev/null
fi

# 5. Still serving after all that, then a clean stop that removes the socket.
as_nobody "$client" "$sock" "$dir/srv/public/sub/hello.txt" >"$dir/out3" 2>/dev/null
check "still serving after the hostile clients" cmp -s "$dir/out3" "$dir/srv/public/sub/hello.txt"
kill -TERM "$broker_pid"
for _ in $(seq 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$broker_pid" 2>/dev/null; then
  # Bounded: say where it is stuck, then kill it. A sanitizer's helper task is the broker's child.
  echo "     broker still running 10 s after SIGTERM; its tasks, their state and kernel wait:"
  describe() {  # pid, indent
    local t
    for t in /proc/"$1"/task/*; do
      echo "     $2pid $1 task ${t##*/}: $(cut -d' ' -f3 "$t/stat" 2>/dev/null)" \
        "wchan=$(cat "$t/wchan" 2>/dev/null) syscall=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)" \
        "cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -c1-60)"
      sed "s/^/     $2  /" "$t/stack" 2>/dev/null | head -8
    done
    local c
    for c in $(pgrep -P "$1" || true); do describe "$c" "$2  "; done
  }
  describe "$broker_pid" ""
  echo "     broker log (last 15 lines):"; tail -15 "$log" | sed 's/^/     | /'
  kill -KILL "$broker_pid" 2>/dev/null || true
fi
wait "$watchdog_pid"; rc=$?  # timeout exits with the broker's status
check "broker exits 0 on SIGTERM" test "$rc" = 0
check "socket file removed" test ! -e "$sock"

# 6. A per-uid cap, on a second broker whose handshake timeout outlasts the test: nobody opens four
# connections and keeps them unauthenticated; it keeps two slots, the other two go to other uids.
sock2=$dir/run/broker2.sock log2=$dir/broker2.log
start_broker "$sock2" "$log2" --handshake-timeout-ms 60000 --max-conns 4 --max-conns-per-uid 2
mkfifo "$dir/hold.in"
as_nobody "$liar" hold "$sock2" 4 2 <"$dir/hold.in" >"$dir/hold.out" 2>&1 &
hold_pid=$!
exec 9<>"$dir/hold.in"  # (read-write: never blocks) the liar holds its connections until this closes
for _ in $(seq 100); do grep -q "held" "$dir/hold.out" && break; sleep 0.1; done
cat "$dir/hold.out"
check "one uid's connections beyond --max-conns-per-uid are closed" \
  grep -q "4 opened, 2 closed by the broker, 2 held" "$dir/hold.out"
timeout 20 setpriv --reuid=65533 --regid=65533 --groups=4242 -- "$client" "$sock2" \
  "$dir/srv/secret/key.txt" >"$dir/out5" 2>/dev/null
check "another uid is served while that one holds its share" cmp -s "$dir/out5" "$dir/srv/secret/key.txt"
check "broker logged the per-uid cap" grep -q "uid 65534 has 2 connections already" "$log2"
exec 9>&-
wait "$hold_pid"; check "the liar saw exactly the refusals it expected" test "$?" = 0
stop_broker "$started_pid"
wait "$started_watchdog"; check "second broker exits 0 on SIGTERM" test "$?" = 0

echo "--- broker log"
cat "$log"
echo "--- second broker log"
cat "$log2"
echo "--- $failures failure(s)"
[ "$failures" = 0 ]
