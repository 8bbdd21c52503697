# EXAMPLES of cc-load(1), shown in its man page; tests/readme.rs runs them.

# Load what docker save, podman save or cc-save wrote: prints "Loaded image: NAME".
cc-save -o base.tar base
cc-load -i base.tar

# From stdin, compressed or not; -q prints only the ids.
gzip -c base.tar | cc-load -q

# Straight from another store: cc-save base | ssh host cc-load works the same.
cc-save base | cc-load
