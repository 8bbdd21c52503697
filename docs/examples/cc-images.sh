# EXAMPLES of cc-images(1), shown in its man page; tests/readme.rs runs them.

# Every image, newest first: REPOSITORY TAG IMAGE ID CREATED SIZE.
cc-images

# Only one repository, or only ids (for scripts).
cc-images base
cc-images -q

# With the digests registries named them by, and whole ids.
cc-images --digests --no-trunc

# Filters: images without a name, names that match a glob.
cc-images --filter dangling=true
cc-images --filter 'reference=ba*'

# Remove every image no name points to.
cc-images -q --filter dangling=true | cc-rmi -f -
