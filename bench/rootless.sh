#!/usr/bin/env bash
# cc against rootless podman as an ordinary user, same user, same image
# (issue 21's benchmark), two measures:
#
# start: start-and-reap of `true`, with no network and with each tool's
# default one (both slirp4netns: cc's monitor starts it, podman 4.3 too)
#   cc-run --rm [--net none] IMG true           (the user's namespace, no cgroup)
#   podman run --rm [--network none] IMG true   (rootless podman, runc)
#
# pull: a Debian minbase image (one gzip layer) from a registry on
# 127.0.0.1 into an empty store, as the user and as root, both tools:
#   cc-pull --root EMPTY -q 127.0.0.1:PORT/debian:bench
#   podman --root EMPTY --runroot EMPTY2 --storage-driver overlay pull -q ...
# The image is bench/pull.sh's cached debootstrap tar
# (/var/tmp/cc-bench-debian-minbase.tar; DEBIAN_TAR=FILE names another),
# imported into a private store and pushed with skopeo, as bench/pull.sh
# does. Every run gets an empty store (removed and `sync`ed before it,
# untimed: hyperfine --prepare); the stores are on the disk of /.
#
# The script makes a user for the run (useradd, subordinate ids, a home
# and runtime folder in its scratch folder) and removes it by name at the
# end; both tools run through the same `setpriv ... env -i` wrapper, so
# its cost (about 1 ms) is in both figures. hyperfine runs each command N
# times in turn, after WARMUP runs. Prints markdown tables and appends them
# to bench/RESULTS.md.
#
# usage: bench/rootless.sh [N]      (N runs per tool, default 30 for start,
#        5 for pull; or N=...); ONLY=start or ONLY=pull runs one measure.
#        BUILD=0 uses the release binaries already built; CC_BIN=DIR others.
# Needs root (to make the user), python3, busybox (static), podman, runc,
# hyperfine, uidmap; for pull also skopeo, curl, docker-registry.
set -euo pipefail

# Each measure has its own default; the preamble's (50) must not win.
asked=${1:-${N:-}}
ONLY=${ONLY:-}
name=rootless
needs="podman hyperfine setpriv newuidmap useradd slirp4netns"
. "$(dirname "$0")/preamble.sh"
N=$asked
for p in cc-import cc-run cc-rm cc-ps cc-pull cc-images; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /var/tmp/cc-bench-rootless.XXXXXX)
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
for p in cc-import cc-run cc-rm cc-ps cc-pull cc-images; do cp "$bin/$p" "$work/bin/"; done

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
    [ -s "$work/reg/pid" ] && kill "$(cat "$work/reg/pid")" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do userdel "$user" 2>/dev/null && break; sleep 0.5; done
    rm -rf "$work"
}
trap cleanup EXIT

q() { printf '%q ' "$@"; }

bench_start() {
    rootfs=$work/rootfs
    busybox_rootfs "$rootfs"
    tar -C "$rootfs" -cf "$work/rootfs.tar" .
    chmod 644 "$work/rootfs.tar"

    say "importing the image as $user (cc and podman)"
    "${as_user[@]}" cc-import "$work/rootfs.tar" bench:latest >/dev/null
    "${as_user[@]}" podman "${podman_args[@]}" import -q "$work/rootfs.tar" localhost/bench:latest >/dev/null
    start_one "--net none" "--network none" "with \`--net none\`" 0.1
    # The default networks: slirp4netns for both.
    start_one "" "" "with each tool's default network (slirp4netns for both)" 0.2
}

