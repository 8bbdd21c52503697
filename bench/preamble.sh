# The start of every benchmark script (bench/common.sh sources it too);
# sourced, not run. Before sourcing set `name` (for messages), `needs` (host
# programs beyond python3 and busybox) and, to go without busybox,
# `no_busybox=1`. Gives: $N, $WARMUP, $here, $top,
# $results, say, die, $busybox (static), and $bin with the release
# programs: $CC_BIN, else built first unless BUILD=0.
N=${1:-${N:-50}}
WARMUP=${WARMUP:-3}
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
results=$here/RESULTS.md

say() { printf '%s: %s\n' "$name" "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (namespaces, mounts, cgroups)"
for p in python3 $needs; do
    command -v "$p" >/dev/null || die "needs $p"
done
if [ -z "${no_busybox:-}" ]; then
    busybox=$(command -v busybox) || die "needs busybox (Debian: busybox-static)"
    if ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is dynamically linked; install busybox-static"
    fi
fi

if [ -n "${CC_BIN:-}" ]; then
    bin=$CC_BIN
else
    if [ "${BUILD:-1}" != 0 ]; then
        say "building release binaries"
        (cd "$top" && cargo build --quiet --release --workspace --bins)
    fi
    target=${CARGO_TARGET_DIR:-$top/target}
    case $target in /*) ;; *) target=$top/$target ;; esac
    bin=$target/release
fi
case $bin in /*) ;; *) bin=$(cd "$bin" && pwd) ;; esac

# The benchmarks' image: the static busybox, one symlink per applet, an
# /etc/passwd and /etc/group with root, in the folder $1.
busybox_rootfs() {
    mkdir -p "$1"/{bin,etc,proc,sys,dev,tmp,root}
    cp "$busybox" "$1/bin/busybox"
    for applet in $("$busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$1/bin/$applet"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$1/etc/passwd"
    echo 'root:x:0:' >"$1/etc/group"
}
