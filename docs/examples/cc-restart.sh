# EXAMPLES of cc-restart(1), shown in its man page; tests/readme.rs runs them.

# Restart a running container: stop it, then start it again in the background.
cc-run -d --init --name web base httpd -f -p 80
cc-restart web

# With a shorter grace period before SIGKILL.
cc-restart -t 1 web

# Restart every running container.
cc-ps -q | cc-restart -
