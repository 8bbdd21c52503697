#!/usr/bin/env bash
# Start-and-reap of `true` as an ordinary user, cc against rootless podman,
# same user, same image, same run (issue 21's benchmark):
#
#   cc-run --rm --net none IMG true           (the user's namespace, no cgroup)
#   podman run --rm --network none IMG true   (rootless podman, runc)
#
# The script makes a user for the run (useradd, subordinate ids, a home
# and runtime folder in its scratch folder) and removes it by name at the
# end; both tools run through the same `setpriv ... env -i` wrapper, so
# its cost (about 1 ms) is in both figures. hyperfine interleaves nothing:
# it runs each command N times in turn, after WARMUP runs. Prints a
# markdown table and appends it to bench/RESULTS.md.
#
# usage: bench/rootless.sh [N]      (N runs per tool, default 30; or N=...)
#        BUILD=0 uses the release binaries already built; CC_BIN=DIR others.
# Needs root (to make the user), python3, busybox (static), podman, runc,
# hyperfine, uidmap.
set -euo pipefail

N=${1:-${N:-30}}
name=rootless
needs="podman hyperfine setpriv newuidmap useradd"
. "$(dirname "$0")/preamble.sh"
for p in cc-import cc-run cc-rm cc-ps; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /tmp/cc-bench-rootless.XXXXXX)
chmod 755 "$work"
user=ccbench$$
useradd --no-create-home --shell /bin/sh --user-group \
    -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$user"
uid=$(id -u "$user")
gid=$(id -g "$user")
first=$((1700000000 + ($$ % 1000) * 65536))
usermod --add-subuids "$first-$((first + 65535))" --add-subgids "$first-$((first + 65535))" "$user"
home=$work/home
run=$work/run
mkdir -m 700 "$home" "$run"
chown "$uid:$gid" "$home" "$run"

# The programs where the user can reach them.
mkdir "$work/bin"
for p in cc-import cc-run cc-rm cc-ps; do cp "$bin/$p" "$work/bin/"; done

as_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups -- env -i
    HOME="$home" XDG_RUNTIME_DIR="$run" PATH="$work/bin:/usr/bin:/bin")
podman_args=(--cgroup-manager cgroupfs --events-backend none --runtime runc)
cleanup() {
    "${as_user[@]}" podman "${podman_args[@]}" rm -af >/dev/null 2>&1 || true
    "${as_user[@]}" podman "${podman_args[@]}" system migrate >/dev/null 2>&1 || true
    pause=$(cat "$run/cc/pause.pid" 2>/dev/null || true)
    if [ -n "$pause" ] && [ "$(cat "/proc/$pause/comm" 2>/dev/null)" = cc-userns-pause ]; then
        kill -9 "$pause" || true
    fi
    # podman's own pause process, by its pid file.
    ppause=$(cat "$run/libpod/tmp/pause.pid" 2>/dev/null || true)
    [ -n "$ppause" ] && kill -9 "$ppause" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do userdel "$user" 2>/dev/null && break; sleep 0.5; done
    rm -rf "$work"
}
trap cleanup EXIT

rootfs=$work/rootfs
busybox_rootfs "$rootfs"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
chmod 644 "$work/rootfs.tar"

say "importing the image as $user (cc and podman)"
"${as_user[@]}" cc-import "$work/rootfs.tar" bench:latest >/dev/null
"${as_user[@]}" podman "${podman_args[@]}" import -q "$work/rootfs.tar" localhost/bench:latest >/dev/null
"${as_user[@]}" cc-run --rm --net none bench:latest true
"${as_user[@]}" podman "${podman_args[@]}" run --rm --network none localhost/bench:latest true

q() { printf '%q ' "$@"; }
cc_cmd="$(q "${as_user[@]}") cc-run --rm --net none bench:latest true"
podman_cmd="$(q "${as_user[@]}") podman $(q "${podman_args[@]}") run --rm --network none localhost/bench:latest true"
hyperfine -N --style none --warmup "$WARMUP" --runs "$N" --export-json "$work/out.json" \
    -n cc "$cc_cmd" -n podman "$podman_cmd" >&2

python3 - "$work/out.json" "$N" "$results" <<'PY'
import json, statistics, sys, time
data = json.load(open(sys.argv[1]))
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in data["results"]}
cc, podman = med["cc"], med["podman"]
when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
load = open("/proc/loadavg").read().split()[0]
table = (
    f"\n## rootless start-and-reap ({when}, N={sys.argv[2]}, load {load})\n\n"
    "As an ordinary user made for the run, `true` with `--net none`, both "
    "through the same setpriv wrapper (bench/rootless.sh).\n\n"
    "| tool | median |\n| --- | ---: |\n"
    f"| cc-run --rm --net none | {cc:.1f} ms |\n"
    f"| podman run --rm --network none (rootless, runc) | {podman:.1f} ms |\n"
    f"| ratio | {cc / podman:.3f}× (target ≤ 0.1×) |\n"
)
print(table)
open(sys.argv[3], "a").write(table)
PY
