#!/usr/bin/env bash
# cc-build against `buildah bud --layers` and `podman build` (each in a
# store of its own), same run, same Containerfile of 13 steps (two stages;
# a COPY of a 5,000-file context, several RUNs), same busybox base:
#
#   uncached      every step run (--no-cache)
#   cached        nothing changed: every step from the cache
#   one changed   one source file changed: its COPY and the RUN after it
#
# cc-build also runs with --jobs 1 (its stages one after another): the
# "tools" stage and the final stage's steps before its COPY --from run at
# once otherwise. Rounds interleave the tools. Prints a markdown table (medians) and
# appends it to bench/RESULTS.md.
#
# usage: bench/build.sh [N]     (N rounds, default 5; or N=...)
#        BUILD=0 reuses the release binaries; CC_BIN=DIR uses those.
# Needs root, python3, busybox (static), podman, buildah.
set -euo pipefail

N=${1:-${N:-5}}
name=build
needs=podman
command -v buildah >/dev/null || { echo "build: needs buildah (apt-get install buildah)" >&2; exit 1; }
. "$(dirname "$0")/preamble.sh"
[ -x "$bin/cc-build" ] || die "no $bin/cc-build after the build"

work=$(mktemp -d /tmp/cc-bench-build.XXXXXX)
export CC_ROOT=$work/store
podman_args=(--root "$work/podman/root" --runroot "$work/podman/runroot"
    --tmpdir "$work/podman/tmp"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend none)
buildah_args=(--root "$work/buildah/root" --runroot "$work/buildah/runroot"
    --storage-driver overlay)
cleanup() {
    buildah "${buildah_args[@]}" rm -a >/dev/null 2>&1 || true
    buildah "${buildah_args[@]}" rmi -af >/dev/null 2>&1 || true
    podman "${podman_args[@]}" rm -af >/dev/null 2>&1 || true
    podman "${podman_args[@]}" rmi -af >/dev/null 2>&1 || true
    umount -R "$work/podman" 2>/dev/null || true
    "$bin/cc-net" destroy -f >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

busybox_rootfs "$work/rootfs"
tar -C "$work/rootfs" -cf "$work/base.tar" .
"$bin/cc-import" "$work/base.tar" bench-base >/dev/null
podman "${podman_args[@]}" import -q "$work/base.tar" localhost/bench-base >/dev/null
podman --root "$work/buildah/root" --runroot "$work/buildah/runroot" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend none \
    import -q "$work/base.tar" localhost/bench-base >/dev/null

ctx=$work/ctx
python3 - "$ctx" <<'PY'
import os, sys
ctx = sys.argv[1]
for d in range(50):
    os.makedirs(f"{ctx}/src/d{d}", exist_ok=True)
    for f in range(100):
        with open(f"{ctx}/src/d{d}/f{f}.txt", "w") as fh:
            fh.write(f"file {d}/{f}\n" * 20)
with open(f"{ctx}/main.txt", "w") as fh:
    fh.write("main 0\n")
PY
cat >"$ctx/Containerfile" <<'CF'
ARG BASE
FROM $BASE AS tools
RUN mkdir -p /opt/tools && echo tool > /opt/tools/t
FROM $BASE
ENV APP=/app
WORKDIR /app
COPY src/ /app/src/
RUN find /app/src -type f | wc -l > /app/count
RUN tar -cf /app/src.tar -C /app src
COPY --from=tools /opt/tools /opt/tools
LABEL bench=1
COPY main.txt /app/main.txt
RUN cat /app/main.txt > /app/out
CMD ["cat", "/app/out"]
CF

ms() { python3 -c 'import time; print(time.monotonic_ns() // 1000)'; }
cc_build() { "$bin/cc-build" -q --network none --build-arg BASE=bench-base "$@" "$ctx" >/dev/null; }
cc_jobs1() { cc_build --jobs 1 "$@"; }
bh_build() { buildah "${buildah_args[@]}" bud -q --layers --network none --build-arg BASE=localhost/bench-base "$@" "$ctx" >/dev/null; }
pm_build() { podman "${podman_args[@]}" build -q --network none --build-arg BASE=localhost/bench-base "$@" "$ctx" >/dev/null; }

declare -A t
round() {
    local tool=$1 r=$2 a b
    a=$(ms); "$tool" --no-cache; b=$(ms); t[$tool.uncached]+="$((b - a)) "
    a=$(ms); "$tool"; b=$(ms); t[$tool.cached]+="$((b - a)) "
    echo "main $r $tool" >"$ctx/main.txt"
    a=$(ms); "$tool"; b=$(ms); t[$tool.changed]+="$((b - a)) "
}
cc_build; bh_build; pm_build   # warm the caches and the page cache
for r in $(seq 1 "$N"); do
    case $((r % 3)) in
    1) round cc_build "$r"; round bh_build "$r"; round pm_build "$r"; round cc_jobs1 "$r" ;;
    2) round bh_build "$r"; round cc_jobs1 "$r"; round pm_build "$r"; round cc_build "$r" ;;
    0) round pm_build "$r"; round cc_build "$r"; round cc_jobs1 "$r"; round bh_build "$r" ;;
    esac
done

median() { python3 -c 'import sys, statistics; print("%.3f" % (statistics.median(int(x) for x in sys.argv[1:]) / 1e6))' $1; }
{
    echo
    echo "## cc-build vs podman build ($(date -u '+%Y-%m-%d %H:%M UTC'), N=$N, binaries: $bin)"
    echo
    echo "- load average $(cut -d' ' -f1-3 /proc/loadavg); buildah $(buildah --version | awk '{print $3}'), podman $(podman --version | awk '{print $3}')"
    echo
    echo "| case | cc-build | cc-build --jobs 1 | buildah bud | podman build | cc / buildah | cc / podman | target |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for c in uncached cached changed; do
        a=$(median "${t[cc_build.$c]}"); j=$(median "${t[cc_jobs1.$c]}")
        h=$(median "${t[bh_build.$c]}"); b=$(median "${t[pm_build.$c]}")
        rh=$(python3 -c "print('%.2f' % ($a / $h))"); rb=$(python3 -c "print('%.2f' % ($a / $b))")
        case $c in uncached) tgt="≤ 0.5× buildah";; cached) tgt="≤ 0.1× podman";; changed) tgt="≤ 0.3× podman";; esac
        echo "| $c | ${a} s | ${j} s | ${h} s | ${b} s | ${rh}× | ${rb}× | $tgt |"
    done
} | tee -a "$results"
