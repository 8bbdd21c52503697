#!/usr/bin/env bash
# Gives the name `cc` a range of subordinate ids in /etc/subuid and
# /etc/subgid, for `cc-run --userns=auto`, unless it has one: 16,777,216 ids
# (256 containers of 65,536) starting past every range already there and
# past 100000. Safe to run again; prints the entries.
#   usage: sudo scripts/subids.sh
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "subids: run as root" >&2; exit 1; }
count=16777216
for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if ! grep -q '^cc:' "$f"; then
        start=$(awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 + $3 > m { m = $2 + $3 } END { printf "%d", m }' "$f")
        echo "cc:$start:$count" >>"$f"
    fi
    grep '^cc:' "$f" | sed "s|^|$f: |"
done
