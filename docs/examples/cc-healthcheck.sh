# EXAMPLES of cc-healthcheck(1), shown in its man page; tests/readme.rs runs them.

# Run a container's check now: exit 1 and "unhealthy" while it fails, then exit 0.
cc-run -d --name web --health-cmd 'test -e /tmp/up' --health-interval 1h base sleep 1d
cc-healthcheck web || echo "web is not up yet"
cc-exec web touch /tmp/up
cc-healthcheck web && cc-inspect -f '{{.State.Health.Status}}' web

# The last results as docker keeps them: start, end, exit code, output.
cc-inspect -f '{{json .State.Health.Log}}' web
