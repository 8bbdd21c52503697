#!/usr/bin/env bash
# The cgroup-v2 half of `make test`: the test files that touch cgroups, run
# inside a cgroup-v2-only Debian 12 VM (Debian's kernel 6.1; tests/vm/run.sh,
# QEMU without KVM) twice: under a tiny init (cgroupfs) and under systemd
# (containers in transient scopes), the test programs tests/vm/suites names
# for each. The tests are built here and copied in.
#   V2_MODES="tiny systemd"     which boots
set -euo pipefail
cd "$(dirname "$0")/.."
modes=${V2_MODES:-tiny systemd}
suites=$(awk '!/^#/ && NF { print $2 }' tests/vm/suites | sort -u)

args=()
for s in $suites; do args+=(--test "$s"); done
cargo build --workspace --bins
exes=$(cargo test -p cc-tests --no-run --message-format=json "${args[@]}" |
       grep -o '"executable":"[^"]*"' | sed 's/"executable":"//; s/"$//')

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/target/debug/deps"
for p in target/debug/cc-*; do
    case "$p" in *.d) ;; *) cp "$p" "$stage/target/debug/" ;; esac
done
for e in $exes; do cp "$e" "$stage/target/debug/deps/"; done
cp tests/vm/suites "$stage/suites"

# One package list for both boots, so the VM's cached root serves both
# (run.sh adds systemd-sysv for MODE=systemd; give it to the tiny boot too).
# dbus and libpam-systemd: a user's systemd (user@UID.service) for the
# rootless cgroup tests, and the system bus it asks to move processes.
extra="gcc libc6-dev dbus libpam-systemd"
rc=0
log=$stage/vm.log
for mode in $modes; do
    echo "test-v2: $mode init: $(awk -v m=$mode '$1 == m { printf "%s ", $2 }' tests/vm/suites)"
    start=$(date +%s)
    if [ "$mode" = systemd ]; then
        MODE=systemd VM_PACKAGES="$extra" VM_TIMEOUT=${VM_TIMEOUT:-1500} \
            tests/vm/run.sh tests/vm/inside.sh "$stage/target" "$stage/suites" scripts/subids.sh | tee -a "$log" || rc=1
    else
        VM_PACKAGES="systemd-sysv $extra" VM_TIMEOUT=${VM_TIMEOUT:-1500} \
            tests/vm/run.sh tests/vm/inside.sh "$stage/target" "$stage/suites" scripts/subids.sh | tee -a "$log" || rc=1
    fi
    echo "test-v2: $mode init done in $(( $(date +%s) - start )) s"
done
# One closing line for both boots, as the host suite's runner prints.
counts=$( (grep -o '[0-9]* passed; [0-9]* failed' "$log" || true) |
    awk '{p += $1; f += $3} END {printf "%d passed, %d failed", p, f}')
[ $rc -eq 0 ] || echo "test-v2: FAILED on cgroup v2 (see above)"
echo "cgroup-v2: $counts"
exit $rc
