# EXAMPLES of cc-exec(1), shown in its man page; tests/readme.rs runs them.

# A command in a running container: its processes, seen from inside.
cc-run -d --name web base sleep 1d
cc-exec web ps

# An interactive shell in it (exit leaves the container running); its input ended, it ends too.
cc-exec -it web sh

# As another user, in another folder, with a variable.
cc-exec -u 1000 -w /tmp -e MODE=debug web sh -c 'id; pwd; echo $MODE'

# In the background: -d returns at once.
cc-exec -d web sh -c 'sleep 1; touch /tmp/done'
