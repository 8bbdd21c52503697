#!/usr/bin/env bash
# Latency of a detached container running `true`, from `run -d` until
# `wait` returns; side by side in one run:
#
#   cc-run -d + cc-wait     cc-run -d IMG true; cc-wait ID
#   podman run -d + wait    podman run -d --network none IMG true; podman wait ID
#
# Removal (cc-rm, podman rm) is not timed. Prints a markdown table and
# appends it to bench/RESULTS.md.
#
# usage: bench/detach-wait.sh [N]   (N runs of each, default 30; or N=...)
#        CC_BIN=DIR uses the cc programs in DIR; BUILD=0 skips the build;
#        WARMUP=3 by default.
set -euo pipefail

N=${1:-${N:-30}}
WARMUP=${WARMUP:-3}
name=detach-wait
. "$(dirname "$0")/common.sh"

tools=$work/tools.json
python3 - "$tools" "$bin" "$img" "$pimg" "$pod_parent" "$pod_cpu" "${podman_args[@]}" <<'PY'
import json, sys
out, bin, img, pimg, pod_parent, pod_cpu, *pa = sys.argv[1:]
tools = {
    "cc-run -d + cc-wait": {
        "start": [f"{bin}/cc-run", "-d", img, "true"],
        "wait": [f"{bin}/cc-wait", "{cid}"],
        "after": [[f"{bin}/cc-rm", "{cid}"]]},
    "podman run -d + podman wait": {
        "start": ["podman", *pa, "run", "-d", "--network", "none",
                  *(["--cgroup-parent", pod_parent] if pod_parent else []), pimg, "true"],
        "wait": ["podman", *pa, "wait", "{cid}"],
        "after": [["podman", *pa, "rm", "{cid}"]],
        "cpu": [pod_cpu] if pod_cpu else []},
}
json.dump(tools, open(out, "w"))
PY

say "measuring: $N runs of each, interleaved, after $WARMUP warm-up runs"
table=$(CPU_CGROUP=$cpu_cg python3 "$here/rounds.py" "$tools" "$N" "$WARMUP" \
    "cc-run -d + cc-wait|podman run -d + podman wait|")
printf '%s\n' "$table"

{
    printf '\n## cc-run -d + cc-wait latency, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_info
    printf -- '- bench/detach-wait.sh: N = %s runs of each, interleaved, %s warm-up runs; a container running `true`, time from `run -d` to `wait` returning\n\n' "$N" "$WARMUP"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
