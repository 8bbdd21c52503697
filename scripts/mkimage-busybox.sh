#!/usr/bin/env bash
# Makes the base image from Debian's busybox-static: a root folder with
# /bin/busybox, one symlink per applet, /etc/passwd and /etc/group, then
# `cc-import` of that folder. Prints the image id.
#   usage: scripts/mkimage-busybox.sh [NAME]        (default: base)
set -euo pipefail
name=${1:-base}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkimage-busybox: $bb missing: apt-get install busybox-static" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,root,tmp,home/user,var/tmp,proc,sys,dev}
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000::/home/user:/bin/sh
P
cat > "$root/etc/group" <<'G'
root:x:0:
users:x:100:user
user:x:1000:
nogroup:x:65534:
G
chown 1000:1000 "$root/home/user"
cc-import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' "$root" "$name"
