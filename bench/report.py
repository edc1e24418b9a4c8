#!/usr/bin/env python3
"""Turns monitor_bench's JSON into the table ci/bench.sh prints and the PNG it writes.

usage: report.py RESULTS.json [--samples DIR] [--png FILE]

Every benchmark is named <group>/<impl>; figures are compared within a group against its "raw"
member (and against each peer present: glib, dbus). Over repetitions the median is taken.
  fd/...       msgs/s (and fds/s), higher is better; target >= 0.95x raw
  hs/latency   p50 and p99 in us, lower is better; target <= 1.05x raw
  hs/epoll     handshakes/s, higher is better; server CPU us per handshake beside it
"cpu x raw" (fd thread pairs): raw's process CPU time per message over this one's, as a ratio of
throughput would be on an idle machine (>= 0.95 meets the same target).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict

PEERS = ["glib", "dbus", "sdbus"]


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
        med[name] = {k: statistics.median(r[k] for r in reps if isinstance(r.get(k), (int, float)))
                     for k in keys if all(isinstance(r.get(k), (int, float)) for r in reps)}
        med[name]["reps"] = len(reps)
    return doc.get("context", {}), med


def metric(name):
    """(key, label, higher_is_better, target) of a benchmark's main figure."""
    if name.startswith("fd/"):
        return "msgs_per_s", "msgs/s", True, 0.95
    if name.startswith("hs/latency/"):
        return "p50_us", "p50 us", False, 1.05
    return "items_per_second", "hs/s", True, None


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


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def table(med):
    groups = defaultdict(dict)
    for name, m in med.items():
        group, impl = name.rsplit("/", 1)
        groups[group][impl] = m
    peers = [p for p in PEERS if any(p in g for g in groups.values())]
    head = ["benchmark", "figure", "median", "p99 us", "allocs/op", "x raw", "target", "cpu x raw"] + \
           [f"x {p}" for p in peers]
    rows = [head]
    verdicts = []
    for group in sorted(groups):
        impls = groups[group]
        order = sorted(impls, key=lambda i: (i != "raw", i not in ("raw_framed", "peercred_floor"),
                                             i in PEERS, i))
        for impl in order:
            m = impls[impl]
            key, label, higher, target = metric(group + "/")
            v = m.get(key)
            raw = impls.get("raw", {}).get(key)
            allocs = m.get("allocs_per_op", m.get("allocs_per_hs"))
            extra = ""
            if group.startswith("fd/") and not group.endswith("/1fd"):
                label, v, raw = "fds/s", m.get("fds_per_s"), impls.get("raw", {}).get("fds_per_s")
            if group.startswith("hs/epoll") and "server_cpu_us" in m:
                extra = f" (server {m['server_cpu_us']:.1f} us/hs)"
            r = ratio(v, raw) if impl != "raw" else "1.00x"
            tgt = "-"
            if impl.startswith("monitor") and target is not None and v and raw:
                ok = v / raw >= target if higher else v / raw <= target
                tgt = (">=" if higher else "<=") + f"{target} " + ("met" if ok else "MISSED")
                verdicts.append((f"{group}/{impl}", ok))
                if group.startswith("hs/latency") and m.get("p99_us") and impls.get("raw", {}).get("p99_us"):
                    okp = m["p99_us"] / impls["raw"]["p99_us"] <= target
                    tgt += f"; p99 {m['p99_us'] / impls['raw']['p99_us']:.2f}x " + ("met" if okp else "MISSED")
            # Thread pairs: CPU time of both ends per message, less swayed by a busy machine than
            # throughput (lower is better, so this is raw's CPU over this one's: >= 1 is as cheap).
            cpu = "-"
            if "/thread/" in group and impl != "raw" and m.get("cpu_time") and impls.get("raw", {}).get("cpu_time"):
                cpu = f"{impls['raw']['cpu_time'] / m['cpu_time']:.2f}x"
            row = [f"{group}/{impl}", label, fmt(v) + extra, fmt(m.get("p99_us")),
                   "-" if allocs is None else f"{allocs:.3g}", r, tgt, cpu]
            for p in peers:
                pv = impls.get(p, {}).get(key if label != "fds/s" else "fds_per_s")
                row.append(ratio(v, pv) if impl != p else "-")
            rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines), verdicts


def plot(med, samples, png):
    """Two panels: fds/s against descriptors per message, and the latency distribution."""
    tmp = png + ".d"
    os.makedirs(tmp, exist_ok=True)
    series = []
    for stype in ("stream", "seqpacket"):
        for impl in ["raw", "monitor_cpp"] + PEERS:
            pts = []
            for n in (1, 16, 253):
                m = med.get(f"fd/{stype}/thread/{n}fd/{impl}")
                if m and "fds_per_s" in m:
                    pts.append((n, m["fds_per_s"]))
            if pts:
                f = os.path.join(tmp, f"fd_{stype}_{impl}.dat")
                with open(f, "w") as out:
                    out.writelines(f"{n} {v}\n" for n, v in pts)
                series.append((f, f"{impl} {stype}"))
    lat = []
    if samples and os.path.isdir(samples):
        for fn in sorted(os.listdir(samples)):
            if fn.startswith("hs_latency_") and fn.endswith(".txt"):
                lat.append((os.path.join(samples, fn), fn[len("hs_latency_"):-4].replace("_", " ", 1)))
    g = [f'set terminal pngcairo noenhanced size 1400,560 font "sans,10"', f'set output "{png}"',
         "set multiplot layout 1,2", "set grid", "set key left top",
         'set title "descriptor throughput, thread pair (median of repetitions)"',
         'set xlabel "descriptors per message"', 'set ylabel "descriptors per second"',
         "set logscale x 2", "set xtics (1, 16, 253)", "set format y '%.1s%c'"]
    if series:
        g.append("plot " + ", ".join(f'"{f}" using 1:2 with linespoints lw 2 title "{t}"' for f, t in series))
    else:
        g.append('plot 0 title "no data"')
    g += ["unset logscale x", "set xtics auto", "set format y '%g'",
          'set title "handshake latency distribution (connect -> authenticated)"',
          'set xlabel "percentile"', 'set ylabel "microseconds"', "set logscale y", "set key left top",
          "set xrange [0:100]"]
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
    a = ap.parse_args()
    ctx, med = load(a.json)
    text, verdicts = table(med)
    print(f"host: {ctx.get('num_cpus', '?')} CPUs, {ctx.get('mhz_per_cpu', '?')} MHz, "
          f"load {ctx.get('load_avg', '?')}; medians over repetitions")
    print(text)
    missed = [n for n, ok in verdicts if not ok]
    print(f"\ntargets: {len(verdicts) - len(missed)} met, {len(missed)} missed")
    if a.png:
        try:
            plot(med, a.samples, a.png)
            print(f"plot: {a.png}")
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"plot: not written ({e})", file=sys.stderr)


if __name__ == "__main__":
    main()
