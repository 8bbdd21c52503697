#!/usr/bin/env bash
# Pull and push of a Debian minbase image through a local registry
# (issue 6), side by side in one run, every store on the same disk:
#
#   cc-pull                 cc-pull --root EMPTY -q 127.0.0.1:PORT/debian:bench
#   podman pull             podman --root EMPTY --runroot EMPTY2 --storage-driver
#                           overlay pull --tls-verify=false 127.0.0.1:PORT/debian:bench
#   curl | gzip -d | tar -x the image's one layer blob, unpacked into EMPTY
#   cc-pull (tmpfs), podman pull (tmpfs), curl | gzip -d | tar -x (tmpfs)
#                           the same with the store on a tmpfs: what the disk costs
#   curl | gzip -d >/dev/null   fetch and decompress only: the floor of any pull
#   cc-push                 cc-push IMG 127.0.0.1:PORT2/pushN-cc/debian:bench, the
#                           store's record of its gzip copy of the layer removed
#                           first (untimed): every run compresses (and uploads
#                           while it does), as skopeo does
#   cc-push (copy kept)     the same with the copy an earlier push made: what
#                           every push after the first of an image costs
#   skopeo copy             skopeo copy oci:SRC/images:debian:bench
#                           docker://127.0.0.1:PORT2/pushN-sk/debian:bench
#
# The image: `debootstrap --variant=minbase bookworm` from deb.debian.org,
# tarred (without /dev's nodes) into /var/tmp/cc-bench-debian-minbase.tar,
# which is kept: later runs reuse it and skip debootstrap (delete it to
# make a new one). It is imported with cc-import into a private store and
# pushed with skopeo (which gzips the layer) to a registry that only the
# pulls read. The pushes go to a second registry, stopped, emptied and
# restarted on the same port before every push run (untimed), so neither
# tool finds a blob there to skip or mount; each pushes to a new
# repository. Both registries are Debian's docker-registry on 127.0.0.1,
# plain http, no auth, storage in the work folder.
#
# Every run gets an empty store, made before it and removed after it, then
# `sync`, all untimed: no run pays another's writeback. After each run a
# check, untimed: cc-images lists debian, podman has the image, the
# unpacked tree has bin/bash, the pushed manifest is in the registry. The
# runs are interleaved (bench/pull_rounds.py: round r runs every tool once,
# the order rotating; one warm-up round), and a failed run stops the
# benchmark. Then two more cc-pulls, untimed, under `strace -c -f` and
# `perf record -g`.
# Prints the tables and appends them to bench/RESULTS.md.
#
# Targets (issue 6): cc-pull ≤ 0.7 × podman pull and ≤ 1.1 × the plain
# pipeline on the same disk; cc-push ≤ 1 × skopeo copy.
#
# usage: bench/pull.sh [N]    (N rounds, default 5; or N=...)
#        BUILD=0 reuses the release binaries already built; WARMUP=1 by
#        default; PROFILE=0 skips the strace and perf runs; APPEND=0 prints the
#        tables without appending them to RESULTS.md; ONLY=push runs the three
#        pushes alone (no pulls, no profile).
# Needs root, python3, curl, podman, skopeo, docker-registry (Debian
# package), debootstrap (installed with apt-get when missing, and only
# then); network: deb.debian.org for debootstrap, else only 127.0.0.1.
# All it makes, but the cached tar, lives in a mktemp -d folder under
# /var/tmp (the disk of /), removed on exit; the registries it started
# are stopped.
set -euo pipefail

N=${1:-${N:-5}}
WARMUP=${WARMUP:-1}
PROFILE=${PROFILE:-1}
APPEND=${APPEND:-1}
ONLY=${ONLY:-}
case $ONLY in
    '') ;;
    push) PROFILE=0 ;;
    *) echo "pull: ONLY=push or nothing, not '$ONLY'" >&2; exit 2 ;;
esac
export ONLY
cache=/var/tmp/cc-bench-debian-minbase.tar
name=pull
needs="curl gzip tar podman skopeo docker-registry findmnt"
no_busybox=1
. "$(dirname "$0")/preamble.sh"
if [ ! -s "$cache" ] && ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    apt-get install -y -q debootstrap >/dev/null
fi
for p in cc-import cc-pull cc-push cc-images; do
    [ -x "$bin/$p" ] || die "no $bin/$p after the build"
done

