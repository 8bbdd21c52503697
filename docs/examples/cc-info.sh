# EXAMPLES of cc-info(1), shown in its man page; tests/readme.rs runs them.

# The store, the cgroup setup and the kernel features cc uses: the first thing to run on a new machine.
cc-info

# As JSON, for a script: which cgroup version.
cc-info --format json | jq -er .cgroup_version

# Another store.
cc-info --root "$PWD/other-store"
