# EXAMPLES of cc-run(1), shown in its man page; tests/readme.rs runs them.

# Run a command in a new container, and remove the container when it ends.
cc-run --rm base echo hello

# An interactive shell: -i keeps stdin open, -t gives it a terminal; exit (or ctrl-d) ends it.
cc-run -it --rm base sh

# A web server in the background under a name, its port 80 published on the host's port 8080; -d prints the container's id.
cc-run -d --name web -p 8080:80 base sh -c 'echo hello > /tmp/index.html; exec httpd -f -p 80 -h /tmp'
curl -s localhost:8080/

# The current folder in the container, read-only, as the working folder.
cc-run --rm -v "$PWD:/src:ro" -w /src base ls -la

# An environment variable, a user, and limits on memory, CPU and processes.
cc-run --rm -e GREETING=hi -u 1000 -m 64m --cpus 0.5 --pids-limit 100 base sh -c 'echo $GREETING from $(id -un)'

# The command's exit status is cc-run's (125 when cc-run itself fails).
cc-run --rm base sh -c 'exit 3' || echo "exited $?"
