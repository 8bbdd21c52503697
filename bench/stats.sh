#!/usr/bin/env bash
# Resource use of many running containers: `cc-stats --no-stream` against
# `podman stats --no-stream`, one run, each store holding C running
# containers (`sleep`) of the benchmarks' busybox image with no network:
#
#   cc-stats --no-stream       C containers made by `cc-run -d --net none IMG sleep 3600`
#   podman stats --no-stream   C containers made by `podman run -d --network none IMG sleep 3600`
#
# Interleaved rounds (bench/harness.py), medians; prints a markdown table
# and appends it to bench/RESULTS.md. Target: cc-stats ≤ 0.2× podman stats.
#
# usage: bench/stats.sh [N]     (N rounds, default 20; or N=...)
#        C=50 containers; CC_BIN=DIR uses the cc programs in DIR;
#        BUILD=0 skips the build; WARMUP=2 by default.
set -euo pipefail

N=${1:-${N:-20}}
C=${C:-50}
WARMUP=${WARMUP:-2}
name=stats
. "$(dirname "$0")/common.sh"
[ -x "$bin/cc-stats" ] || die "no $bin/cc-stats"

say "starting $C cc containers"
for _ in $(seq "$C"); do "$bin/cc-run" -d --net none "$img" sleep 3600 >/dev/null; done
say "starting $C podman containers"
for _ in $(seq "$C"); do pm run -d --network none "$pimg" sleep 3600 >/dev/null; done
[ "$("$bin/cc-stats" --no-stream --format '{{.ID}}' | wc -l)" = "$C" ] ||
    die "cc-stats does not list $C containers"
[ "$(pm stats --no-stream --format '{{.ID}}' | wc -l)" = "$C" ] ||
    die "podman stats does not list $C containers"

tools=$work/tools.json
python3 - "$tools" "$bin" "${podman_args[@]}" <<'PY'
import json, sys
out, bin, *pa = sys.argv[1:]
json.dump({"cc-stats --no-stream": [f"{bin}/cc-stats", "--no-stream"],
           "podman stats --no-stream": ["podman", *pa, "stats", "--no-stream"]},
          open(out, "w"))
PY

say "measuring: $N interleaved rounds after $WARMUP warm-up rounds"
table=$(python3 "$here/harness.py" "$tools" "$N" "$WARMUP")
ratio=$(printf '%s\n' "$table" | awk -F'|' '
    $2 ~ /cc-stats/ { cc = $3 } $2 ~ /podman stats/ { pm = $3 }
    END { r = cc / pm; printf "%.3f (target ≤ 0.200: %s)", r, r <= 0.2 ? "met" : "NOT met" }')
table=$(printf '%s\n- cc-stats / podman stats, --no-stream (median): %s\n' "$table" "$ratio")
printf '%s\n' "$table"
{
    printf '\n## stats.sh: %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    machine_info
    printf -- '- %s running containers in each store (no network); N = %s rounds, interleaved\n\n' "$C" "$N"
    printf '%s\n' "$table"
} >>"$results"
say "appended to $results"
