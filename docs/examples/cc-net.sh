# EXAMPLES of cc-net(1), shown in its man page; tests/readme.rs runs them.

# Give any process a network: a veth on the store's bridge and an address (cc-net prints it).
unshare --net sleep 1000 & pid=$!
sleep 1   # until unshare has made its namespace
cc-net attach --pid $pid
cc-net ls
cc-net detach --pid $pid
kill $pid

# Repair: remove what killed monitors left, and restore cc's nftables table after a flush.
cc-net gc
cc-net reload

# Remove the store's bridge and nftables table (when no container runs).
cc-net destroy
