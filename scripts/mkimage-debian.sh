#!/usr/bin/env bash
# Makes a Debian minbase image with debootstrap from Debian's own mirror
# configuration on this machine (apt's sources), then imports it.
#   usage: scripts/mkimage-debian.sh [NAME] [SUITE]   (default: debian bookworm)
set -euo pipefail
name=${1:-debian}
suite=${2:-bookworm}
command -v debootstrap >/dev/null || { echo "mkimage-debian: apt-get install debootstrap" >&2; exit 1; }
mirror=$(grep -rhoE '^deb +(\[[^]]*\] +)?https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | awk '{print $NF}' | head -n1)
if [ -z "$mirror" ]; then
    mirror=$(grep -rhoE '^URIs: *https?://[^ ]+' /etc/apt/sources.list.d/ 2>/dev/null | awk '{print $2}' | head -n1)
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase "$suite" "$root" "$mirror" >&2
cc-import -c 'CMD ["/bin/bash"]' "$root" "$name"
