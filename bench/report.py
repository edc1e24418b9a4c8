#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns monitor_bench's JSON into the tables ci/bench.sh prints and the PNG it writes.

usage: report.py RESULTS.json [--samples DIR] [--png FILE] [--syscalls FILE.tsv] [--quick]

Every benchmark is named <group>/<impl>; figures are compared within a group against its "raw"
member, its "raw_secure" member and each peer present (glib, dbus). Batch rows (<impl>_b<N>) sit
in the 1-descriptor groups and are compared with the one-at-a-time "raw" and with "raw_mmsg_b<N>".
Over repetitions the median is taken. The legend printed above the tables says what each column
means; notes below a table explain every row flagged as an outlier.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict

PEERS = ["glib", "dbus", "sdbus"]
BATCH = re.compile(r"^(?P<base>.+)_b(?P<n>\d+)$")
SPREAD_LIMIT = 0.20  # (max - min) / median over repetitions above this: flagged
FAR_OFF = 2.0  # a ratio beyond 2x either way: flagged
TAIL = 5.0  # p99 / p50 above this: flagged

LEGEND = """\
legend (every figure is the median over repetitions; ratios compare rows of one group, same run)
  msgs/s, fds/s, hs/s  throughput: HIGHER is better
  p50 us, p99 us       handshake latency, connect -> authenticated as the client sees it: LOWER is better
  x raw                this row's figure divided by the raw twin's (raw sendmsg/recvmsg; one round trip
                       with SCM_CREDENTIALS + SO_PEERCRED). Throughput: above 1.00x is faster than raw.
                       Latency: below 1.00x is faster than raw (shown as p50/p99). Batch rows: against the
                       one-at-a-time raw. The targets (issues 11, 15) are against raw.
  x raw_secure         the same against raw_secure: the same checks as monitor written by hand (framing,
                       count check, MSG_CMSG_CLOEXEC, MSG_CTRUNC, extras closed; credentials cross-check,
                       SO_PASSRIGHTS off during the hello, SO_PASSCRED off after). The price of the
                       library alone, where x raw is the price of the library and of its safety.
  x mmsg               batch rows: against raw sendmmsg/recvmmsg with the same batch size
  cpu x raw            thread pairs: raw's process CPU time per message (both ends) over this row's; above
                       1.00x uses less CPU than raw (steadier than throughput on a busy machine)
  allocs/op, /hs      heap allocations per message (both ends; a forked receiver counts its own and
                       reports them) or per handshake (both sides); target 0
  allocs/batch         heap allocations per batch sent (batch rows); target 0
  calls/op, /hs        system calls per message sent + received, or per handshake with both sides and the
                       pair's socketpair + 2 close; (cli/srv): the calls on the client's and on the
                       server's socket, the rest being getpid/geteuid/getegid and socketpair
                       (ci/bench-syscalls.sh, strace, one thread, exact); - = not measured
  spread               (max - min) / median over the repetitions of the row's main figure
  target               the issue's target for this row and whether this run met it
  note [n]             an outlier: its explanation is printed under the table"""

QUICK_BANNER = """\
################################################################################################
#  QUICK MODE (MONITOR_BENCH_QUICK=1): one short repetition per benchmark. Every figure below  #
#  is NOISE: it proves the suite builds and runs, nothing about speed. For figures, run         #
#  ci/bench.sh without MONITOR_BENCH_QUICK on a quiet machine (uptime load < 1).                #
################################################################################################"""


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs = defaultdict(list)
    for b in doc["benchmarks"]:
        if b.get("run_type") == "aggregate" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        for suffix in ("/process_time", "/real_time", "/manual_time"):
            name = name.replace(suffix, "")
        runs[name].append(b)
    med = {}
    for name, reps in runs.items():
        keys = set().union(*(r.keys() for r in reps))
        nums = {k: [r[k] for r in reps] for k in keys
                if all(isinstance(r.get(k), (int, float)) for r in reps)}
        med[name] = {k: statistics.median(v) for k, v in nums.items()}
        med[name]["reps"] = len(reps)
        med[name]["_range"] = {k: (min(v), max(v)) for k, v in nums.items()}
    return doc.get("context", {}), med


def load_syscalls(path):
    """mode -> (calls per operation, on side a's socket, on side b's), from ci/bench-syscalls.sh's
    TSV (side a: the sender or client; b: the receiver or server)."""
    calls = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 4:
                    calls[cols[0]] = tuple(float(c) for c in cols[1:4])
    return calls


