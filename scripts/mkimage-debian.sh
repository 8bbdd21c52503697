#!/usr/bin/env bash
# Makes a Debian minbase image with debootstrap from Debian's own mirror
# configuration on this machine (apt's sources), then imports it.
#   usage: scripts/mkimage-debian.sh [NAME] [SUITE]   (default: debian bookworm)
set -euo pipefail
name=${1:-debian}
suite=${2:-bookworm}
command -v debootstrap >/dev/null || { echo "mkimage-debian: apt-get install debootstrap" >&2; exit 1; }
# Only files apt reads (*.list, *.sources), and only Debian's own archive.
shopt -s nullglob
lists=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
sources=(/etc/apt/sources.list.d/*.sources)
mirror=$( { grep -hoE '^deb +(\[[^]]*\] +)?https?://[^ ]+' "${lists[@]}" 2>/dev/null | awk '{print $NF}'
            grep -hoE '^URIs: *https?://[^ ]+' "${sources[@]}" 2>/dev/null | awk '{print $2}'; } \
    | grep -v -e security -e updates | grep -m1 -i debian || true)
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase "$suite" "$root" "$mirror" >&2
cc-import -c 'CMD ["/bin/bash"]' "$root" "$name"
