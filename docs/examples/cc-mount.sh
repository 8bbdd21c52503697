# EXAMPLES of cc-mount(1), shown in its man page; tests/readme.rs runs them.

# An image's files, read-only, for the host's tools; cc-umount when done.
root=$(cc-mount base)
ls "$root/bin" | head -n 3
cc-umount "$root"

# A writable copy, on a scratch layer cc-umount throws away; then a container on it.
root=$(cc-mount --rw base)
echo hi > "$root/greeting"
cc-run --rm --rootfs "$root" cat /greeting
cc-umount "$root"

# A container's root, with its changes.
cc-run --name job base sh -c 'echo hi > /greeting'
cat "$(cc-mount job)/greeting"
cc-umount job
