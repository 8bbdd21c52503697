# EXAMPLES of cc-unpause(1), shown in its man page; tests/readme.rs runs them.

# Thaw a paused container.
cc-run -d --name web base sleep 1d
cc-pause web
cc-unpause web
cc-ps --filter status=running

# Thaw every paused container.
cc-ps -q --filter status=paused | cc-unpause -
