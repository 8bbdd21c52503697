#!/usr/bin/env bash
# bench/start-latency.sh inside the cgroup-v2 VM (tests/vm/run.sh, Debian's
# kernel 6.1 under QEMU's software emulation): cc-run against runc in the
# same run (podman is not in the VM). Under emulation only the ratios mean
# anything. MODE=systemd boots systemd (cc-run then makes systemd scopes,
# runc stays on cgroupfs as `runc run` without --systemd-cgroup does).
#   usage: bench/start-latency-v2.sh [N]      (default 30)
# Uses the release binaries (built first unless BUILD=0) and a VM root of
# its own (python3 added) in ${TMPDIR:-/tmp}/cc-vm-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30}
[ "${BUILD:-1}" = 0 ] || cargo build --quiet --release --workspace --bins
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"
for p in target/release/cc-*; do
    case "$p" in *.d) ;; *) cp "$p" "$stage/bin/" ;; esac
done
cp -r bench "$stage/bench"
cat >"$stage/run-bench.sh" <<INNER
#!/bin/bash
cd /root/in
export TMPDIR=/var/tmp CC_BIN=/root/in/bin BUILD=0
echo "vm: \$(uname -r), init \$(cat /proc/1/comm), \$(stat -fc %T /sys/fs/cgroup)"
bench/start-latency.sh $N
INNER
chmod +x "$stage/run-bench.sh"
VM_WORK=${VM_WORK:-${TMPDIR:-/tmp}/cc-vm-bench} VM_PACKAGES="python3" VM_TIMEOUT=1800 \
    tests/vm/run.sh "$stage/run-bench.sh" "$stage/bin" "$stage/bench"
