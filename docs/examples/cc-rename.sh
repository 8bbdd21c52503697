# EXAMPLES of cc-rename(1), shown in its man page; tests/readme.rs runs them.

# Give a container another name; the old one is free again.
cc-run -d --name web base sleep 1d
cc-rename web frontend
cc-ps --filter name=frontend
cc-run -d --name web base sleep 1d
