#!/usr/bin/env bash
# Resident memory of cc's per-container monitor (`cc-run [monitor] <id>`)
# against podman's conmon, side by side in one run. N containers of each
# (default 5), started interleaved, in two phases:
#
#   idle      `sleep 60`: VmRSS right after `run -d` returns, and after
#             7.5 s idle (cc's monitor sheds its code pages and trims its
#             heap after 5 s without events)
#   output    a line every 0.1 s for 2 s, then `sleep 60`: VmRSS at 2.5 s
#             (just after the output) and at 9.5 s (idle again)
#   health    `sleep 60` with `--restart always` and a healthcheck every
#             3 s (`--health-cmd true`; podman: `--restart always` only,
#             since podman runs checks from systemd timers, not conmon):
#             VmRSS at 3.5 s (just after the first check) and at 17.5 s
#             (idle between checks: never 5 s without an event)
#
# The monitor is found with `pgrep -f "cc-run \[monitor\] <short id>"`,
# conmon with `podman inspect -f {{.State.ConmonPid}}`. VmRSS, RssAnon and
# RssFile come from /proc/PID/status, Pss from /proc/PID/smaps_rollup.
# Prints a markdown table and appends it to bench/RESULTS.md.
#
# usage: bench/monitor-rss.sh [N]   (N containers per tool and phase; or N=...)
#        CC_BIN=DIR uses the cc programs in DIR; BUILD=0 skips the build.
set -euo pipefail

N=${1:-${N:-5}}
name=monitor-rss
. "$(dirname "$0")/common.sh"

say "measuring: $N containers of each tool per phase, interleaved"
table=$(python3 - "$bin" "$img" "$pimg" "$N" "${podman_args[@]}" <<'PY'
import statistics, subprocess, sys, time

bin, img, pimg, n, *pa = sys.argv[1:]
n = int(n)
pm = ["podman", *pa]
IDLE = "sleep 60"
OUTPUT = "i=0; while [ $i -lt 20 ]; do echo line $i; i=$((i+1)); sleep 0.1; done; sleep 60"


def out(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"monitor-rss: failed with status {p.returncode}: {' '.join(argv)}\n{p.stderr}")
    return p.stdout.strip()


HEALTH = ["--restart", "always", "--health-cmd", "true", "--health-interval", "3s"]


def start_cc(cmd, health):
    extra = HEALTH if health else []
    cid = out([f"{bin}/cc-run", "-d", *extra, img, "sh", "-c", cmd])
    pids = out(["pgrep", "-f", rf"cc-run \[monitor\] {cid[:12]}"]).split()
    if len(pids) != 1:
        sys.exit(f"monitor-rss: {len(pids)} monitors for {cid[:12]}")
    return cid, int(pids[0])


def start_podman(cmd, health):
    extra = ["--restart", "always"] if health else []
    cid = out([*pm, "run", "-d", "--network", "none", *extra, pimg, "sh", "-c", cmd])
    return cid, int(out([*pm, "inspect", "-f", "{{.State.ConmonPid}}", cid]))


def memory(pid):
    """KiB: VmRSS, RssAnon, RssFile, Pss."""
    m = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile"):
                m[k] = int(v.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                m["Pss"] = int(line.split()[1])
    return m


TOOLS = {"cc monitor": (start_cc, lambda c: out([f"{bin}/cc-rm", "-f", c])),
         "conmon": (start_podman, lambda c: out([*pm, "rm", "-f", "-t", "0", c]))}
PHASES = [("idle", IDLE, [("just started", 0.0), ("idle 7.5 s", 7.5)]),
          ("output", OUTPUT, [("2 s of output", 2.5), ("idle after output", 9.5)]),
          ("health", IDLE, [("after the first check", 3.5), ("idle between checks", 17.5)])]
readings = {}  # (tool, label) -> [memory]
for phase, cmd, points in PHASES:
    events, started = [], []
    for i in range(n):
        order = list(TOOLS) if i % 2 == 0 else list(TOOLS)[::-1]
        for tool in order:
            cid, pid = TOOLS[tool][0](cmd, phase == "health")
            t = time.monotonic()
            started.append((tool, cid))
            for label, at in points:
                events.append((t + at, tool, label, pid))
    for at, tool, label, pid in sorted(events):
        time.sleep(max(0.0, at - time.monotonic()))
        readings.setdefault((tool, f"{phase}: {label}"), []).append(memory(pid))
    for tool, cid in started:
        TOOLS[tool][1](cid)
    print(f"monitor-rss: phase {phase} done", file=sys.stderr)

mib = lambda kib: f"{kib / 1024:.2f}"
med = lambda rs, k: statistics.median(r[k] for r in rs)
print("| process | when | median VmRSS MiB | min–max MiB | RssAnon | RssFile | Pss |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for phase, _, points in PHASES:
    for label, _ in points:
        for tool in TOOLS:
            rs = readings[(tool, f"{phase}: {label}")]
            v = [r["VmRSS"] for r in rs]
            print(f"| {tool} | {phase}: {label} | {mib(statistics.median(v))} | "
                  f"{mib(min(v))}–{mib(max(v))} | {mib(med(rs, 'RssAnon'))} | "
                  f"{mib(med(rs, 'RssFile'))} | {mib(med(rs, 'Pss'))} |")
print()
print(f"Medians of {n} containers per tool and phase; RssAnon, RssFile and Pss are medians too.")
print()
for label in ("idle: idle 7.5 s", "output: idle after output", "health: idle between checks"):
    cc = statistics.median(r["VmRSS"] for r in readings[("cc monitor", label)])
    cm = statistics.median(r["VmRSS"] for r in readings[("conmon", label)])
    print(f"- {label}: cc monitor {mib(cc)} MiB, conmon {mib(cm)} MiB, ratio {cc / cm:.2f} "
          f"(target ≤ 1.50 MiB: {'met' if cc <= 1.5 * 1024 else 'NOT met'})")
PY
)
printf '%s\n' "$table"

{
    printf '\n## Monitor RSS against conmon, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_info
    printf -- '- bench/monitor-rss.sh: %s containers of each per phase, `run -d` (podman: `--network none`), interleaved\n\n' "$N"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
