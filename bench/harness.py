#!/usr/bin/env python3
"""Times commands interleaved and prints a markdown table.

usage: harness.py TOOLS.json N WARMUP

TOOLS.json maps a tool name to its argv; `{id}` in an argument becomes a
fresh id per run (runc wants a new container id each time). Each round
runs every tool once, in an order that rotates from round to round, so
slow moments of the machine fall on all tools alike. A failed run stops
the benchmark with its stderr: a fast failure is not a fast start.
"""

import json
import math
import statistics
import subprocess
import sys
import time


def run_once(name, argv, run_id):
    argv = [a.replace("{id}", run_id) for a in argv]
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"harness: {name} failed with status {p.returncode}: {' '.join(argv)}\n"
                 + p.stderr.decode(errors="replace"))
    return elapsed * 1000.0


def p90(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def main():
    tools = json.load(open(sys.argv[1]))
    n, warmup = int(sys.argv[2]), int(sys.argv[3])
    names = list(tools)
    times = {k: [] for k in names}
    for r in range(warmup + n):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            ms = run_once(name, tools[name], f"bench-{r}-{time.monotonic_ns()}")
            if r >= warmup:
                times[name].append(ms)
        print(f"\rharness: round {r + 1}/{warmup + n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    med = {k: statistics.median(v) for k, v in times.items()}
    print("| tool | median ms | p90 ms | min ms | × floor |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for k in names:
        v = times[k]
        floor = f"{med[k] / med['floor']:.1f}" if "floor" in med else ""
        print(f"| {k} | {med[k]:.1f} | {p90(v):.1f} | {min(v):.1f} | {floor} |")
    print()
    cc = med.get("cc-run")
    if cc is None:
        return
    if "runc" in med:
        print(f"- cc-run / runc (median): {cc / med['runc']:.2f}")
    if "podman" in med:
        r = cc / med["podman"]
        print(f"- cc-run / podman (median): {r:.3f} (target ≤ 0.100: {'met' if r <= 0.1 else 'NOT met'})")
    print(f"- cc-run median {cc:.1f} ms (target ≤ 10 ms: {'met' if cc <= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
