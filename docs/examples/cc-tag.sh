# EXAMPLES of cc-tag(1), shown in its man page; tests/readme.rs runs them.

# Another name for an image; the name moves from any image that had it.
cc-tag base base:1.36

# A name for a registry, then push under it.
cc-tag base localhost:5000/team/base:1
cc-push localhost:5000/team/base:1

# Name an image by its id.
cc-tag "$(cc-images -q base | head -n1)" mybase
