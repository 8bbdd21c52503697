# EXAMPLES of cc-stop(1), shown in its man page; tests/readme.rs runs them.

# Stop a container: SIGTERM (or the image's StopSignal), then SIGKILL after 10 seconds. --init runs a small init as pid 1 that passes the signal on (a pid 1 without a handler ignores SIGTERM).
cc-run -d --init --name web base httpd -f -p 80
cc-stop web

# A shorter grace period: SIGKILL after 2 seconds (sleep ignores SIGTERM as pid 1).
cc-run -d --name job base sleep 1d
cc-stop -t 2 job

# Stop every running container.
cc-run -d --init base sleep 1d
cc-ps -q | cc-stop -