# start_one CC_NET_ARGS PODMAN_NET_ARGS WHAT TARGET
start_one() {
    # shellcheck disable=SC2206 # the network arguments are words
    local ccn=($1) pdn=($2)
    "${as_user[@]}" cc-run --rm "${ccn[@]}" bench:latest true
    "${as_user[@]}" podman "${podman_args[@]}" run --rm "${pdn[@]}" localhost/bench:latest true

    cc_cmd="$(q "${as_user[@]}") cc-run --rm $1 bench:latest true"
    podman_cmd="$(q "${as_user[@]}") podman $(q "${podman_args[@]}") run --rm $2 localhost/bench:latest true"
    hyperfine -N --style none --warmup "$WARMUP" --runs "${N:-30}" --export-json "$work/out.json" \
        -n cc "$cc_cmd" -n podman "$podman_cmd" >&2

    python3 - "$work/out.json" "${N:-30}" "$results" "$3" "$4" "$1" "$2" <<'PY'
import json, statistics, sys, time
data = json.load(open(sys.argv[1]))
what, target, ccn, pdn = sys.argv[4:8]
med = {r["command"]: statistics.median(r["times"]) * 1000 for r in data["results"]}
cc, podman = med["cc"], med["podman"]
when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
load = open("/proc/loadavg").read().split()[0]
table = (
    f"\n## rootless start-and-reap ({when}, N={sys.argv[2]}, load {load})\n\n"
    f"As an ordinary user made for the run, `true` {what}, both "
    "through the same setpriv wrapper (bench/rootless.sh).\n\n"
    "| tool | median |\n| --- | ---: |\n"
    f"| cc-run --rm {ccn} | {cc:.1f} ms |\n"
    f"| podman run --rm {pdn} (rootless, runc) | {podman:.1f} ms |\n"
    f"| ratio | {cc / podman:.3f}× (target ≤ {target}×) |\n"
)
print(table)
open(sys.argv[3], "a").write(table)
PY
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_pull() {
    local tar=${DEBIAN_TAR:-/var/tmp/cc-bench-debian-minbase.tar} runs=${N:-5}
    [ -s "$tar" ] || die "no $tar: bench/pull.sh makes it once (debootstrap), or set DEBIAN_TAR"
    for p in skopeo curl docker-registry; do command -v "$p" >/dev/null || die "needs $p"; done
    say "importing $tar into a private store, pushing it to a registry on 127.0.0.1"
    CC_ROOT=$work/src "$bin/cc-import" "$tar" debian:bench >/dev/null
    local port reg
    port=$(free_port)
    mkdir -p "$work/reg/data"
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
        "$work/reg/data" "$port" >"$work/reg/config.yml"
    docker-registry serve "$work/reg/config.yml" </dev/null >/dev/null 2>>"$work/reg/log" &
    echo $! >"$work/reg/pid"
    for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.05; done
    reg=127.0.0.1:$port/debian:bench
    skopeo copy -q --dest-tls-verify=false "oci:$work/src/images:debian:bench" "docker://$reg"

    # The user's stores in a folder of the user's; root's beside it. Each
    # run starts from none. (podman wants a run root of 50 characters at
    # most.)
    mkdir -p "$work/stores/user" "$work/stores/root"
    chown "$uid:$gid" "$work/stores/user"
    cat >"$work/reset.sh" <<EOF2
#!/bin/sh
rm -rf "$work/stores/user/"* "$work/stores/root/"* "$run/pu" "$work/pr"
sync
EOF2
    chmod +x "$work/reset.sh"
    local u=$work/stores/user r=$work/stores/root
    local cc_user cc_root pd_user pd_root
    cc_user="$(q "${as_user[@]}") cc-pull --root $u/cc -q $reg"
    pd_user="$(q "${as_user[@]}") podman --root $u/pd --runroot $run/pu --storage-driver overlay --events-backend none pull -q --tls-verify=false $reg"
    cc_root="$bin/cc-pull --root $r/cc -q $reg"
    pd_root="podman --root $r/pd --runroot $work/pr --storage-driver overlay --events-backend none pull -q --tls-verify=false $reg"
    # Once each, untimed, so that a failing one says why; the stores then
    # hold the image. (Captured first: grep -q ending early is a SIGPIPE
    # under pipefail.)
    "$work/reset.sh"
    for c in "$cc_user" "$pd_user" "$cc_root" "$pd_root"; do
        eval "$c" >/dev/null || die "failed: $c"
    done
    local seen
    seen=$("$bin/cc-images" --root "$r/cc")
    grep -q debian <<<"$seen" || die "root's cc-pull left no image: $seen"
    seen=$("${as_user[@]}" cc-images --root "$u/cc")
    grep -q debian <<<"$seen" || die "the user's cc-pull left no image: $seen"
    hyperfine -N --style none --runs "$runs" --prepare "$work/reset.sh" \
        --export-json "$work/pull.json" \
        -n cc-user "$cc_user" -n podman-user "$pd_user" \
        -n cc-root "$cc_root" -n podman-root "$pd_root" >&2
    # podman's pause process for these stores, as in cleanup.
    "${as_user[@]}" podman --root "$u/pd" --runroot "$run/pu" --storage-driver overlay system migrate >/dev/null 2>&1 || true

    python3 - "$work/pull.json" "$runs" "$results" "$tar" <<'PY'
import json, statistics, sys, time
data = json.load(open(sys.argv[1]))
med = {r["command"]: statistics.median(r["times"]) for r in data["results"]}
when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
load = open("/proc/loadavg").read().split()[0]
u, r = med["cc-user"] / med["podman-user"], med["cc-root"] / med["podman-root"]
table = (
    f"\n## rootless pull ({when}, N={sys.argv[2]}, load {load})\n\n"
    f"`{sys.argv[4]}` from a registry on 127.0.0.1 into an empty store on the "
    "disk of / (bench/rootless.sh), as an ordinary user made for the run "
    "and as root.\n\n"
    "| who | cc-pull | podman pull | ratio |\n| --- | ---: | ---: | ---: |\n"
    f"| user | {med['cc-user']:.2f} s | {med['podman-user']:.2f} s | {u:.2f}× (target ≤ 0.7×) |\n"
    f"| root | {med['cc-root']:.2f} s | {med['podman-root']:.2f} s | {r:.2f}× |\n"
)
print(table)
open(sys.argv[3], "a").write(table)
PY
}

[ "$ONLY" = pull ] || bench_start
[ "$ONLY" = start ] || bench_pull
