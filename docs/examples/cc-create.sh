# EXAMPLES of cc-create(1), shown in its man page; tests/readme.rs runs them.

# Create a container without starting it: it takes cc-run's options and prints the id.
cc-create --name web -p 8080:80 base sh -c 'echo hello > /tmp/index.html; exec httpd -f -p 80 -h /tmp'
cc-ps -a --filter status=created

# Start it when it is needed.
cc-start web
curl -s localhost:8080/

# Create, then start attached: its output, and its exit code as cc-start's.
cc-create --name job base echo hi
cc-start -a job
