#!/usr/bin/env bash
# Start latency with a network: a container that runs `true` on a bridge,
# side by side in one run (interleaved, see harness.py):
#
#   cc-run bridge   cc-run --rm IMG true          (--net bridge, the default:
#                   veth pair, address, route, loopback, lease, all by netlink)
#   cc-run none     cc-run --rm --net none IMG true   (the same without it)
#   podman bridge   podman run --rm IMG true      (its default network:
#                   netavark, a bridge, a veth, firewall rules)
#
# Target (issue 4): cc-run bridge ≤ 30 ms median, ≤ 1/10 of podman's.
# Traffic: none; the containers only start and end. The bridges are made
# for private stores and removed on exit (cc-net destroy; podman's by its
# own cleanup when the private store goes).
#
# usage: bench/net-latency.sh [N]       (N runs per tool, default 50)
#        BUILD=0 reuses the release binaries; WARMUP=3 by default.
# Needs root, python3, busybox (static), nftables; podman is optional.
set -euo pipefail

name=net-latency
needs=nft
. "$(dirname "$0")/preamble.sh"
for p in cc-import cc-run cc-net; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /tmp/cc-netbench.XXXXXX)
export CC_ROOT=$work/store
podman_args=(--root "$work/podman/root" --runroot "$work/podman/runroot"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
cleanup() {
    "$bin/cc-net" destroy -f >/dev/null 2>&1 || true
    if [ -n "${have_podman:-}" ]; then
        podman "${podman_args[@]}" rmi -af >/dev/null 2>&1 || true
        umount -R "$work/podman" 2>/dev/null || true
    fi
    umount -R "$work/store" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

rootfs=$work/rootfs
busybox_rootfs "$rootfs"
tar -C "$rootfs" -cf "$work/rootfs.tar" .

img=$("$bin/cc-import" "$work/rootfs.tar" bench-busybox:latest)
# The bridge is created once, on first use: that is not what is measured.
bridge=$("$bin/cc-net" init)
say "image $img, bridge $bridge"

have_podman=
if command -v podman >/dev/null; then
    conf=/etc/containers/containers.conf
    if [ ! -e "$conf" ]; then
        mkdir -p /etc/containers
        printf '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n\n[engine]\nruntime = "runc"\n' >"$conf"
        say "wrote $conf (runtime = \"runc\", default_ulimits) because it was absent"
    fi
    if podman "${podman_args[@]}" import -q "$work/rootfs.tar" localhost/bench-busybox:latest >/dev/null; then
        have_podman=1
    else
        say "podman import failed: measuring without podman"
    fi
else
    say "podman is not installed: measuring without it"
fi

tools=$work/tools.json
python3 - "$tools" "$bin" "$img" "$have_podman" "${podman_args[@]}" <<'PY'
import json, sys
out, bin, img, have_podman, *podman_args = sys.argv[1:]
tools = {
    "cc-run bridge": [f"{bin}/cc-run", "--rm", img, "true"],
    "cc-run none": [f"{bin}/cc-run", "--rm", "--net", "none", img, "true"],
}
if have_podman:
    tools["podman bridge"] = ["podman", *podman_args, "run", "--rm",
                              "localhost/bench-busybox:latest", "true"]
json.dump(tools, open(out, "w"))
PY

say "measuring: $N runs of each, interleaved, after $WARMUP warm-up runs"
table=$(python3 "$here/harness.py" "$tools" "$N" "$WARMUP")
median() { printf '%s\n' "$table" | awk -F'|' -v t="$1" '$2 ~ "^ "t" $" {gsub(/ /,"",$3); print $3}'; }
cc=$(median "cc-run bridge")
none=$(median "cc-run none")
summary="- cc-run bridge median $cc ms, $(awk -v a="$cc" -v b="$none" 'BEGIN {printf "%.1f", a-b}') ms over --net none (target ≤ 30 ms: $(awk -v a="$cc" 'BEGIN {print (a <= 30 ? "met" : "NOT met")}'))"
if [ -n "$have_podman" ]; then
    pm=$(median "podman bridge")
    r=$(awk -v a="$cc" -v b="$pm" 'BEGIN {printf "%.3f", a/b}')
    summary="$summary
- cc-run bridge / podman bridge (median): $r (target ≤ 0.100: $(awk -v r="$r" 'BEGIN {print (r <= 0.1 ? "met" : "NOT met")}'))"
fi
printf '%s\n%s\n' "$(printf '%s\n' "$table" | sed '/^- /d')" "$summary"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
versions="nft $(nft --version | awk '{print $2}')"
[ -n "$have_podman" ] && versions="$versions, podman $(podman --version | awk '{print $3}')"
{
    printf '\n## Network start latency, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- bench/net-latency.sh; kernel %s; %s, %s CPUs; load average %s\n' "$(uname -r)" "$cpu" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- %s; cc %s\n' "$versions" "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')"
    printf -- '- N = %s runs per tool, interleaved, %s warm-up runs each\n\n' "$N" "$WARMUP"
    printf '%s\n' "$table" | sed '/^- /d'
    printf '%s\n' "$summary"
} >>"$results"
say "appended to $results"