work=$(mktemp -d /var/tmp/cc-bench-pull.XXXXXX)
# Everything under $work that is mounted (the tmpfs, podman's overlay
# mounts, debootstrap's /proc if it failed), deepest first.
unmount_under() {
    findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1' | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
    if [ -x "$work/registry.sh" ]; then
        "$work/registry.sh" stop "$work/reg-pull" 0 || true
        "$work/registry.sh" stop "$work/reg-push" 0 || true
    fi
    unmount_under "$work"
    rm -rf --one-file-system "$work"
    rm -f "$cache.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The stores must share a disk with the comparison's: all are in $work.
[ "$(df --output=source "$work" | tail -1)" = "$(df --output=source / | tail -1)" ] ||
    die "$work is not on the disk of /"

# registry.sh start|stop|fresh DIR PORT: docker-registry on 127.0.0.1:PORT
# with its storage in DIR/data; `fresh` stops it, empties it, restarts it.
cat >"$work/registry.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
cmd=$1 dir=$2 port=$3
stop() {
    [ -s "$dir/pid" ] || return 0
    local pid state
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 200); do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || break
        [ "$state" != Z ] || break
        sleep 0.05
    done
    rm -f "$dir/pid"
}
start() {
    mkdir -p "$dir/data"
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
        "$dir/data" "$port" >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" </dev/null >/dev/null 2>>"$dir/log" &
    echo $! >"$dir/pid"
    for _ in $(seq 200); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
        sleep 0.05
    done
    echo "registry.sh: no answer on 127.0.0.1:$port after 10 s" >&2
    cat "$dir/log" >&2
    exit 1
}
case $cmd in
    start) start ;;
    stop) stop ;;
    fresh) stop; rm -rf "$dir/data"; start ;;
esac
EOF
chmod +x "$work/registry.sh"

# clean.sh DIR: unmount what is under DIR, remove it, sync.
cat >"$work/clean.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1' | sort -r |
    while read -r m; do umount -l "$m"; done
rm -rf --one-file-system "$1"
sync
EOF
chmod +x "$work/clean.sh"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 1. The image.
if [ ! -s "$cache" ]; then
    say "debootstrap --variant=minbase bookworm (once; cached in $cache)"
    debootstrap --variant=minbase bookworm "$work/debootstrap" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    unmount_under "$work/debootstrap"
    tar -C "$work/debootstrap" --numeric-owner --exclude='./dev/*' -cf "$cache.tmp" .
    mv "$cache.tmp" "$cache"
    rm -rf --one-file-system "$work/debootstrap"
else
    say "reusing $cache"
fi
files=$(tar -tf "$cache" | wc -l)

export CC_ROOT=$work/src
img=$("$bin/cc-import" "$cache" debian:bench)
say "imported $img"

pull_port=$(free_port)
"$work/registry.sh" start "$work/reg-pull" "$pull_port"
push_port=$(free_port)
"$work/registry.sh" start "$work/reg-push" "$push_port"
pull_reg=127.0.0.1:$pull_port
push_reg=127.0.0.1:$push_port
say "registries: $pull_reg (pulls), $push_reg (pushes)"

