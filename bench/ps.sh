#!/usr/bin/env bash
# Listing many containers: `cc-ps -a` against `podman ps -a`, one run, each
# store holding C exited (cc) or created (podman) containers of the
# benchmarks' busybox image:
#
#   cc-ps -a        C containers made by `cc-run --net none IMG true`
#   podman ps -a    C containers made by `podman create --network none IMG true`
#
# Interleaved rounds (bench/harness.py), medians; prints a markdown table
# and appends it to bench/RESULTS.md. Target: cc-ps ≤ 0.25× podman ps.
#
# usage: bench/ps.sh [N]     (N rounds, default 30; or N=...)
#        C=1000 containers; CC_BIN=DIR uses the cc programs in DIR;
#        BUILD=0 skips the build; WARMUP=3 by default.
set -euo pipefail

N=${1:-${N:-30}}
C=${C:-1000}
name=ps
. "$(dirname "$0")/common.sh"
[ -x "$bin/cc-ps" ] || die "no $bin/cc-ps"

say "making $C cc containers"
for _ in $(seq "$C"); do "$bin/cc-run" --net none "$img" true; done
say "making $C podman containers"
for _ in $(seq "$C"); do pm create -q --network none "$pimg" true >/dev/null; done
[ "$("$bin/cc-ps" -aq | wc -l)" = "$C" ] || die "cc-ps -a does not list $C containers"
[ "$(pm ps -aq | wc -l)" = "$C" ] || die "podman ps -a does not list $C containers"

tools=$work/tools.json
python3 - "$tools" "$bin" "${podman_args[@]}" <<'PY'
import json, sys
out, bin, *pa = sys.argv[1:]
json.dump({"cc-ps -a": [f"{bin}/cc-ps", "-a"],
           "podman ps -a": ["podman", *pa, "ps", "-a"]}, open(out, "w"))
PY

say "measuring: $N interleaved rounds after $WARMUP warm-up rounds"
table=$(python3 "$here/harness.py" "$tools" "$N" "$WARMUP")
ratio=$(printf '%s\n' "$table" | awk -F'|' '
    $2 ~ /cc-ps/ { cc = $3 } $2 ~ /podman ps/ { pm = $3 }
    END { r = cc / pm; printf "%.3f (target ≤ 0.250: %s)", r, r <= 0.25 ? "met" : "NOT met" }')
table=$(printf '%s\n- cc-ps -a / podman ps -a (median): %s\n' "$table" "$ratio")
printf '%s\n' "$table"
{
    printf '\n## ps.sh: %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_info
    printf -- '- %s containers in each store (cc: exited, podman: created); N = %s rounds, interleaved\n\n' "$C" "$N"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
