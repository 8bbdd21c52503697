# EXAMPLES of cc-umount(1), shown in its man page; tests/readme.rs runs them.

# Unmount what cc-mount printed.
root=$(cc-mount base)
cc-umount "$root"

# A writable mount: its scratch layer is thrown away.
root=$(cc-mount --rw base)
touch "$root/scratch"
cc-umount "$root"

# A container's root, by its name.
cc-run --name job base true
cc-mount job
cc-umount job
