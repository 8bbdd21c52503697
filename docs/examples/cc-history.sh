# EXAMPLES of cc-history(1), shown in its man page; tests/readme.rs runs them.

# How an image was made, newest layer first.
cc-run --name job base sh -c 'echo hi > /greeting'
cc-commit -m "add greeting" job hello:1
cc-history hello:1

# Whole commands and ids, or only the ids.
cc-history --no-trunc hello:1
cc-history -q hello:1

# As JSON lines, for jq.
cc-history --format json hello:1 | jq -er .CreatedBy