skopeo copy -q --dest-tls-verify=false "oci:$CC_ROOT/images:debian:bench" "docker://$pull_reg/debian:bench"
read -r layer layer_size layer_media < <(curl -sf \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$pull_reg/v2/debian/manifests/bench" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert len(m["layers"]) == 1, "expected one layer, got %d" % len(m["layers"])
l = m["layers"][0]
print(l["digest"], l["size"], l["mediaType"])')
[ -n "${layer:-}" ] || die "no layer in the manifest of $pull_reg/debian:bench"
blob=http://$pull_reg/v2/debian/blobs/$layer
unpacked=$(curl -sf "$blob" | gzip -d | wc -c)
say "layer $layer: $layer_size bytes ($layer_media), $unpacked bytes unpacked, $files tar entries"

# The store's own layer, as cc-import stored it (plain: cc-push gzips it).
src_layer=$(python3 - "$CC_ROOT/images" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda dg: f"{d}/blobs/{dg.replace(':', '/')}"
m = json.load(open(f"{d}/index.json"))["manifests"][0]
layer = json.load(open(blob(m["digest"])))["layers"][0]
print(f"{layer['mediaType']}, {layer['size']} bytes")
PY
)

# 2. The tools, each run into an empty store under $work/runs (disk) or
# $work/tmpfs (memory).
mkdir -p "$work/runs" "$work/tmpfs"
mount -t tmpfs -o size=4g,mode=0755 cc-bench-pull "$work/tmpfs"
tools=$work/tools.json
python3 - "$tools" "$bin" "$work" "$pull_reg" "$push_reg" "$blob" "$CC_ROOT" <<'PY'
import json, os, sys
out, bin, work, pull_reg, push_reg, blob, src = sys.argv[1:]
ref = f"{pull_reg}/debian:bench"
clean = lambda d: [f"{work}/clean.sh", d]
has_bash = lambda d: ["test", "-e", f"{d}/bin/bash"]


def cc_pull(d):
    return {"before": [["mkdir", "-p", d]],
            "run": [f"{bin}/cc-pull", "--root", d, "-q", ref],
            "check": [["sh", "-c", f'"{bin}/cc-images" --root "{d}" | grep -q debian']],
            "after": [clean(d)]}


def pipeline(d):
    return {"before": [["mkdir", "-p", d]],
            "run": ["bash", "-c", f"set -o pipefail; curl -sSf '{blob}' | gzip -d | tar -x -C '{d}'"],
            "check": [has_bash(d)],
            "after": [clean(d)]}


def podman(d):
    pm = ["podman", "--root", f"{d}/root", "--runroot", f"{d}/runroot", "--storage-driver", "overlay",
          "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
    return {"before": [["mkdir", "-p", d]],
            "run": [*pm, "pull", "-q", "--tls-verify=false", ref],
            "check": [[*pm, "image", "exists", ref]],
            "after": [[*pm, "rmi", "-af"], clean(d)]}


fresh_push = [f"{work}/registry.sh", "fresh", f"{work}/reg-push", push_reg.split(":")[1]]


def pushed(repo):
    return ["curl", "-sSf", "-o", "/dev/null",
            "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
            "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json",
            f"http://{push_reg}/v2/{repo}/manifests/bench"]


tools = {
    "cc-pull": cc_pull(f"{work}/runs/cc"),
    "podman pull": podman(f"{work}/runs/podman"),
    "curl | gzip -d | tar -x": pipeline(f"{work}/runs/pipe"),
    "cc-pull (tmpfs)": cc_pull(f"{work}/tmpfs/cc"),
    "curl | gzip -d | tar -x (tmpfs)": pipeline(f"{work}/tmpfs/pipe"),
    "podman pull (tmpfs)": podman(f"{work}/tmpfs/podman"),
    "curl | gzip -d >/dev/null": {
        "run": ["bash", "-c", f"set -o pipefail; curl -sSf '{blob}' | gzip -d >/dev/null"]},
    "cc-push": {"before": [fresh_push, ["rm", "-f", f"{src}/compressed.json"], ["sync"]],
                "run": [f"{bin}/cc-push", "--root", src, "-q", "debian:bench",
                        f"{push_reg}/push{{n}}-cc/debian:bench"],
                "check": [pushed("push{n}-cc/debian")],
                "after": [["sync"]]},
    "cc-push (copy kept)": {"before": [fresh_push, ["sync"]],
                            "run": [f"{bin}/cc-push", "--root", src, "-q", "debian:bench",
                                    f"{push_reg}/push{{n}}-cck/debian:bench"],
                            "check": [pushed("push{n}-cck/debian")],
                            "after": [["sync"]]},
    "skopeo copy": {"before": [fresh_push, ["sync"]],
                    "run": ["skopeo", "copy", "-q", "--dest-tls-verify=false",
                            f"oci:{src}/images:debian:bench",
                            f"docker://{push_reg}/push{{n}}-sk/debian:bench"],
                    "check": [pushed("push{n}-sk/debian")],
                    "after": [["sync"]]},
}
if os.environ.get("ONLY") == "push":
    tools = {k: v for k, v in tools.items() if k in ("cc-push", "cc-push (copy kept)", "skopeo copy")}
json.dump(tools, open(out, "w"), indent=1)
PY

load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "measuring: $N rounds of each tool, interleaved, after $WARMUP warm-up round(s); load $load0"
sync
table=$(python3 "$here/pull_rounds.py" "$tools" "$N" "$WARMUP" \
    "cc-pull|podman pull|0.7" "cc-pull|curl | gzip -d | tar -x|1.1" \
    "cc-pull (tmpfs)|curl | gzip -d | tar -x (tmpfs)|" "cc-pull (tmpfs)|podman pull (tmpfs)|" \
    "cc-pull|cc-pull (tmpfs)|" "curl | gzip -d | tar -x|curl | gzip -d | tar -x (tmpfs)|" \
    "cc-push|skopeo copy|1.0" "cc-push (copy kept)|skopeo copy|")
load1=$(cut -d' ' -f1-3 /proc/loadavg)
printf '%s\n' "$table"

# 3. Where cc-pull's time goes: two more runs into an empty store on the
# disk, untimed: one under `strace -c -f` (the syscalls), one under
# `perf record -g` (where the CPU goes, kernel included).
profile=$work/profile.md
: >"$profile"
if [ "$PROFILE" != 0 ]; then
    d=$work/runs/profile
    if command -v strace >/dev/null; then
        say "profiling one cc-pull under strace -c -f"
        mkdir -p "$d"
        strace -c -f -o "$work/strace.txt" "$bin/cc-pull" --root "$d" -q "$pull_reg/debian:bench" >/dev/null
        "$work/clean.sh" "$d"
        # shellcheck disable=SC2016 # the backticks are markdown
        printf '\nOne more cc-pull into an empty store on the disk under `strace -c -f` (untimed; the top of the table):\n\n```\n%s\n%s\n```\n' \
            "$(head -n 14 "$work/strace.txt")" "$(grep -E 'total$' "$work/strace.txt")" >>"$profile"
    fi
    if command -v perf >/dev/null; then
        say "profiling one cc-pull under perf record -g"
        mkdir -p "$d"
        perf record -q -g -o "$work/perf.data" -- "$bin/cc-pull" --root "$d" -q "$pull_reg/debian:bench" >/dev/null 2>&1
        "$work/clean.sh" "$d"
        # shellcheck disable=SC2016
        printf '\nAnd one under `perf record -g` (untimed; symbols by share of samples with their callees, the top 25):\n\n```\n%s\n```\n' \
            "$(perf report -i "$work/perf.data" --children --sort symbol --stdio 2>/dev/null |
                grep -E '^ +[0-9]' | sed -E 's/ {2,}/ /g; s/ - - *$//' | head -n 25)" >>"$profile"
    fi
fi
cat "$profile"

[ "$APPEND" != 0 ] || exit 0
# Before the block below writes to RESULTS.md, which would make it "+changes".
version=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet 2>/dev/null || echo '+changes')
# shellcheck disable=SC2016 # the backticks are markdown
{
    title='Pull and push'
    [ "$ONLY" != push ] || title='Push (bench/pull.sh ONLY=push)'
    printf '\n## %s, %s\n\n' "$title" "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf -- '- kernel %s; %s, %s CPUs, %s; load average %s at the start, %s at the end\n' \
        "$(uname -r)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$(nproc)" \
        "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" "$load0" "$load1"
    printf -- '- disk: `df -h %s`: %s; ext4 journal: %s\n' "$work" \
        "$(df -h --output=source,fstype,size,used,avail,pcent "$work" | tail -1 | tr -s ' ')" \
        "$(cat "/sys/fs/ext4/$(basename "$(df --output=source "$work" | tail -1)")/journal_task" 2>/dev/null || echo '?')"
    printf -- '- podman %s, skopeo %s, docker-registry %s, %s, gzip %s; cc %s (%s)\n' \
        "$(podman --version | awk '{print $3}')" "$(skopeo --version | awk '{print $3}')" \
        "$(dpkg-query -W -f '${Version}' docker-registry 2>/dev/null || echo '?')" \
        "$(curl --version | awk 'NR==1 {print $1 " " $2}')" "$(gzip --version | awk 'NR==1 {print $2}')" \
        "$version" "$bin"
    printf -- '- image: debootstrap --variant=minbase bookworm, %s tar entries, one layer of %s bytes gzip (%.1f MB; skopeo'\''s), %s bytes unpacked; registry 127.0.0.1, plain http\n' \
        "$files" "$layer_size" "$(echo "$layer_size" | awk '{print $1 / 1e6}')" "$unpacked"
    printf -- '- pushed: the store holds the layer plain (%s); cc-push gzips it on every core while it uploads it (%s bytes; its record of the copy removed before every cc-push run, kept for cc-push (copy kept)), skopeo gzips it on the way (%s bytes)\n' \
        "$src_layer" "$(python3 -c 'import json,sys; print(next(iter(json.load(open(sys.argv[1])).values()))["gzip"]["size"])' "$CC_ROOT/compressed.json" 2>/dev/null || echo '?')" "$layer_size"
    printf -- '- bench/pull.sh: %s rounds, interleaved, after %s warm-up round(s); every run into an empty store (pushes: an emptied registry), removed and synced after it, untimed\n\n' \
        "$N" "$WARMUP"
    printf '%s\n' "$table"
    cat "$profile"
} >>"$results"
say "appended to $results"
