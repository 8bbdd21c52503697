# EXAMPLES of cc-oci(1), shown in its man page; tests/readme.rs runs them.

# (not run: it pulls from Docker Hub) podman and containerd drive cc-oci as they drive runc.
podman --runtime "$(command -v cc-oci)" run --rm docker.io/library/busybox echo hi
ctr run --runc-binary "$(command -v cc-oci)" --rm docker.io/library/busybox:latest t1 echo hi

# A bundle by hand: a root folder (here the base image's files) and a default config.json, made to run sleep without a terminal.
root=$(cc-mount base)
mkdir -p bundle/rootfs && cp -a "$root/." bundle/rootfs/ && cc-umount "$root"
cd bundle && cc-oci spec
jq '.process.terminal = false | .process.args = ["sleep", "60"]' config.json > c.json && mv c.json config.json

# The life of a container, as runc's: create (set up, waiting), start, state, kill, delete.
cc-oci create c1
cc-oci start c1
cc-oci state c1 | jq -er .status
cc-oci kill c1 KILL
cc-oci delete -f c1

# create and start in one, in the foreground: cc-oci exits with the command's code and deletes the container, as runc run.
jq '.process.args = ["echo", "hello"]' config.json > c.json && mv c.json config.json
cc-oci run c2
