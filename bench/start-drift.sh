#!/usr/bin/env bash
# Does starting get slower with use? 500 sequential
# `cc-run --rm --net none IMG true` (N=500 by default), timed one by one;
# the median of each 50 runs, and the ratio of the last 50's median to the
# first 50's (target, issue 15: <= 1.05). Also shows what piles up between
# the first and the last run: cgroups per controller (num_cgroups of
# /proc/cgroups; on cgroup v1 dying memory cgroups show as memory's count
# running ahead of the others) and the entries of the store's folders.
# Appends a section to bench/RESULTS.md.
#
# usage: bench/start-drift.sh [N]       (N runs, a multiple of 50; or N=...)
#        BUILD=0 uses the release binaries already built; CC_BIN=DIR others.
# Needs root, python3, busybox (static).
set -euo pipefail

name=start-drift
needs=
runs=${1:-${N:-500}}
. "$(dirname "$0")/preamble.sh"
N=$runs
for p in cc-import cc-run; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /tmp/cc-bench.XXXXXX)
export CC_ROOT=$work/store
trap 'rm -rf "$work"' EXIT

rootfs=$work/rootfs
busybox_rootfs "$rootfs"
img=$("$bin/cc-import" "$rootfs" bench-drift:latest)
say "image $img; $N runs"

counts() {
    awk 'NR > 1 && $4 == 1 && $2 != 0 {printf "%s=%s ", $1, $3}' /proc/cgroups
}
before=$(counts)
table=$(python3 - "$bin/cc-run" "$img" "$N" <<'PY'
import statistics, subprocess, sys, time
run, img, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cmd = [run, "--rm", "--net", "none", img, "true"]
times = []
for i in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    times.append((time.perf_counter() - t) * 1000)
groups = [times[i:i + 50] for i in range(0, n, 50)]
meds = [statistics.median(g) for g in groups]
print("| runs | median ms | min ms | max ms |")
print("| ---- | --------: | -----: | -----: |")
for k, g in enumerate(groups):
    print(f"| {k * 50 + 1}-{k * 50 + len(g)} | {meds[k]:.1f} | {min(g):.1f} | {max(g):.1f} |")
print()
print(f"last/first median: **{meds[-1] / meds[0]:.3f}** (target <= 1.05)")
PY
)
after=$(counts)
printf '%s\n' "$table"
say "cgroups before: $before"
say "cgroups after:  $after"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cgroup=v1; [ -e /sys/fs/cgroup/cgroup.controllers ] && cgroup=v2
{
    printf '\n## Start drift, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- bench/start-drift.sh: %s sequential `cc-run --rm --net none IMG true`, medians per 50\n' "$N"
    printf -- '- kernel %s, cgroup %s; %s, %s CPUs; cc %s\n' "$(uname -r)" "$cgroup" "$cpu" "$(nproc)" \
        "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')"
    printf -- '- cgroups (num_cgroups) before: %s\n- after: %s\n\n' "$before" "$after"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
