# EXAMPLES of cc-stats(1), shown in its man page; tests/readme.rs runs them.

# One sample of each running container's CPU, memory, network, block I/O and processes.
cc-run -d --name web base sleep 1d
cc-stats --no-stream

# One container, as JSON for a script; -a includes stopped ones.
cc-stats --no-stream --format json web
cc-stats -a --no-stream
