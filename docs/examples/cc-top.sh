# EXAMPLES of cc-top(1), shown in its man page; tests/readme.rs runs them.

# A container's processes, with their host pids.
cc-run -d --name web base sleep 1d
cc-top web

# With ps(1) options of your own.
cc-top web -o pid,comm
