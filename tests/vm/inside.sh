#!/bin/bash
# Runs inside the cgroup-v2 VM (tests/vm/run.sh), from /root/in: the test
# programs that `suites` names for this boot, as root with CI=true, against
# the cc programs in target/debug. Prints each program's results; exits 1
# when any failed.
export CI=true
export PATH=/root/in/target/debug:$PATH
# The VM's /tmp is a tmpfs, which has idmapped mounts only from Linux 6.3:
# the tests' stores go on the root filesystem (ext4), as /var/lib/cc would.
export TMPDIR=/var/tmp/cc-tests
mkdir -p "$TMPDIR"
# Emulated CPUs: waits for a condition may take several times longer.
export CC_TEST_TIME_SCALE=4
cd /root/in
mode=tiny
[ "$(cat /proc/1/comm)" = systemd ] && mode=systemd
echo "vm: $(uname -r), $mode init, $(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup"
./subids.sh >/dev/null
failed=0
while read -r m prog args; do
    case "$m" in ''|'#'*) continue ;; esac
    [ "$m" = "$mode" ] || continue
    exe=$(ls target/debug/deps/"${prog//-/_}"-* 2>/dev/null | head -1)
    [ -n "$exe" ] || { echo "vm: $prog: no test program"; failed=1; continue; }
    start=$(date +%s)
    # shellcheck disable=SC2086 # the arguments are words
    if "$exe" --test-threads=2 $args >"/tmp/$prog.out" 2>&1; then
        status=ok
    else
        status=FAILED
        failed=1
        # The failures' own lines, not the whole log.
        sed -n '/^failures:$/,$p' "/tmp/$prog.out" | grep -v '^ \+[0-9]*: \|^ \+at ' | head -150
    fi
    echo "vm: $prog $status in $(( $(date +%s) - start )) s: $(grep -E '^test result' "/tmp/$prog.out" | tail -1)"
done < suites
exit $failed
