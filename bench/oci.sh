#!/usr/bin/env bash
# cc-oci against runc as an OCI runtime, side by side in one run
# (interleaved rounds, see harness.py), a container that runs `true`:
#
#   podman cc-oci   podman --runtime CC-OCI run --rm --network none IMG true
#   podman runc     podman --runtime runc   run --rm --network none IMG true
#   cc-oci run      cc-oci --root S1 run --bundle B ID
#   runc run        runc   --root S2 run --bundle B ID
#
# B is one bundle for both: `runc spec`, args `true`, no terminal, the
# busybox rootfs read-only. podman runs on a private store (--root,
# --runroot, --tmpdir in the work folder, cgroupfs, events to a file) with
# the same rootfs imported, without a network so that netavark's time does
# not hide the runtime's. Each runtime has its own state folder.
#
# Target (issue 8): cc-oci ≤ 0.5× runc's median, for `run` on the bundle;
# the podman ratio shows what is left of it under a real client.
#
# usage: bench/oci.sh [N]        (N runs per tool, default 50; or N=...)
#        cc-oci is $CC_BIN/cc-oci (preamble.sh: the release build unless
#        CC_BIN is set; BUILD=0 reuses it); CC_OCI_UNDER_TEST=PATH uses
#        another program, e.g. runc itself to check the script. Appends to
#        bench/RESULTS.md unless cc-oci turns out to be runc.
# Needs root, python3, busybox (static), runc, podman, conmon.
set -euo pipefail

name=oci
needs="runc podman conmon"
. "$(dirname "$0")/preamble.sh"
oci=${CC_OCI_UNDER_TEST:-$bin/cc-oci}
[ -x "$oci" ] || die "no $oci (build cc-oci, set CC_BIN or CC_OCI_UNDER_TEST)"
runc=$(command -v runc)
same=
[ "$(readlink -f "$oci")" = "$(readlink -f "$runc")" ] && same=1
[ -n "$same" ] && say "cc-oci is runc ($oci): checking the script, not measuring cc-oci"

work=$(mktemp -d /tmp/cc-ocibench.XXXXXX)
podman_args=(--root "$work/podman/root" --runroot "$work/podman/run"
    --tmpdir "$work/podman/tmp" --storage-driver overlay
    --cgroup-manager cgroupfs --events-backend file)
pm() { podman "${podman_args[@]}" "$@"; }
cleanup() {
    # Only what this run made: podman's containers are --rm and the
    # runtimes' `run` deletes its container; a run stopped half-way may
    # leave one in a state folder, deleted by id here.
    for rt in "$oci:$work/state-cc-oci" "$runc:$work/state-runc"; do
        [ -d "${rt#*:}" ] || continue
        for id in $("${rt%%:*}" --root "${rt#*:}" list -q 2>/dev/null); do
            "${rt%%:*}" --root "${rt#*:}" delete --force "$id" >/dev/null 2>&1 || true
        done
    done
    if [ -d "$work/podman/root" ]; then
        pm rm -af -t 0 >/dev/null 2>&1 || true
        pm rmi -af >/dev/null 2>&1 || true
        umount -R "$work/podman" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rootfs=$work/rootfs
busybox_rootfs "$rootfs"
tar -C "$rootfs" -cf "$work/rootfs.tar" .

bundle=$work/bundle
mkdir -p "$bundle" "$work/podman/tmp"
"$runc" spec --bundle "$bundle"
python3 - "$bundle/config.json" "$rootfs" <<'PY'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["process"]["args"] = ["true"]
spec["process"]["terminal"] = False
spec["root"] = {"path": rootfs, "readonly": True}
json.dump(spec, open(path, "w"), indent=2)
PY

say "importing the rootfs into a private podman store"
pm import -q "$work/rootfs.tar" localhost/bench-busybox:latest >/dev/null

tools=$work/tools.json
python3 - "$tools" "$oci" "$runc" "$work" "${podman_args[@]}" <<'PY'
import json, sys
out, oci, runc, work, *podman_args = sys.argv[1:]
img = "localhost/bench-busybox:latest"
pm = ["podman", *podman_args]
tools = {
    "podman cc-oci": [*pm, "--runtime", oci, "run", "--rm", "--network", "none", img, "true"],
    "podman runc": [*pm, "--runtime", runc, "run", "--rm", "--network", "none", img, "true"],
    "cc-oci run": [oci, "--root", f"{work}/state-cc-oci", "run", "--bundle", f"{work}/bundle", "{id}"],
    "runc run": [runc, "--root", f"{work}/state-runc", "run", "--bundle", f"{work}/bundle", "{id}"],
}
json.dump(tools, open(out, "w"))
PY

say "measuring: $N runs of each, interleaved, after $WARMUP warm-up runs"
table=$(python3 "$here/harness.py" "$tools" "$N" "$WARMUP" | sed '/^- /d')
median() { printf '%s\n' "$table" | awk -F'|' -v t="$1" '$2 == " "t" " {gsub(/ /,"",$3); print $3}'; }
ratio() { awk -v a="$(median "$1")" -v b="$(median "$2")" 'BEGIN {printf "%.2f", a/b}'; }
run_ratio=$(ratio "cc-oci run" "runc run")
pm_ratio=$(ratio "podman cc-oci" "podman runc")
met=$(awk -v r="$run_ratio" 'BEGIN {print (r <= 0.5 ? "met" : "NOT met")}')
summary="- cc-oci run / runc run (median): $run_ratio (target ≤ 0.50: $met)
- podman with cc-oci / podman with runc (median): $pm_ratio"
# harness.py's table has an empty "× floor" column here: drop it.
table=$(printf '%s\n' "$table" | sed -E 's/\|[^|]*\|$/|/')
printf '%s\n\n%s\n' "$table" "$summary"

if [ -n "$same" ]; then
    say "not appended to $results: cc-oci is runc"
    exit 0
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cgroup=v1; [ -e /sys/fs/cgroup/cgroup.controllers ] && cgroup=v2
{
    printf '\n## OCI runtime: cc-oci against runc, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- bench/oci.sh; kernel %s, cgroup %s; %s, %s CPUs; load average %s\n' \
        "$(uname -r)" "$cgroup" "$cpu" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf -- '- runc %s, podman %s, conmon %s; cc %s (%s)\n' \
        "$("$runc" --version | awk 'NR==1 {print $3}')" "$(podman --version | awk '{print $3}')" \
        "$(conmon --version 2>/dev/null | awk 'NR==1 {print $3}')" \
        "$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')" \
        "$oci"
    printf -- '- N = %s runs per tool, interleaved, %s warm-up runs each; `true` in a\n' "$N" "$WARMUP"
    printf -- '  `runc spec` bundle (read-only busybox root) and under podman `--network none`\n\n'
    printf '%s\n\n%s\n' "$table" "$summary"
} >>"$results"
say "appended to $results"
