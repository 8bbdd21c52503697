#!/usr/bin/env bash
# Logging cost: a detached container writes 256 MB of 100-character lines
# (`head -c 268435456 /dev/zero | tr '\0' x | fold -w 100`, 2,684,355 lines
# counting the last, partial one) to its stdout, timed from `run -d` until
# `wait` returns; side by side in one run:
#
#   cc-run logged        cc-run -d IMG sh -c CMD; cc-wait ID     (ctr.log)
#   cc-run >/dev/null    the same with CMD > /dev/null inside
#   podman logged        podman run -d IMG sh -c CMD; podman wait ID  (conmon, k8s-file)
#   podman >/dev/null    the same with CMD > /dev/null inside
#
# Removal (cc-rm, podman rm) is not timed, nor is the `sync` after every
# run: each run starts with no dirty pages left by the one before (each
# logged run writes about 450 MB), so no run pays for another's writeback. The first round is a warm-up
# that also checks cc's ctr.log: 2,684,355 lines, the last one partial.
# Prints a markdown table and appends it to bench/RESULTS.md.
#
# usage: bench/logging.sh [N]     (N rounds, default 3; or N=...)
#        CC_BIN=DIR uses the cc programs in DIR; BUILD=0 skips the build;
#        WARMUP=1 by default; PROFILE=1 adds an untimed cc run under
#        `strace -c -f` and `perf stat` of the monitor.
set -euo pipefail

N=${1:-${N:-3}}
WARMUP=${WARMUP:-1}
name=logging
. "$(dirname "$0")/common.sh"

cmd="head -c 268435456 /dev/zero | tr '\\0' x | fold -w 100"
lines=2684355
log_check='f=$CC_ROOT/containers/$1/ctr.log; n=$(wc -l <"$f")
[ "$n" = '$lines' ] || { echo "ctr.log has $n lines, not '$lines'" >&2; exit 1; }
tail -n 1 "$f" | grep -q "\"partial\":true}\$" || { echo "the last line of ctr.log is not partial" >&2; exit 1; }
head -n 1 "$f" | grep -Eq "\"log\":\"x{100}\"}\$" || { echo "the first line of ctr.log is not 100 x" >&2; exit 1; }
echo "ctr.log: $n lines (expected '$lines'), the last one partial, $(stat -c %s "$f") bytes"'

tools=$work/tools.json
python3 - "$tools" "$bin" "$img" "$pimg" "$pod_parent" "$pod_cpu" "$cmd" "$log_check" "${podman_args[@]}" <<'PY'
import json, sys
out, bin, img, pimg, pod_parent, pod_cpu, cmd, log_check, *pa = sys.argv[1:]
devnull = f"{{ {cmd}; }} > /dev/null"
cc = lambda c: {"start": [f"{bin}/cc-run", "-d", "--log-max-size", "0", img, "sh", "-c", c],
                "wait": [f"{bin}/cc-wait", "{cid}"],
                "after": [[f"{bin}/cc-rm", "{cid}"], ["sync"]]}
pm = lambda c: {"start": ["podman", *pa, "run", "-d", "--network", "none",
                          *(["--cgroup-parent", pod_parent] if pod_parent else []),
                          "--log-driver", "k8s-file", pimg, "sh", "-c", c],
                "wait": ["podman", *pa, "wait", "{cid}"],
                "after": [["podman", *pa, "rm", "{cid}"], ["sync"]],
                "cpu": [pod_cpu] if pod_cpu else []}
tools = {"cc-run logged": cc(cmd), "cc-run >/dev/null": cc(devnull),
         "podman logged": pm(cmd), "podman >/dev/null": pm(devnull)}
tools["cc-run logged"]["check"] = [["sh", "-c", log_check, "sh", "{cid}"]]
json.dump(tools, open(out, "w"))
PY

say "measuring: $N rounds of each, interleaved, after $WARMUP warm-up round(s)"
table=$(CPU_CGROUP=$cpu_cg python3 "$here/rounds.py" "$tools" "$N" "$WARMUP" \
    "cc-run logged|cc-run >/dev/null|1.2" "cc-run logged|podman logged|0.6" \
    "podman logged|podman >/dev/null|")
printf '%s\n' "$table"

profile=
if [ "${PROFILE:-0}" != 0 ]; then
    # One more logged run, its monitor traced from the start: cc-run -d
    # returns once the command runs, so attach to the monitor right away and
    # let the container's first output wait in the pipe meanwhile.
    say "profiling one logged cc run (strace -c -f, perf stat)"
    id=$("$bin/cc-run" -d "$img" sh -c "sleep 1; $cmd")
    mon=$(pgrep -f "cc-run \\[monitor\\] ${id:0:12}")
    strace -c -f -p "$mon" -o "$work/strace.txt" &
    st=$!
    perf stat -p "$mon" -o "$work/perf.txt" 2>/dev/null &
    pf=$!
    "$bin/cc-wait" "$id" >/dev/null
    wait "$st" || true
    kill -INT "$pf" 2>/dev/null || true
    wait "$pf" || true
    "$bin/cc-rm" "$id" >/dev/null
    profile=$(printf '\nstrace -c -f -p MONITOR (one logged run):\n\n```\n%s\n```\n' "$(head -n 20 "$work/strace.txt")"
        [ -s "$work/perf.txt" ] && printf '\nperf stat -p MONITOR:\n\n```\n%s\n```\n' "$(grep -v '^$' "$work/perf.txt" | head -n 20)")
    printf '%s\n' "$profile"
fi

{
    printf '\n## Logging cost, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_info
    printf -- '- bench/logging.sh: %s rounds, interleaved, after %s warm-up round(s); ' "$N" "$WARMUP"
    printf 'each run writes 256 MB of 100-character lines to stdout; time from `run -d` to `wait` returning\n\n'
    printf '%s\n' "$table"
    printf '%s\n' "$profile"
} >>"$results"
say "appended to $results"
