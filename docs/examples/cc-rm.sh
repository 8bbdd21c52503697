# EXAMPLES of cc-rm(1), shown in its man page; tests/readme.rs runs them.

# Remove an exited container by name.
cc-run --name job base true
cc-rm job

# Remove a running container: -f kills it first.
cc-run -d --name web base sleep 1d
cc-rm -f web

# Remove every exited container.
cc-run base true
cc-rm $(cc-ps -aq --filter status=exited)

# Remove every container, from a pipe (- reads the ids from stdin).
cc-run -d base sleep 1d
cc-ps -aq | cc-rm -f -

# Remove a container with its anonymous volumes (named ones stay).
cc-run --name scratch -v /cache -v kept:/data base true
cc-rm -v scratch
cc-volume rm kept
