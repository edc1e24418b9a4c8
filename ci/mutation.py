#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The mutator behind ci/mutation.sh: samples one-line mutants of src/ and runs the suite on each.

Operators (each site is one candidate; the sample is drawn uniformly over all sites):
  relational   <  <=  >  >=  flipped to the neighbour (< to <=, <= to <, ...)
  equality     ==  and  != swapped
  logical      &&  and  || swapped
  literal      an integer literal n becomes n+1 or n-1
  guard        a one-line `if (...) return/break/continue ...;` removed
  condition    the condition of a one-line `if (...)` forced to true or to false
Comments, string and character literals and preprocessor lines are never mutated.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import time

SRC_EXT = (".cc", ".hpp")


def mask(line, in_block):
    """Returns (masked, in_block): line with comments and literals replaced by spaces."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                out.append(" " * (n - i))
                return "".join(out), True
            out.append(" " * (end + 2 - i))
            i = end + 2
            in_block = False
            continue
        c = line[i]
        if line.startswith("//", i):
            out.append(" " * (n - i))
            break
        if line.startswith("/*", i):
            in_block = True
            continue
        if c in "\"'":
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out), in_block


def matching_paren(s, open_idx):
    depth = 0
    for k in range(open_idx, len(s)):
        if s[k] == "(":
            depth += 1
        elif s[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return -1


REL = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}


def sites(path, lines):
    out = []
    in_block = False
    for no, line in enumerate(lines):
        m, in_block = mask(line, in_block)
        if m.lstrip().startswith("#") or "template" in m or "static_assert" in m:
            continue
        def add(kind, start, end, repl):
            out.append((path, no, kind, line[:start] + repl + line[end:]))
        for mt in re.finditer(r"==|!=", m):
            add("equality", mt.start(), mt.end(), "!=" if mt.group() == "==" else "==")
        for mt in re.finditer(r"&&|\|\|", m):
            add("logical", mt.start(), mt.end(), "||" if mt.group() == "&&" else "&&")
        # Relational operators only between spaces: never <...> of a template, <<, ->, >>=.
        for mt in re.finditer(r"(?<= )(<=|>=|<|>)(?= )", m):
            add("relational", mt.start(), mt.end(), REL[mt.group()])
        for mt in re.finditer(r"(?<![\w.])(\d+)(?![\w.'])", m):
            v = int(mt.group(1))
            add("literal", mt.start(), mt.end(), str(v + 1))
            if v > 0:
                add("literal", mt.start(), mt.end(), str(v - 1))
        g = re.match(r"^(\s*)if \(.*\)\s*(return\b.*|break|continue);\s*$", m)
        if g:
            out.append((path, no, "guard", g.group(1) + "// (guard removed)\n"))
        for mt in re.finditer(r"\bif \(", m):
            open_idx = mt.end() - 1
            close = matching_paren(m, open_idx)
            if close < 0 or ";" in m[open_idx:close]:
                continue  # multi-line, or an if with an initialiser
            for forced in ("true", "false"):
                add("condition", open_idx + 1, close, forced)
    return out


def run(cmd, cwd, timeout=None, log=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True)
        if log is not None:
            with open(log, "w") as f:
                f.write(p.stdout)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        return -1, (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--test-timeout", type=int, default=20)
    ap.add_argument("--only", default="", help="regex on src paths to mutate (default: all)")
    a = ap.parse_args()

    repo = os.getcwd()
    root = os.path.abspath(a.root)
    tree = os.path.join(root, "tree")
    build = os.path.join(root, "build")
    # A private copy of the sources: the checkout is never edited.
    for d in ("src", "include", "tests", "cmake"):
        shutil.rmtree(os.path.join(tree, d), ignore_errors=True)
        shutil.copytree(os.path.join(repo, d), os.path.join(tree, d))
    for f in ("CMakeLists.txt", "CMakePresets.json"):
        shutil.copy2(os.path.join(repo, f), os.path.join(tree, f))
    for d in ("fuzz", "bench", "examples", "tools"):
        os.makedirs(os.path.join(tree, d), exist_ok=True)

    rc, out = run(["cmake", "-S", tree, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                   "-DMONITOR_BUILD_FUZZERS=OFF", "-DMONITOR_BUILD_EXAMPLES=OFF",
                   "-DMONITOR_BUILD_BENCHMARKS=OFF", "-DMONITOR_BUILD_SOAK=OFF"], repo)
    if rc != 0:
        print(out)
        return 1
    build_cmd = ["cmake", "--build", build, "-j", str(a.jobs)]
    rc, out = run(build_cmd, repo)
    if rc != 0:
        print(out)
        return 1

    # Baseline: what fails or stalls unmutated kills nothing, so it is left out.
    ctest = ["ctest", "--test-dir", build, "-j", str(a.jobs), "--timeout", str(a.test_timeout),
             "--output-on-failure"]
    rc, out = run(ctest, repo)
    bad = re.findall(r"^\s*\d+ - (\S+) \((?:Failed|Timeout|SEGFAULT|Subprocess aborted|Not Run)",
                     out, re.M)
    exclude = "|".join("^" + re.escape(t) + "$" for t in bad)
    if bad:
        print("left out (fail or stall unmutated): " + ", ".join(bad))
    run_tests = ctest + ["--stop-on-failure"] + (["-E", exclude] if exclude else [])

    all_sites = []
    for dirpath, _, files in os.walk(os.path.join(repo, "src")):
        for name in sorted(files):
            if not name.endswith(SRC_EXT):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), repo)
            if a.only and not re.search(a.only, rel):
                continue
            with open(os.path.join(repo, rel)) as f:
                all_sites += sites(rel, f.readlines())
    all_sites.sort(key=lambda s: (s[0], s[1], s[2], s[3]))
    rng = random.Random(a.seed)
    sample = rng.sample(all_sites, min(a.count, len(all_sites)))
    print(f"{len(all_sites)} mutation sites in src/; sampling {len(sample)} with seed {a.seed}")

    report = os.path.join(root, "report.txt")
    killed = survived = stillborn = 0
    survivors = []
    with open(report, "w") as rep:
        for i, (rel, no, kind, new_line) in enumerate(sample, 1):
            path = os.path.join(tree, rel)
            with open(path) as f:
                lines = f.readlines()
            old_line = lines[no]
            lines[no] = new_line
            with open(path, "w") as f:
                f.writelines(lines)
            diff = f"--- {rel}:{no + 1} ({kind})\n-{old_line.rstrip()}\n+{new_line.rstrip()}\n"
            t0 = time.time()
            try:
                rc, _ = run(build_cmd, repo)
                if rc != 0:
                    verdict = "stillborn"
                    stillborn += 1
                else:
                    rc, out = run(run_tests, repo)
                    if rc != 0:
                        verdict = "killed"
                        killed += 1
                        m = re.search(r"^\s*\d+ - (\S+) \(", out, re.M)
                        if m:
                            verdict += " by " + m.group(1)
                    else:
                        verdict = "SURVIVED"
                        survived += 1
                        survivors.append(diff)
            finally:
                lines[no] = old_line
                with open(path, "w") as f:
                    f.writelines(lines)
            line = f"[{i}/{len(sample)}] {verdict} ({time.time() - t0:.0f} s)\n{diff}"
            print(line, flush=True)
            rep.write(line)
            rep.flush()
        counted = killed + survived
        score = 100.0 * killed / counted if counted else 0.0
        summary = (f"\nmutants: {len(sample)}, stillborn (do not compile): {stillborn}, "
                   f"killed: {killed}, survived: {survived}, score: {score:.1f}% "
                   f"of {counted} that compile\n")
        if survivors:
            summary += "\nsurvivors (kill with a test, or explain as equivalent):\n" + "".join(
                survivors)
        print(summary)
        rep.write(summary)
    # Leave the tree unmutated and built, for the next incremental run.
    run(build_cmd, repo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
