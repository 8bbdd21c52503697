#!/usr/bin/env python3
"""Times detached runs until their wait returns, interleaved, and prints a
markdown table; harness.py's method for a start that is two commands.

usage: rounds.py TOOLS.json N WARMUP [RATIO...]

TOOLS.json maps a tool name to
  {"start": argv, "wait": argv, "after": [argv, ...], "check": [argv, ...]}
The timed part of one run is `start` (a `run -d`, which prints the
container id on stdout) and then `wait` (which prints the exit code; it
must be 0). `{cid}` in wait, after and check becomes that id. `check`
commands run, untimed, after the first run of the tool only, and their
output goes to stderr; `after` commands (removal) run untimed after every
run. Like harness.py: each round runs every tool once in an order that
rotates from round to round, after WARMUP warm-up rounds, and a failed
command stops the benchmark with its stderr.

RATIO is `A|B|LIMIT`: prints median(A)/median(B) and whether it is ≤ LIMIT.

CPU time, which a busy machine changes far less than wall time: with
CPU_CGROUP set to a cgroup v1 cpuacct folder, rounds.py moves itself into
it, so the programs it runs and what they fork (cc's monitor; podman,
runc) are counted there, while the container's own processes are moved to
their cgroups; a tool's "cpu" lists further cpuacct folders to count (the
cgroup podman puts conmon in). The table then gets a column: the median
CPU seconds the runtime spent per run (user + system, during start + wait).
"""

import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import p90  # noqa: E402


def run(name, argv, cid=""):
    argv = [a.replace("{cid}", cid) for a in argv]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit(f"rounds: {name} failed with status {p.returncode}: {' '.join(argv)}\n"
                 + p.stderr.decode(errors="replace"))
    return p.stdout.decode(errors="replace").strip()


def cpu_ns(dirs):
    total = 0
    for d in dirs:
        try:
            total += int(open(os.path.join(d, "cpuacct.usage")).read())
        except FileNotFoundError:
            pass  # podman makes its conmon cgroup on the first run
    return total


def run_once(name, tool, first):
    dirs = ([CPU_CGROUP] if CPU_CGROUP else []) + tool.get("cpu", [])
    c0 = cpu_ns(dirs)
    t0 = time.perf_counter()
    cid = run(name, tool["start"]).splitlines()[-1].strip()
    code = run(name, tool["wait"], cid)
    elapsed = time.perf_counter() - t0
    cpu = (cpu_ns(dirs) - c0) / 1e9
    if code.splitlines()[-1:] != ["0"]:
        sys.exit(f"rounds: {name}: the container exited with {code!r}, not 0")
    if first:
        for argv in tool.get("check", []):
            print(f"rounds: {name}: {run(name, argv, cid)}", file=sys.stderr)
    for argv in tool.get("after", []):
        run(name, argv, cid)
    return elapsed, cpu


CPU_CGROUP = os.environ.get("CPU_CGROUP")


def main():
    tools = json.load(open(sys.argv[1]))
    n, warmup = int(sys.argv[2]), int(sys.argv[3])
    names = list(tools)
    times = {k: [] for k in names}
    cpus = {k: [] for k in names}
    if CPU_CGROUP:
        with open(os.path.join(CPU_CGROUP, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    for r in range(warmup + n):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            s, c = run_once(name, tools[name], r == 0)
            if r >= warmup:
                times[name].append(s)
                cpus[name].append(c)
        print(f"\rrounds: round {r + 1}/{warmup + n}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    ms = max(statistics.median(v) for v in times.values()) < 1.0
    unit, scale = ("ms", 1000.0) if ms else ("s", 1.0)
    fmt = (lambda x: f"{x * scale:.1f}") if ms else (lambda x: f"{x:.2f}")
    med = {k: statistics.median(v) for k, v in times.items()}
    cpu_col = ("| runtime CPU s ", "| ---: ") if CPU_CGROUP else ("", "")
    print(f"| tool | median {unit} | p90 {unit} | min {unit} | runs ({unit}) {cpu_col[0]}|")
    print(f"| --- | ---: | ---: | ---: | --- {cpu_col[1]}|")
    for k in names:
        v = times[k]
        runs = ", ".join(fmt(x) for x in v) if len(v) <= 5 else f"{len(v)} runs"
        cpu = f"| {statistics.median(cpus[k]):.3f} " if CPU_CGROUP else ""
        print(f"| {k} | {fmt(med[k])} | {fmt(p90(v))} | {fmt(min(v))} | {runs} {cpu}|")
    print()
    for spec in sys.argv[4:]:
        a, b, limit = spec.split("|")
        r = med[a] / med[b]
        verdict = f" (target ≤ {limit}: {'met' if r <= float(limit) else 'NOT met'})" if limit else ""
        print(f"- {a} / {b} (median): {r:.2f}{verdict}")


if __name__ == "__main__":
    main()
