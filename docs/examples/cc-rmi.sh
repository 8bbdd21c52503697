# EXAMPLES of cc-rmi(1), shown in its man page; tests/readme.rs runs them.

# Remove a name; the image goes when no name is left.
cc-tag base old:1
cc-rmi old:1

# Remove an image containers still use (they keep its layers).
cc-tag base used:1
cc-run --name job used:1 true
cc-rmi -f used:1

# Remove every image without a name.
cc-images -q --filter dangling=true | cc-rmi -f -
