# EXAMPLES of cc-cp(1), shown in its man page; tests/readme.rs runs them.

# Copy a file out of a container, and into it.
cc-run -d --name web base sleep 1d
cc-cp web:/etc/passwd passwd
cc-cp passwd web:/tmp/passwd

# A whole folder, keeping owners (-a); a link's target rather than the link (-L).
cc-cp -a web:/etc etc-copy
cc-cp -L web:/bin/sh sh-binary

# As a tar stream: into a container from stdin, out of it to stdout.
tar -c passwd | cc-cp - web:/tmp
cc-cp web:/etc - | tar -t