def fmt_calls(calls, mode, sides=False):
    c = calls.get(mode)
    if c is None:
        return "-"
    if sides and c[1] + c[2] > 0:  # a peer on its own listener has no socket pair to split by
        return f"{c[0]:.3g} ({c[1]:.3g}/{c[2]:.3g})"
    return f"{c[0]:.3g}"


def syscall_mode(group, impl):
    """The monitor_insns mode that measures this row's system calls, if any."""
    parts = group.split("/")
    if parts[0] == "fd" and parts[3] == "1fd":
        return f"fd_{parts[1]}_{impl}"
    if parts[0] == "hs" and parts[1] == "latency":
        return f"hs_{impl}"
    return None


def fmt(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    if v >= 1e4:
        return f"{v / 1e3:.1f}k"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.2f}"


def fmt_count(v):
    return "-" if v is None else f"{v:.3g}"


def ratio(a, b):
    return a / b if a and b else None


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


class Notes:
    def __init__(self):
        self.items = []

    def add(self, text):
        self.items.append(text)
        return f"[{len(self.items)}]"

    def print(self, start):
        for i, t in enumerate(self.items[start:], start + 1):
            print(f"  [{i}] {t}")


def spread(m, key):
    lo, hi = m.get("_range", {}).get(key, (None, None))
    v = m.get(key)
    if lo is None or not v or m.get("reps", 1) < 2:
        return None
    return (hi - lo) / v


def render(head, rows):
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def outliers(notes, group, impl, m, key, label, x_raw, cpu, p50=None, p99=None):
    """Notes for this row: each a reason not to take the figure at face value."""
    marks = []
    s = spread(m, key)
    if s is not None and s > SPREAD_LIMIT:
        lo, hi = m["_range"][key]
        marks.append(notes.add(
            f"{group}/{impl}: {label} spread {s:.0%} over {m['reps']} repetitions ({fmt(lo)} .. "
            f"{fmt(hi)}): the machine was busy or the figure is unstable; the median is shown, "
            f"rerun on a quiet machine before trusting it."))
    # Batching exists to move x raw far from 1: only its spread and CPU are judged.
    if (impl != "raw" and not BATCH.match(impl) and x_raw is not None
            and (x_raw > FAR_OFF or x_raw < 1 / FAR_OFF)):
        why = ("for an unpinned handshake the server thread may wake on the other CPU or not, and "
               "either row may have met a busy moment; the pinned row is the comparable one"
               if "/unpinned" in group else
               "a ratio this far from 1 is rarely the code: one of the two rows met a busy machine "
               "(see spread and cpu x raw), or the two ends met differently on 2 CPUs")
        marks.append(notes.add(f"{group}/{impl}: x raw is {x_raw:.2f}: {why}."))
    if cpu is not None and x_raw is not None and max(cpu, x_raw) / min(cpu, x_raw) > 1.5:
        marks.append(notes.add(
            f"{group}/{impl}: throughput ({x_raw:.2f}x raw) and CPU time ({cpu:.2f}x raw) disagree: "
            f"the ends waited on each other (scheduling), they did not compute more or less; "
            f"cpu x raw is the steadier figure."))
    if p50 and p99 and p99 / p50 > TAIL:
        marks.append(notes.add(
            f"{group}/{impl}: p99 is {p99 / p50:.1f}x p50: a long tail, usually preemption by other "
            f"work on the machine; compare p99 only between rows of a quiet run."))
    return " ".join(marks)


def groups_of(med):
    groups = defaultdict(dict)
    for name, m in med.items():
        group, impl = name.rsplit("/", 1)
        groups[group][impl] = m
    return groups


def impl_order(impl):
    b = BATCH.match(impl)
    base, n = (b.group("base"), int(b.group("n"))) if b else (impl, 0)
    first = ["raw", "raw_framed", "raw_secure", "peercred_floor", "raw_mmsg"]
    return (n > 0, base not in first, first.index(base) if base in first else 0,
            base in PEERS, base, n)


def verdict(verdicts, name, value, target, higher):
    if value is None:
        return "-"
    ok = value >= target if higher else value <= target
    verdicts.append((name, ok))
    return ("met" if ok else "MISSED")


