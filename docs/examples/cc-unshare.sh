# EXAMPLES of cc-unshare(1), shown in its man page; tests/readme.rs runs them.

# Be root in the user namespace cc uses (a user's own uid is 0 there).
cc-unshare id -u

# How the namespace maps ids: "0 UID 1" and the subordinate ranges.
cc-unshare cat /proc/self/uid_map
