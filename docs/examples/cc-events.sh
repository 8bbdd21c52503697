# EXAMPLES of cc-events(1), shown in its man page; tests/readme.rs runs them.

# What happened to one container in the last ten minutes, as docker prints events.
cc-run --rm --name once base sh -c 'exit 3' || echo "exited $?"
cc-events --since 10m --until 0s --filter container=once

# Only the containers that ended, with their exit codes, as JSON for jq.
cc-events --since 1h --until 0s --filter event=die --format json | jq -r '.Actor.Attributes | "\(.name) \(.exitCode)"'

# Follow new events for two seconds while a tag and an untag happen.
(sleep 0.5; cc-tag base base:copy; cc-rmi base:copy) &
cc-events --until "$(( $(date +%s) + 2 ))" --filter type=image
wait
