# EXAMPLES of cc-inspect(1), shown in its man page; tests/readme.rs runs them.

# Everything about a container, as a JSON array as docker inspect prints it.
cc-run -d --name web base sleep 1d
cc-inspect web

# One field, with a template as docker's -f: the main process, the address.
cc-inspect -f '{{.State.Pid}}' web
cc-inspect -f '{{.NetworkSettings.IPAddress}}' web

# An image: its layers, its command.
cc-inspect --type image -f '{{.RootFS.Layers}}' base
cc-inspect -f '{{.Config.Cmd}}' base

# Several objects at once, read with jq.
cc-inspect web base | jq -er '.[].Id'
