# EXAMPLES of cc-pull(1), shown in its man page; tests/readme.rs runs them. localhost:5000 is a registry on loopback (Debian's docker-registry).

# (not run: it reaches Docker Hub) Short names are Docker Hub's: this is docker.io/library/busybox:latest. --platform picks one of a multi-platform image.
cc-pull busybox
cc-pull --platform linux/arm64 alpine:3.20

# Pull from a registry of your own; cc-pull prints the image id, which cc-run takes.
cc-push base localhost:5000/team/base:1
cc-pull localhost:5000/team/base:1

# By digest, the name that never moves: it runs by that name too.
digest=$(cc-push base localhost:5000/team/base:2)
cc-pull -q localhost:5000/team/base@$digest
cc-run --rm localhost:5000/team/base@$digest echo pinned

# With credentials for this pull only (the password from stdin).
echo "$REGISTRY_PASSWORD" | cc-pull --creds me --password-stdin localhost:5000/team/base:1
