# EXAMPLES of cc-update(1), shown in its man page; tests/readme.rs runs them.

# Change a running container's limits: memory and CPUs.
cc-run -d --name web -m 64m base sleep 1d
cc-update -m 128m --cpus 1.5 web
cc-inspect -f '{{.HostConfig.Memory}}' web

# The process limit, and the restart policy from its next exit.
cc-update --pids-limit 200 --restart on-failure web
