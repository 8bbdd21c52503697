# Shared setup of bench/monitor-rss.sh, bench/logging.sh and
# bench/detach-wait.sh; sourced, not run. Before sourcing, set `name` (used
# in messages). It provides:
#
#   $bin       the cc programs: $CC_BIN, else ${CARGO_TARGET_DIR:-target}/release,
#              built first unless CC_BIN is given or BUILD=0
#   $work      a mktemp -d folder, removed on exit with all it holds
#   $CC_ROOT   a private cc store in $work; $img the busybox image in it
#   pm ...     podman on a private --root/--runroot in $work (runtime runc,
#              cgroupfs, no events); $pimg the same rootfs imported there
#   machine_info   the lines each RESULTS.md section starts with
#   $cpu_cg    on cgroup v1, a cpuacct cgroup for rounds.py's CPU_CGROUP, and
#   $pod_parent  a --cgroup-parent for podman, whose conmons podman puts in
#              $pod_cpu (a cpuacct folder); all empty where there is none
#
# The rootfs is the one bench/start-latency.sh makes: the static busybox,
# one symlink per applet, an /etc/passwd with root.

needs=podman
. "$(dirname "$0")/preamble.sh"
for p in cc-import cc-run cc-wait cc-rm; do
    [ -x "$bin/$p" ] || die "no $bin/$p (set CC_BIN or build)"
done

work=$(mktemp -d /tmp/cc-bench.XXXXXX)
export CC_ROOT=$work/store
podman_args=(--root "$work/podman/root" --runroot "$work/podman/runroot"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
pm() { podman "${podman_args[@]}" "$@"; }
cleanup() {
    # Only what this run made: the containers of the private stores (their
    # monitors and conmons end with them), the stores, the folder.
    if [ -d "$CC_ROOT/containers" ]; then
        for d in "$CC_ROOT"/containers/*/; do
            [ -d "$d" ] && "$bin/cc-rm" -f "$(basename "$d")" >/dev/null 2>&1 || true
        done
    fi
    if [ -d "$work/podman/root" ]; then
        pm rm -af -t 0 >/dev/null 2>&1 || true
        pm rmi -af >/dev/null 2>&1 || true
        umount -R "$work/podman" 2>/dev/null || true
    fi
    umount -R "$CC_ROOT" 2>/dev/null || true
    rm -rf "$work"
    # Our cgroups, deepest first (podman leaves <parent>/conmon behind).
    if [ -n "$cpu_cg" ]; then
        rmdir "$cpu_cg" 2>/dev/null || true
        for h in /sys/fs/cgroup/*/"${pod_parent#/}"; do
            [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
        done
    fi
    true
}
cpu_cg= pod_parent= pod_cpu=
if [ -d /sys/fs/cgroup/cpuacct ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]; then
    tag=$(basename "$work")
    cpu_cg=/sys/fs/cgroup/cpuacct/$tag
    pod_parent=/$tag-podman
    pod_cpu=/sys/fs/cgroup/cpuacct$pod_parent/conmon
fi
trap cleanup EXIT
trap 'exit 130' INT TERM

rootfs=$work/rootfs
busybox_rootfs "$rootfs"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
[ -z "$cpu_cg" ] || mkdir "$cpu_cg"

say "importing the image into a private store ($CC_ROOT)"
img=$("$bin/cc-import" "$work/rootfs.tar" bench-busybox:latest)
[ -e /etc/containers/containers.conf ] ||
    say "no /etc/containers/containers.conf: on cgroup v1 podman needs runtime = \"runc\" (see README)"
say "importing the rootfs into a private podman store"
pm import -q "$work/rootfs.tar" localhost/bench-busybox:latest >/dev/null
pimg=localhost/bench-busybox:latest

machine_info() {
    local cpu mem cgroup
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
    cgroup=v1; [ -e /sys/fs/cgroup/cgroup.controllers ] && cgroup=v2
    printf -- '- kernel %s, cgroup %s; %s, %s CPUs, %s; load average %s\n' \
        "$(uname -r)" "$cgroup" "$cpu" "$(nproc)" "$mem" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- runc %s, podman %s, conmon %s; cc %s (%s)\n' \
        "$(runc --version | awk 'NR==1 {print $3}')" "$(podman --version | awk '{print $3}')" \
        "$(conmon --version 2>/dev/null | awk 'NR==1 {print $3}')" \
        "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')" \
        "$bin"
    printf -- '- store %s on %s\n' "$CC_ROOT" "$(df --output=fstype "$work" | tail -1)"
}
