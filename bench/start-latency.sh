#!/usr/bin/env bash
# Start latency of one container that runs `true`, side by side in one run:
#
#   cc-run   cc-run --rm IMG true       (overlay, namespaces, cgroup, --net none)
#   cc-run --privileged   the same without seccomp, masked paths, cap drop
#   cc-run --cgroupns host   the same in the host's cgroup namespace
#   runc     runc run on a bundle of the same rootfs (read-only root)
#   podman   podman run --rm --network none IMG true, the same rootfs imported
#   floor    unshare --mount --pid --fork --uts --ipc --net chroot ROOTFS /bin/true
#
# The runs are interleaved (round r runs every tool once, in an order that
# rotates each round) so that a busy moment of the machine hits all tools
# alike. Prints a markdown table and appends it to bench/RESULTS.md.
#
# usage: bench/start-latency.sh [N]       (N runs per tool, default 50; or N=...)
#        BUILD=0 uses the release binaries already built; WARMUP=3 by default.
# Needs root, python3, busybox (static), runc; podman is optional.
set -euo pipefail

name=start-latency
needs=runc
. "$(dirname "$0")/preamble.sh"
for p in cc-import cc-run; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /tmp/cc-bench.XXXXXX)
export CC_ROOT=$work/store
podman_args=(--root "$work/podman/root" --runroot "$work/podman/runroot"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    # Containers are --rm; drop podman's and cc's stores, then the folder.
    if [ -n "${have_podman:-}" ]; then
        podman "${podman_args[@]}" rmi -af >/dev/null 2>&1 || true
        umount -R "$work/podman" 2>/dev/null || true
    fi
    umount -R "$work/store" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The rootfs: static busybox, one symlink per applet, a passwd with root.
rootfs=$work/rootfs
busybox_rootfs "$rootfs"
tar -C "$rootfs" -cf "$work/rootfs.tar" .

say "importing the image into a private store ($CC_ROOT)"
img=$("$bin/cc-import" "$work/rootfs.tar" bench-busybox:latest)
say "image $img"

# runc: `runc spec`, then true, no terminal, our rootfs, read-only.
bundle=$work/bundle
mkdir -p "$bundle" "$work/runc"
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" "$rootfs" <<'PY'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["process"]["args"] = ["true"]
spec["process"]["terminal"] = False
spec["root"] = {"path": rootfs, "readonly": True}
json.dump(spec, open(path, "w"), indent=2)
PY

# podman, where it is installed, on the same rootfs in a private store.
have_podman=
if command -v podman >/dev/null; then
    conf=/etc/containers/containers.conf
    if [ ! -e "$conf" ]; then
        # crun refuses this machine's hybrid cgroup v1 layout; podman's
        # default ulimits are higher than the hard limits here.
        mkdir -p /etc/containers
        printf '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n\n[engine]\nruntime = "runc"\n' >"$conf"
        say "wrote $conf (runtime = \"runc\", default_ulimits) because it was absent"
    fi
    say "importing the rootfs into a private podman store"
    if podman "${podman_args[@]}" import -q "$work/rootfs.tar" localhost/bench-busybox:latest >/dev/null; then
        have_podman=1
    else
        say "podman import failed: measuring without podman"
    fi
else
    say "podman is not installed: measuring without it"
fi

# One command line per tool, NUL-free, as JSON for the harness.
tools=$work/tools.json
python3 - "$tools" "$bin" "$img" "$work" "$rootfs" "$have_podman" "${podman_args[@]}" <<'PY'
import json, sys
out, bin, img, work, rootfs, have_podman, *podman_args = sys.argv[1:]
tools = {
    "cc-run": [f"{bin}/cc-run", "--rm", "--net", "none", img, "true"],
    # The same without the hardening (no seccomp filter, masked paths or
    # capability drop): the difference is what the hardening costs.
    "cc-run --privileged": [f"{bin}/cc-run", "--rm", "--net", "none", "--privileged", img, "true"],
    # In the host's cgroup namespace: the difference is what the
    # container's own (its unshare and the cgroup2 mount on v2, one
    # cgroup mount per hierarchy on v1 instead of a bind) costs.
    "cc-run --cgroupns host": [f"{bin}/cc-run", "--rm", "--net", "none", "--cgroupns", "host", img, "true"],
    "runc": ["runc", "--root", f"{work}/runc", "run", "--bundle", f"{work}/bundle", "{id}"],
}
# On a systemd host cc-run makes a scope per container (its default
# there): the same with cgroupfs, and runc with systemd scopes, show what
# the scope costs each.
import os
if os.path.isdir("/run/systemd/system"):
    tools["cc-run --cgroup-manager cgroupfs"] = [f"{bin}/cc-run", "--rm", "--net", "none",
                                                 "--cgroup-manager", "cgroupfs", img, "true"]
    tools["runc --systemd-cgroup"] = ["runc", "--systemd-cgroup", "--root", f"{work}/runc",
                                      "run", "--bundle", f"{work}/bundle", "{id}"]
if have_podman:
    tools["podman"] = ["podman", *podman_args, "run", "--rm", "--network", "none",
                       "localhost/bench-busybox:latest", "true"]
tools["floor"] = ["unshare", "--mount", "--pid", "--fork", "--uts", "--ipc", "--net",
                  "chroot", rootfs, "/bin/true"]
json.dump(tools, open(out, "w"))
PY

say "measuring: $N runs of each, interleaved, after $WARMUP warm-up runs"
table=$(python3 "$here/harness.py" "$tools" "$N" "$WARMUP")
printf '%s\n' "$table"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
cgroup=v1; [ -e /sys/fs/cgroup/cgroup.controllers ] && cgroup=v2
versions="runc $(runc --version | awk 'NR==1 {print $3}')"
[ -n "$have_podman" ] && versions="$versions, podman $(podman --version | awk '{print $3}')"
if [ ! -e "$results" ]; then
    cat >"$results" <<'HDR'
# Start latency: cc-run against runc and podman

Each row is the wall time of one command that starts a container running
`true` and waits for it to finish, measured with `time.perf_counter` around
`subprocess.run` (bench/harness.py). The tools run interleaved in one run of
bench/start-latency.sh, on the same busybox rootfs:

- **cc-run**: `cc-run --rm --net none IMG true` — overlay of the image, new mount, pid,
  uts, ipc, net (loopback only) and cgroup namespaces, a cgroup, pivot_root,
  /proc, /dev, /sys, the container record written and removed.
- **runc**: `runc run` of a bundle made with `runc spec` (args `true`, no
  terminal, the rootfs read-only, a fresh container id each run).
- **podman**: `podman run --rm --network none IMG true` with the rootfs
  imported into a private store (runtime runc).
- **floor**: `unshare --mount --pid --fork --uts --ipc --net chroot ROOTFS
  /bin/true`, the least a namespaced start can cost.

**Targets** (issue 2): cc-run ≤ 10 ms median on this machine, and ≤ 1/10
of podman's median in the same run.

Run it with `bench/start-latency.sh [N]`; each run appends a section below.
HDR
fi
{
    printf '\n## %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- kernel %s, cgroup %s; %s, %s CPUs, %s\n' "$(uname -r)" "$cgroup" "$cpu" "$(nproc)" "$mem"
    printf -- '- %s; cc %s\n' "$versions" "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')"
    printf -- '- N = %s runs per tool, interleaved, %s warm-up runs each\n\n' "$N" "$WARMUP"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
