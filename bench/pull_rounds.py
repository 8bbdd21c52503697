#!/usr/bin/env python3
"""Times one command per tool, interleaved, each run with its own untimed
set-up, check and clean-up, and prints a markdown table; harness.py's
method for runs that each need a fresh store (bench/pull.sh).

usage: pull_rounds.py TOOLS.json N WARMUP [RATIO...]

TOOLS.json maps a tool name to
  {"before": [argv, ...], "run": argv, "check": [argv, ...], "after": [argv, ...]}
Only `run` is timed (time.perf_counter around subprocess.run). `before`
(make the empty store, restart a registry), `check` (the image is there)
and `after` (remove the store, sync) run untimed around every run. `{n}`
in any argument becomes the run's number, unique over the whole benchmark.
Like harness.py: each round runs every tool once in an order that rotates
from round to round, after WARMUP warm-up rounds; a failed command (or a
failed check) stops the benchmark with its stderr.

The table also gives the median user and system CPU seconds of the timed
command and all it waited for (getrusage of the children, so a pipeline's
curl, gzip and tar count; a server's, the registry's, does not).

RATIO is `A|B|LIMIT` (A and B are tool names, which may hold a `|`
themselves): prints median(A)/median(B) and, with a LIMIT, whether it is
≤ LIMIT; one naming a tool not in TOOLS.json is skipped.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import p90  # noqa: E402


def run(name, argv, n):
    argv = [a.replace("{n}", str(n)) for a in argv]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit(f"pull_rounds: {name} failed with status {p.returncode}: {' '.join(argv)}\n"
                 + p.stderr.decode(errors="replace") + p.stdout.decode(errors="replace"))


def run_once(name, tool, n):
    for argv in tool.get("before", []):
        run(name, argv, n)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run(name, tool["run"], n)
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for argv in tool.get("check", []):
        run(name + " (check)", argv, n)
    for argv in tool.get("after", []):
        run(name, argv, n)
    return elapsed, r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime


def main():
    tools = json.load(open(sys.argv[1]))
    rounds, warmup = int(sys.argv[2]), int(sys.argv[3])
    names = list(tools)
    wall = {k: [] for k in names}
    user = {k: [] for k in names}
    system = {k: [] for k in names}
    n = 0
    for r in range(warmup + rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            n += 1
            s, u, y = run_once(name, tools[name], n)
            if r >= warmup:
                wall[name].append(s)
                user[name].append(u)
                system[name].append(y)
        print(f"\rpull_rounds: round {r + 1}/{warmup + rounds}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    med = {k: statistics.median(v) for k, v in wall.items()}
    print("| tool | median s | p90 s | min s | runs (s) | user s | sys s |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for k in names:
        v = wall[k]
        runs = ", ".join(f"{x:.2f}" for x in v) if len(v) <= 7 else f"{len(v)} runs"
        print(f"| {k} | {med[k]:.2f} | {p90(v):.2f} | {min(v):.2f} | {runs} "
              f"| {statistics.median(user[k]):.2f} | {statistics.median(system[k]):.2f} |")
    print()
    for spec in sys.argv[4:]:
        ab, limit = spec.rsplit("|", 1)
        pair = next(((a, ab[len(a) + 1:]) for a in names
                     if ab.startswith(a + "|") and ab[len(a) + 1:] in names), None)
        if pair is None:
            continue  # a tool this run left out (bench/pull.sh ONLY=push)
        a, b = pair
        r = med[a] / med[b]
        verdict = f" (target ≤ {limit}: {'met' if r <= float(limit) else 'NOT met'})" if limit else ""
        print(f"- {a} / {b} (median): {r:.2f}{verdict}")


if __name__ == "__main__":
    main()