def table_fd(groups, peers, calls, notes, verdicts):
    head = ["benchmark", "figure", "median", "spread", "allocs/op", "calls/op", "x raw",
            "x raw_secure", "cpu x raw", "target", "note"] + [f"x {p}" for p in peers]
    rows = []
    for group in sorted(g for g in groups if g.startswith("fd/")):
        impls = groups[group]
        multi = not group.endswith("/1fd")
        key, label = ("fds_per_s", "fds/s") if multi else ("msgs_per_s", "msgs/s")
        raw, sec = impls.get("raw", {}), impls.get("raw_secure", {})
        for impl in sorted((i for i in impls if not BATCH.match(i)), key=impl_order):
            m = impls[impl]
            v = m.get(key)
            x_raw = ratio(v, raw.get(key)) if impl != "raw" else 1.0
            x_sec = ratio(v, sec.get(key)) if impl not in ("raw", "raw_secure") else None
            cpu = None
            if "/thread/" in group and impl != "raw":
                cpu = ratio(raw.get("cpu_time"), m.get("cpu_time"))
            tgt = "-"
            if impl.startswith("monitor") and x_raw is not None:
                tgt = ">=0.95 " + verdict(verdicts, f"{group}/{impl}", x_raw, 0.95, True)
            mode = syscall_mode(group, impl)
            note = outliers(notes, group, impl, m, key, label, x_raw, cpu)
            s = spread(m, key)
            row = [f"{group}/{impl}", label, fmt(v), "-" if s is None else f"{s:.0%}",
                   fmt_count(m.get("allocs_per_op")), fmt_calls(calls, mode),
                   fmt_ratio(x_raw), fmt_ratio(x_sec), fmt_ratio(cpu), tgt, note]
            for p in peers:
                row.append(fmt_ratio(ratio(v, impls.get(p, {}).get(key))) if impl != p else "-")
            rows.append(row)
    return render(head, rows) if rows else ""


def table_batch(groups, calls, notes, verdicts):
    head = ["benchmark", "msgs/s", "spread", "allocs/op", "allocs/batch", "calls/op",
            "x raw (1 at a time)", "x mmsg", "cpu x raw", "target", "note"]
    rows = []
    for group in sorted(g for g in groups if g.startswith("fd/") and g.endswith("/1fd")):
        impls = groups[group]
        raw = impls.get("raw", {})
        for impl in sorted((i for i in impls if BATCH.match(i)), key=impl_order):
            m = impls[impl]
            n = BATCH.match(impl).group("n")
            v = m.get("msgs_per_s")
            x_raw = ratio(v, raw.get("msgs_per_s"))
            mm = impls.get(f"raw_mmsg_b{n}", {})
            x_mm = ratio(v, mm.get("msgs_per_s")) if not impl.startswith("raw_mmsg") else None
            # cpu_time is per iteration, that is per batch: per message it is a batch's share.
            per_msg_cpu = m["cpu_time"] / int(n) if m.get("cpu_time") else None
            cpu = ratio(raw.get("cpu_time"), per_msg_cpu) if "/thread/" in group else None
            tgt = "-"
            if impl.startswith("monitor") and n == "16":
                tgt = (">=1.5 raw " + verdict(verdicts, f"{group}/{impl}", x_raw, 1.5, True) +
                       "; >=0.95 mmsg " + verdict(verdicts, f"{group}/{impl} (mmsg)", x_mm, 0.95, True))
            note = outliers(notes, group, impl, m, "msgs_per_s", "msgs/s", x_raw, cpu)
            s = spread(m, "msgs_per_s")
            rows.append([f"{group}/{impl}", fmt(v), "-" if s is None else f"{s:.0%}",
                         fmt_count(m.get("allocs_per_op")), fmt_count(m.get("allocs_per_batch")),
                         fmt_calls(calls, syscall_mode(group, impl)), fmt_ratio(x_raw),
                         fmt_ratio(x_mm), fmt_ratio(cpu), tgt, note])
    return render(head, rows) if rows else ""


def table_latency(groups, peers, calls, notes, verdicts):
    head = ["benchmark", "p50 us", "p99 us", "spread", "allocs/hs", "calls/hs (cli/srv)", "x raw p50/p99",
            "x raw_secure p50/p99", "target p50/p99 <=1.05", "note"] + [f"x {p}" for p in peers]
    rows = []
    for group in sorted(g for g in groups if g.startswith("hs/latency/")):
        impls = groups[group]
        raw, sec = impls.get("raw", {}), impls.get("raw_secure", {})
        for impl in sorted(impls, key=impl_order):
            m = impls[impl]
            p50, p99 = m.get("p50_us"), m.get("p99_us")
            r50, r99 = ratio(p50, raw.get("p50_us")), ratio(p99, raw.get("p99_us"))
            s50, s99 = ratio(p50, sec.get("p50_us")), ratio(p99, sec.get("p99_us"))
            tgt = "-"
            if impl.startswith("monitor") and r50 is not None:
                tgt = (verdict(verdicts, f"{group}/{impl} p50", r50, 1.05, False) + "/" +
                       verdict(verdicts, f"{group}/{impl} p99", r99, 1.05, False))
            note = outliers(notes, group, impl, m, "p50_us", "p50", r50 if impl != "raw" else None,
                            None, p50, p99)
            s = spread(m, "p50_us")
            row = [f"{group}/{impl}", fmt(p50), fmt(p99), "-" if s is None else f"{s:.0%}",
                   fmt_count(m.get("allocs_per_hs")), fmt_calls(calls, syscall_mode(group, impl), True),
                   "-" if impl == "raw" else f"{fmt_ratio(r50)}/{fmt_ratio(r99)}",
                   "-" if impl in ("raw", "raw_secure") else f"{fmt_ratio(s50)}/{fmt_ratio(s99)}",
                   tgt, note]
            for p in peers:
                row.append(fmt_ratio(ratio(p50, impls.get(p, {}).get("p50_us"))) if impl != p else "-")
            rows.append(row)
    return render(head, rows) if rows else ""


