# EXAMPLES of cc-ps(1), shown in its man page; tests/readme.rs runs them.

# The running containers, newest first; -a lists the exited ones too.
cc-run -d --name web base sleep 1d
cc-run --name job base echo done
cc-ps
cc-ps -a

# Filters: by name, by image, by status or exit code (repeat a key for either value).
cc-ps -a --filter name=web --filter ancestor=base
cc-ps -a --filter exited=0
cc-ps --filter status=running --filter status=paused

# Only ids, for scripts: remove every exited container.
cc-rm $(cc-ps -aq --filter status=exited)

# The newest container, with its whole id and command; -n 3 for the three newest.
cc-ps -l --no-trunc
cc-ps -n 3
