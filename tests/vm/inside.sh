#!/bin/bash
# Runs inside the cgroup-v2 VM (tests/vm/run.sh), from /root/in: every test
# program copied to target/debug/deps, as root with CI=true, against the
# cc programs in target/debug. Prints each program's results; exits 1 when
# any failed.
export CI=true
export PATH=/root/in/target/debug:$PATH
cd /root/in
echo "vm: $(uname -r), init $(cat /proc/1/comm), $(stat -fc %T /sys/fs/cgroup) at /sys/fs/cgroup"
./subids.sh >/dev/null
failed=0
for t in target/debug/deps/*; do
    name=$(basename "$t")
    start=$(date +%s)
    if "$t" --test-threads=2 >"/tmp/$name.out" 2>&1; then
        status=ok
    else
        status=FAILED
        failed=1
        # The failures' own lines, not the whole log.
        sed -n '/^failures:$/,$p' "/tmp/$name.out" | head -150
    fi
    echo "vm: ${name%-*} $status in $(( $(date +%s) - start )) s: $(grep -E '^test result' "/tmp/$name.out" | tail -1)"
done
exit $failed