def table_epoll(groups, notes):
    head = ["benchmark", "hs/s", "server us/hs", "spread", "allocs/hs", "x raw", "x raw_secure",
            "server cpu x raw", "note"]
    rows = []
    for group in sorted(g for g in groups if g.startswith("hs/epoll/")):
        impls = groups[group]
        raw, sec = impls.get("raw", {}), impls.get("raw_secure", {})
        for impl in sorted(impls, key=impl_order):
            m = impls[impl]
            v = m.get("items_per_second")
            x_raw = ratio(v, raw.get("items_per_second")) if impl != "raw" else 1.0
            cpu = ratio(raw.get("server_cpu_us"), m.get("server_cpu_us")) if impl != "raw" else None
            note = outliers(notes, group, impl, m, "items_per_second", "hs/s", x_raw, None)
            s = spread(m, "items_per_second")
            rows.append([f"{group}/{impl}", fmt(v), fmt(m.get("server_cpu_us")),
                         "-" if s is None else f"{s:.0%}", fmt_count(m.get("allocs_per_hs")),
                         fmt_ratio(x_raw),
                         fmt_ratio(ratio(v, sec.get("items_per_second")))
                         if impl not in ("raw", "raw_secure") else "-",
                         fmt_ratio(cpu), note])
    return render(head, rows) if rows else ""


