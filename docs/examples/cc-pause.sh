# EXAMPLES of cc-pause(1), shown in its man page; tests/readme.rs runs them.

# Freeze every process of a container (the cgroup freezer); cc-ps shows it Paused.
cc-run -d --name web base sleep 1d
cc-pause web
cc-ps --filter status=paused
cc-unpause web

# Pause every running container.
cc-run -d base sleep 1d
cc-ps -q | cc-pause -
