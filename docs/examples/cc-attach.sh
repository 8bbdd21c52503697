# EXAMPLES of cc-attach(1), shown in its man page; tests/readme.rs runs them.

# Attach to a background container's output; cc-attach exits with the container's code when it ends.
cc-run -d --name count base sh -c 'sleep 1; for i in 1 2 3; do echo $i; done; exit 2'
cc-attach count || echo "exited $?"

# Watch without sending it your input.
cc-run -d --name count2 base sh -c 'sleep 1; echo done'
cc-attach --no-stdin count2

# (not run: it waits for keys typed on a terminal) A shell started with -dit: attach, type, and detach with ctrl-p ctrl-q, or with keys of your own.
cc-run -dit --name shell base sh
cc-attach shell
cc-attach --detach-keys ctrl-x,x shell
