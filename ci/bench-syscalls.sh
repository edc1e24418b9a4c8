#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# System calls per operation (strace: exact, whatever the machine's load) for every mode of
# monitor_insns (bench/insns_main.cc): per message sent and received (fd modes; batch modes count
# per message too) and per whole handshake, both sides (hs modes). Each mode runs N and 2N
# operations under `strace -f`; (calls(2N) - calls(N)) / N cancels start-up and warm-up.
# Calls are split by side with the socket pair's numbers: the first argument is the sender's (or
# client's) socket, the receiver's (or server's), or neither ("other": getpid, close of a received
# descriptor, socketpair). hs modes create and close their socket pair inside the operation:
# socketpair + 2 close (3 calls) are in every hs figure, raw's included.
#
# usage: ci/bench-syscalls.sh [BUILD_DIR] [OUT.tsv]
#   BUILD_DIR  default $MONITOR_BUILD_ROOT/bench (built by ci/bench.sh)
#   OUT.tsv    also write mode, total, side A, side B, other, breakdown (bench/report.py reads it)
# Environment: MONITOR_SYSCALLS_N (default 256, a multiple of 64: the largest batch).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${MONITOR_BUILD_ROOT:-build}/bench}
out=${2:-}
bin="$build/bench/monitor_insns"
[ -x "$bin" ] || { echo "ci/bench-syscalls.sh: $bin not built (run ci/bench.sh first)" >&2; exit 1; }
command -v strace >/dev/null || { echo "ci/bench-syscalls.sh: strace missing (ci/deps.sh installs it)" >&2; exit 1; }
n=${MONITOR_SYSCALLS_N:-256}
((n % 64 == 0)) || { echo "ci/bench-syscalls.sh: MONITOR_SYSCALLS_N must be a multiple of 64" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" list-modes >"$tmp/modes"
# Two traces at a time (the counts are exact whatever runs beside them).
trace() {  # mode suffix count
  strace -f -qq -o "$tmp/$1.$2" "$bin" "$1" "$3" >/dev/null
}
export -f trace
export bin tmp
while read -r m; do
  printf '%s 1 %s\n%s 2 %s\n' "$m" "$n" "$m" $((2 * n))
done <"$tmp/modes" | xargs -P 2 -n 3 bash -c 'trace "$@"' _

python3 - "$tmp" "$n" "$out" <<'EOF'
import collections, os, re, sys

tmp, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
call = re.compile(r"^\d+\s+([a-z_0-9]+)\((\d+)?")
pair = re.compile(r"socketpair\(.*\[(\d+), (\d+)\]\) = 0")
# hs_listener modes: the client's socket is the one that connects, the server's the one accepted.
connected = re.compile(r"^\d+\s+connect\((\d+),")
accepted = re.compile(r"^\d+\s+accept4\(.*\) = (\d+)")


def count(path):
    """(calls per name, calls per side) of one trace."""
    names, sides, fds = collections.Counter(), collections.Counter(), None
    client = None
    with open(path) as f:
        for line in f:
            if "resumed>" in line:
                continue  # the call was counted when it started
            m = call.match(line)
            if not m:
                continue  # signals, exits
            if fds is None and (p := pair.search(line)):
                fds = (p.group(1), p.group(2))
            if fds is None and (c := connected.match(line)):
                client = c.group(1)
            if fds is None and client is not None and (a := accepted.match(line)):
                fds = (client, a.group(1))
            names[m.group(1)] += 1
            arg = m.group(2)
            side = "a" if fds and arg == fds[0] else "b" if fds and arg == fds[1] else "other"
            sides[side] += 1
    return names, sides


def per_op(c1, c2):
    return {k: (c2[k] - c1[k]) / n for k in set(c1) | set(c2) if c2[k] != c1[k]}


def fmt(v):
    return f"{v:.2f}".rstrip("0").rstrip(".")


rows = []
for mode in open(os.path.join(tmp, "modes")).read().split():
    n1, s1 = count(os.path.join(tmp, mode + ".1"))
    n2, s2 = count(os.path.join(tmp, mode + ".2"))
    names, sides = per_op(n1, n2), per_op(s1, s2)
    total = sum(names.values())
    breakdown = " ".join(f"{k}:{fmt(v)}" for k, v in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])))
    rows.append((mode, total, sides.get("a", 0), sides.get("b", 0), sides.get("other", 0), breakdown))

base = {"fd_stream": "fd_stream_raw", "fd_seqpacket": "fd_seqpacket_raw", "hs": "hs_raw",
        "hs_listener": "hs_listener_raw"}
totals = {r[0]: r[1] for r in rows}
print(f"{'mode':30} {'calls/op':>9} {'x raw':>6} {'send/cli':>8} {'recv/srv':>8} {'other':>6}  calls per op")
for mode, total, a, b, other, breakdown in rows:
    key = ("hs_listener" if mode.startswith("hs_listener_") else "hs" if mode.startswith("hs_")
           else "_".join(mode.split("_")[:2]))
    raw = totals.get(base.get(key, ""), 0)
    ratio = f"{total / raw:.2f}x" if raw else "-"
    print(f"{mode:30} {fmt(total):>9} {ratio:>6} {fmt(a):>8} {fmt(b):>8} {fmt(other):>6}  {breakdown}")
print("(per message sent + received, batch modes included; per handshake, both sides, with the\n"
      " pair's socketpair + 2 close (hs_listener: socket + connect + accept4 + 2 close on a listener\n"
      " prepared once); send/cli = calls on the sender's or client's socket,\n"
      " recv/srv = on the receiver's or server's, other = neither: getpid, closing received fds)")
if out:
    with open(out, "w") as f:
        for r in rows:
            f.write("\t".join([r[0]] + [fmt(v) for v in r[1:5]] + [r[5]]) + "\n")
EOF
