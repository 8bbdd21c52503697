# EXAMPLES of cc-kill(1), shown in its man page; tests/readme.rs runs them.

# Kill a container's main process (SIGKILL); cc-wait then prints 137 (128+9).
cc-run -d --name job base sleep 1d
cc-kill job
cc-wait job

# Another signal, by name (TERM, SIGTERM) or number; --init runs a small init as pid 1 that passes it on to the command.
cc-run -d --init --name web base httpd -f -p 80
cc-kill -s TERM web
cc-wait web

# Kill every running container.
cc-run -d base sleep 1d
cc-ps -q | cc-kill -
