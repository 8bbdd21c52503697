# EXAMPLES of cc-diff(1), shown in its man page; tests/readme.rs runs them.

# What a container changed: A added, C changed, D deleted.
cc-run --name job base sh -c 'echo hi > /greeting; rm /etc/group; mkdir /data'
cc-diff job

# Only the deleted files, or as JSON lines for jq.
cc-diff job | grep '^D '
cc-diff --format json job | jq -er 'select(.Kind == "A") | .Path'