def plot(med, samples, png):
    """Three panels: fds/s against descriptors per message (log-log), msgs/s against batch size,
    and the handshake latency distribution."""
    tmp = png + ".d"
    os.makedirs(tmp, exist_ok=True)

    def series_file(name, pts):
        f = os.path.join(tmp, name + ".dat")
        with open(f, "w") as out:
            out.writelines(f"{x} {y}\n" for x, y in pts)
        return f

    fd_series = []
    for stype in ("stream", "seqpacket"):
        for impl in ["raw", "raw_secure", "monitor_c", "monitor_cpp"] + PEERS:
            pts = [(n, med[f"fd/{stype}/thread/{n}fd/{impl}"]["fds_per_s"]) for n in (1, 16, 253)
                   if "fds_per_s" in med.get(f"fd/{stype}/thread/{n}fd/{impl}", {})]
            if pts:
                dash = "" if stype == "stream" else " dt 2"
                fd_series.append((series_file(f"fd_{stype}_{impl}", pts), f"{impl} {stype}", dash))
    batch_series = []
    for stype in ("stream", "seqpacket"):
        bases = sorted({BATCH.match(n.rsplit("/", 1)[1]).group("base") for n in med
                        if n.startswith(f"fd/{stype}/thread/1fd/") and BATCH.match(n.rsplit("/", 1)[1])})
        for base in bases:
            pts = sorted((int(BATCH.match(n.rsplit("/", 1)[1]).group("n")), m["msgs_per_s"])
                         for n, m in med.items()
                         if n.startswith(f"fd/{stype}/thread/1fd/{base}_b") and "msgs_per_s" in m)
            dash = "" if stype == "stream" else " dt 2"
            batch_series.append((series_file(f"batch_{stype}_{base}", pts), f"{base} {stype}", dash))
        one = med.get(f"fd/{stype}/thread/1fd/raw", {}).get("msgs_per_s")
        if one:
            pts = [(1, one), (64, one)]
            batch_series.append((series_file(f"batch_{stype}_raw1", pts),
                                 f"raw one-at-a-time {stype}", " dt 3"))
    lat = []
    if samples and os.path.isdir(samples):
        for fn in sorted(os.listdir(samples)):
            if fn.startswith("hs_latency_") and fn.endswith(".txt"):
                lat.append((os.path.join(samples, fn), fn[len("hs_latency_"):-4].replace("_", " ", 1)))

    def plot_cmd(series, empty):
        if not series:
            return f'plot 1 title "{empty}"'
        return "plot " + ", ".join(f'"{f}" using 1:2 with linespoints lw 2{d} title "{t}"'
                                   for f, t, d in series)

    g = ['set terminal pngcairo noenhanced size 2100,800 font "sans,10"', f'set output "{png}"',
         "set multiplot layout 1,3", "set grid", "set key below maxrows 6",
         'set title "descriptor throughput, thread pair (log-log; solid stream, dashed seqpacket)"',
         'set xlabel "descriptors per message"', 'set ylabel "descriptors per second"',
         "set logscale xy", "set xrange [0.8:400]", "set xtics (1, 16, 253)", "set format y '%.1s%c'",
         plot_cmd(fd_series, "no data"),
         'set title "batching, 1 descriptor per message, thread pair"',
         'set xlabel "messages per call"', 'set ylabel "messages per second"',
         "set logscale x 2", "unset logscale y", "set xrange [0.8:80]", "set xtics (1, 4, 16, 64)",
         plot_cmd(batch_series, "no batch rows"),
         "unset logscale", "set xtics auto", "set format y '%g'",
         'set title "handshake latency distribution (connect -> authenticated; dashed unpinned)"',
         'set xlabel "percentile (to p99)"', 'set ylabel "microseconds"', "set logscale y",
         "set xrange [0:99]"]
    if lat:
        g.append("plot " + ", ".join(
            f'"{f}" using 1:2 with lines lw 2 {"dt 2" if "unpinned" in t else ""} title "{t}"'
            for f, t in lat))
    else:
        g.append('plot 1 title "no samples"')
    g.append("unset multiplot")
    script = os.path.join(tmp, "plot.gp")
    with open(script, "w") as f:
        f.write("\n".join(g) + "\n")
    subprocess.run(["gnuplot", script], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--samples")
    ap.add_argument("--png")
    ap.add_argument("--syscalls", help="ci/bench-syscalls.sh's TSV")
    ap.add_argument("--quick", action="store_true", help="print the quick-mode banner")
    a = ap.parse_args()
    ctx, med = load(a.json)
    calls = load_syscalls(a.syscalls)
    groups = groups_of(med)
    peers = [p for p in PEERS if any(p in g for g in groups.values())]
    if a.quick:
        print(QUICK_BANNER)
    load_avg = ctx.get("load_avg") or ["?"]
    print(f"host: {ctx.get('num_cpus', '?')} CPUs, {ctx.get('mhz_per_cpu', '?')} MHz, load "
          f"{', '.join(f'{x:.2f}' if isinstance(x, float) else str(x) for x in load_avg)}; "
          f"medians over {max((m.get('reps', 1) for m in med.values()), default=0)} repetitions")
    if isinstance(load_avg[0], (int, float)) and load_avg[0] > 1.5:
        print(f"WARNING: the machine was busy (load {load_avg[0]:.2f} on {ctx.get('num_cpus', '?')} "
              f"CPUs): rows ran at different moments, so ratios between them carry that noise.")
    if not calls:
        print("calls/op: not measured (ci/bench-syscalls.sh did not run: strace missing?)")
    print(LEGEND)
    notes, verdicts = Notes(), []
    sections = [
        ("descriptor passing, one message per call", lambda: table_fd(groups, peers, calls, notes, verdicts)),
        ("batched descriptor passing, 1 descriptor per message (issue 15)",
         lambda: table_batch(groups, calls, notes, verdicts)),
        ("handshake latency, blocking", lambda: table_latency(groups, peers, calls, notes, verdicts)),
        ("handshakes on an epoll server", lambda: table_epoll(groups, notes)),
    ]
    for title, make in sections:
        start = len(notes.items)
        text = make()
        if not text:
            continue
        print(f"\n== {title}")
        print(text)
        if len(notes.items) > start:
            print("notes:")
            notes.print(start)
    missed = [n for n, ok in verdicts if not ok]
    print(f"\ntargets: {len(verdicts) - len(missed)} met, {len(missed)} missed"
          + (" (quick mode: meaningless)" if a.quick else ""))
    if a.quick:
        print(QUICK_BANNER)
    if a.png:
        try:
            plot(med, a.samples, a.png)
            print(f"plot: {a.png}")
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"plot: not written ({e})", file=sys.stderr)


if __name__ == "__main__":
    main()
