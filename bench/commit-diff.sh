#!/usr/bin/env bash
# cc-diff against podman diff, cc-commit against podman commit, same run.
#
# Both tools get the same busybox image (with a folder tree to delete and a
# file to change) and run the same command in one container each:
#
#   2,000 files of 50 kB of random data in /w, rm -rf /data/tree (a tree of
#   20 folders x 10 files), a line appended to /etc/conf
#
# Then, interleaved (round r runs every step once, the order rotating):
#   cc-diff CTR           podman diff CTR
#   cc-commit CTR         podman commit CTR      (gzip, the default of both)
# each committed image removed after the round, outside the timing.
# Prints a markdown table and appends it to bench/RESULTS.md.
#
# usage: bench/commit-diff.sh [N]     (N rounds, default 10; or N=...)
#        BUILD=0 reuses the release binaries already built.
# Needs root, python3, busybox (static), podman (runtime runc).
set -euo pipefail

N=${1:-${N:-10}}
name=commit-diff
needs=podman
. "$(dirname "$0")/preamble.sh"
for p in cc-import cc-run cc-diff cc-commit cc-rmi cc-rm; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /tmp/cc-bench-commit.XXXXXX)
export CC_ROOT=$work/store
podman_args=(--root "$work/podman/root" --runroot "$work/podman/runroot"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    podman "${podman_args[@]}" rm -af >/dev/null 2>&1 || true
    podman "${podman_args[@]}" rmi -af >/dev/null 2>&1 || true
    "$bin/cc-rm" -f bench-ctr >/dev/null 2>&1 || true
    umount -R "$work/podman" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

rootfs=$work/rootfs
busybox_rootfs "$rootfs"
echo 'setting=1' >"$rootfs/etc/conf"
for d in $(seq 20); do
    mkdir -p "$rootfs/data/tree/d$d"
    for f in $(seq 10); do echo "$d $f" >"$rootfs/data/tree/d$d/f$f"; done
done
tar -C "$rootfs" -cf "$work/rootfs.tar" .

script='mkdir /w; i=0; while [ $i -lt 2000 ]; do head -c 50000 /dev/urandom > /w/f$i; i=$((i+1)); done; rm -rf /data/tree; echo changed >> /etc/conf'

say "preparing the cc container"
"$bin/cc-import" "$work/rootfs.tar" bench:latest >/dev/null
"$bin/cc-run" --net none --name bench-ctr bench:latest sh -c "$script"
say "preparing the podman container"
podman "${podman_args[@]}" import -q "$work/rootfs.tar" localhost/bench:latest >/dev/null
podman "${podman_args[@]}" run --network none --name bench-ctr localhost/bench:latest sh -c "$script"

[ "$("$bin/cc-diff" bench-ctr | wc -l)" = "$(podman "${podman_args[@]}" diff bench-ctr | wc -l)" ] ||
    say "warning: cc-diff and podman diff list a different number of changes"

say "measuring: $N interleaved rounds"
table=$(python3 - "$N" "$bin" "${podman_args[@]}" <<'PY'
import statistics, subprocess, sys, time
n, bin, *pa = sys.argv[1:]
n = int(n)
pod = ["podman", *pa]
steps = {
    "cc-diff": [f"{bin}/cc-diff", "bench-ctr"],
    "podman diff": pod + ["diff", "bench-ctr"],
    "cc-commit": [f"{bin}/cc-commit", "bench-ctr", "bench-out:latest"],
    "podman commit": pod + ["commit", "-q", "bench-ctr", "localhost/bench-out:latest"],
}
after = {
    "cc-commit": [f"{bin}/cc-rmi", "bench-out:latest"],
    "podman commit": pod + ["rmi", "localhost/bench-out:latest"],
}
times = {k: [] for k in steps}
names = list(steps)
for r in range(n + 1):  # round 0 warms up
    k = r % len(names)
    for name in names[k:] + names[:k]:
        t0 = time.perf_counter()
        p = subprocess.run(steps[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ms = (time.perf_counter() - t0) * 1000
        if p.returncode:
            sys.exit(f"{name} failed: {p.stderr.decode(errors='replace')}")
        if r:
            times[name].append(ms)
        if name in after:
            subprocess.run(after[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    print(f"\rround {r}/{n}", end="", file=sys.stderr, flush=True)
print(file=sys.stderr)
med = {k: statistics.median(v) for k, v in times.items()}
print("| step | median ms | min ms | max ms |")
print("| --- | ---: | ---: | ---: |")
for k in names:
    print(f"| {k} | {med[k]:.1f} | {min(times[k]):.1f} | {max(times[k]):.1f} |")
print()
d = med["cc-diff"] / med["podman diff"]
c = med["cc-commit"] / med["podman commit"]
print(f"- cc-diff / podman diff (median): {d:.3f} (target ≤ 0.333: {'met' if d <= 1/3 else 'NOT met'})")
print(f"- cc-commit / podman commit (median): {c:.3f} (target ≤ 0.500: {'met' if c <= 0.5 else 'NOT met'})")
PY
)
printf '%s\n' "$table"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cgroup=v1; [ -e /sys/fs/cgroup/cgroup.controllers ] && cgroup=v2
{
    printf '\n## commit-diff.sh: %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- kernel %s, cgroup %s; %s, %s CPUs; store on %s\n' "$(uname -r)" "$cgroup" "$cpu" "$(nproc)" "$(df --output=fstype "$work" | tail -1)"
    printf -- '- podman %s; cc %s\n' "$(podman --version | awk '{print $3}')" "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')"
    printf -- '- a container that wrote 2,000 files of 50 kB of random data, deleted a tree of 200 files and changed a file; N = %s rounds, interleaved\n\n' "$N"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
